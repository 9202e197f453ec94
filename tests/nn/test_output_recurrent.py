"""The output-recurrent network of Goodfellow et al. figure 10.4 (``bptt.nn.output_recurrent``).

Teacher-forced, its gradient is a sum of per-step local gradients: float64 central differences,
PyTorch autograd on the same weights to 1e-10, the unrolled network that reads the true
previous outputs as inputs (a SimpleRNN with W_hh = 0 reading [x(t); y(t-1)]), each step's term
alone, and a step's term unchanged by later steps' inputs (where BPTT's is not). Free-running:
the greedy replay, and the gradient that a free-running softmax feedback would need (BPTT)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bptt
from bptt.nn import output_recurrent as orn

RTOL = 1e-10


def problem(T, B, I, H, O, seed, ids=True, mask=True):
    rng = np.random.default_rng(seed)
    params = orn.init_params(I, H, O, seed=seed)
    for v in params.values():                     # weights large enough that tanh is not linear
        v *= 3
    x = rng.integers(0, I, size=(T, B)) if ids else rng.standard_normal((T, B, I))
    y = rng.integers(0, O, size=(T, B))
    m = (rng.random((T, B)) < 0.7).astype(float) if mask else None
    return params, x, y, m


def central_differences(params, x, f, y, mask, eps=1e-5):
    num = {}
    for name, v in params.items():
        g = np.zeros_like(v)
        for i in np.ndindex(v.shape):
            old = v[i]
            v[i] = old + eps
            up = orn.loss(params, x, f, y, mask)
            v[i] = old - eps
            down = orn.loss(params, x, f, y, mask)
            v[i] = old
            g[i] = (up - down) / (2 * eps)
        num[name] = g
    return num


def worst(grads, num):
    return max(np.abs(grads[k] - num[k]).max() for k in num)


@pytest.mark.parametrize("ids", [True, False], ids=["token-ids", "vectors"])
def test_central_differences_every_parameter(ids):
    params, x, y, mask = problem(6, 3, 4, 5, 4, seed=1, ids=ids)
    f = orn.teacher_feedback(y, 4)
    L, grads, _, _ = orn.backward(params, orn.forward(params, x, f), y, mask)
    assert L == pytest.approx(orn.loss(params, x, f, y, mask), rel=1e-14)
    assert set(grads) == {"U", "W", "b", "V", "c"}
    assert worst(grads, central_differences(params, x, f, y, mask)) < 1e-8


def test_a_wrong_gradient_fails_the_check():
    """A backward that carried dL/dh(t+1) back through W as if the recurrence were hidden-to-hidden
    (or that forgot tanh') is caught by the same comparison."""
    params, x, y, mask = problem(6, 3, 4, 5, 4, seed=2)
    f = orn.teacher_feedback(y, 4)
    trace = orn.forward(params, x, f)
    _, grads, errors, _ = orn.backward(params, trace, y, mask)
    num = central_differences(params, x, f, y, mask)
    assert worst(grads, num) < 1e-8
    wrong = dict(grads)
    wrong["W"] = np.einsum("tbh,tbo->ho", errors["h"], trace.f)         # tanh' left out
    assert worst(wrong, num) > 1e-3


def torch_loss(torch, params, x_onehot, f, y, mask, feedback=None):
    """The figure's network in torch, one step at a time. feedback None: f is data (teacher forcing);
    "softmax": f(t) = softmax(o(t-1)) in the graph (free-running, gradients through time)."""
    P = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    xt = torch.tensor(x_onehot)
    ft = torch.tensor(f)
    T, B = y.shape
    total = 0
    prev = None
    for t in range(T):
        fb = ft[t] if feedback is None or t == 0 else torch.softmax(prev, dim=-1)
        h = torch.tanh(P["b"] + fb @ P["W"].T + xt[t] @ P["U"].T)
        o = P["c"] + h @ P["V"].T
        prev = o
        l = torch.nn.functional.cross_entropy(o, torch.tensor(y[t]), reduction="none")
        total = total + (l * torch.tensor(mask[t])).sum()
    total = total / B
    total.backward()
    return float(total.detach()), {k: v.grad.numpy() for k, v in P.items()}


def onehot(x, n):
    return np.eye(n)[x]


def check_against_torch(T, B, I, H, O, seed):
    torch = pytest.importorskip("torch")
    params, x, y, mask = problem(T, B, I, H, O, seed)
    f = orn.teacher_feedback(y, O)
    L, grads, _, _ = orn.backward(params, orn.forward(params, x, f), y, mask)
    Lt, gt = torch_loss(torch, params, onehot(x, I), f, y, mask)
    assert L == pytest.approx(Lt, rel=RTOL, abs=1e-12)
    for k in grads:
        np.testing.assert_allclose(grads[k], gt[k], rtol=RTOL, atol=1e-12, err_msg=k)


def test_torch_autograd_on_the_same_weights():
    check_against_torch(7, 3, 4, 6, 5, seed=3)


@settings(max_examples=15, deadline=None)
@given(T=st.integers(1, 6), B=st.integers(1, 4), I=st.integers(1, 5), H=st.integers(1, 6), O=st.integers(2, 5),
       seed=st.integers(0, 2**16))
def test_torch_autograd_drawn_shapes(T, B, I, H, O, seed):
    check_against_torch(T, B, I, H, O, seed)


def test_equals_the_unrolled_network_fed_the_true_previous_outputs():
    """A SimpleRNN with no hidden-to-hidden weights (W_hh = 0) reading [x(t); onehot(y(t-1))]
    through U' = [U | W] is the same function; BPTT through it gives the same U, W, b, V, c."""
    T, B, I, H, O = 6, 3, 4, 5, 4
    params, x, y, mask = problem(T, B, I, H, O, seed=4)
    f = orn.teacher_feedback(y, O)
    _, grads, _, _ = orn.backward(params, orn.forward(params, x, f), y, mask)
    net = bptt.SimpleRNN(I + O, H, O, seed=0)
    net.set_params({"U": np.hstack([params["U"], params["W"]]), "W": np.zeros((H, H)), "b": params["b"],
                    "V": params["V"], "c": params["c"]})
    inputs = np.concatenate([onehot(x, I), f], axis=-1)                # (T, B, I + O)
    unrolled = net.gradients(inputs, y, mask=mask).grads
    np.testing.assert_allclose(grads["U"], unrolled["U"][:, :I], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads["W"], unrolled["U"][:, I:], rtol=1e-12, atol=1e-15)
    for k in ("b", "V", "c"):
        np.testing.assert_allclose(grads[k], unrolled[k], rtol=1e-12, atol=1e-15, err_msg=k)


def test_the_gradient_is_a_sum_of_local_step_gradients():
    """Each step's term is the gradient of that step's loss computed from that step alone."""
    T, B, I, H, O = 6, 3, 4, 5, 4
    params, x, y, mask = problem(T, B, I, H, O, seed=5)
    f = orn.teacher_feedback(y, O)
    trace = orn.forward(params, x, f)
    _, grads, errors, _ = orn.backward(params, trace, y, mask)
    terms = orn.step_gradients(params, trace, y, mask)
    for k in grads:
        np.testing.assert_allclose(terms[k].sum(axis=0), grads[k], rtol=1e-12, atol=1e-15, err_msg=k)
    for t in range(T):
        one = slice(t, t + 1)
        _, alone, _, _ = orn.backward(params, orn.forward(params, x[one], f[one]), y[one], mask[one])
        for k in grads:
            np.testing.assert_allclose(terms[k][t], alone[k], rtol=1e-12, atol=1e-15, err_msg=f"{k} at {t}")
    # dL/dh(t) is V^T dL/do(t) alone: no error carried from step t+1
    np.testing.assert_array_equal(errors["h"], errors["o"] @ params["V"])


def test_a_step_gradient_ignores_later_steps_where_bptt_does_not():
    """Teacher-forced, changing the inputs and targets after step t leaves step t's gradient term
    as it was, to the bit. The same change moves step t's term of a SimpleRNN's BPTT gradient
    (the errors carried back from later steps), so the check can fail."""
    T, B, I, H, O, t = 8, 3, 4, 5, 4, 3
    params, x, y, _ = problem(T, B, I, H, O, seed=6, mask=False)
    x2, y2 = x.copy(), y.copy()
    rng = np.random.default_rng(60)
    x2[t + 1:] = rng.integers(0, I, size=x2[t + 1:].shape)
    y2[t + 1:] = (y2[t + 1:] + 1 + rng.integers(0, O - 1, size=y2[t + 1:].shape)) % O
    terms = [orn.step_gradients(params, orn.forward(params, xs, orn.teacher_feedback(ys, O)), ys)
             for xs, ys in ((x, y), (x2, y2))]
    for k in terms[0]:
        np.testing.assert_array_equal(terms[0][k][:t + 1], terms[1][k][:t + 1], err_msg=k)
        assert not np.array_equal(terms[0][k][t + 1:], terms[1][k][t + 1:]), k
    net = bptt.SimpleRNN(I, H, O, seed=6)
    bptt_terms = [net.gradients(xs, ys, per_step=True).per_step for xs, ys in ((x, y), (x2, y2))]
    assert not np.allclose(bptt_terms[0]["W"][t], bptt_terms[1]["W"][t])


def test_free_running_feeds_back_its_own_greedy_tokens():
    T, B, I, H, O = 7, 4, 4, 6, 5
    params, x, y, _ = problem(T, B, I, H, O, seed=7, mask=False)
    run = orn.free_run(params, x)
    tokens = run.o.argmax(-1)
    np.testing.assert_array_equal(run.f[0], 0)
    np.testing.assert_array_equal(run.f[1:], onehot(tokens[:-1], O))
    replay = orn.forward(params, x, run.f)                     # teacher forcing fed its own tokens
    np.testing.assert_allclose(replay.o, run.o, rtol=1e-13, atol=1e-14)
    soft = orn.free_run(params, x, feedback="softmax")
    np.testing.assert_allclose(soft.f[1:], soft.yhat[:-1], rtol=0, atol=0)


def test_free_running_softmax_feedback_would_need_bptt():
    """With yhat(t-1) fed back in the graph, L(t) depends on earlier steps through W: torch's
    gradient of that loss differs from the local gradient on the same fed-back values."""
    torch = pytest.importorskip("torch")
    T, B, I, H, O = 6, 3, 4, 5, 4
    params, x, y, mask = problem(T, B, I, H, O, seed=8)
    run = orn.free_run(params, x, feedback="softmax")
    _, local, _, _ = orn.backward(params, run, y, mask)
    L, through_time = torch_loss(torch, params, onehot(x, I), run.f, y, mask, feedback="softmax")
    assert L == pytest.approx(orn.loss(params, x, run.f, y, mask), rel=1e-12)
    assert np.abs(local["W"] - through_time["W"]).max() > 1e-4
    _, detached = torch_loss(torch, params, onehot(x, I), run.f, y, mask)
    np.testing.assert_allclose(local["W"], detached["W"], rtol=RTOL, atol=1e-12)


def test_bad_input_names_the_argument():
    params, x, y, _ = problem(4, 2, 3, 4, 3, seed=9)
    with pytest.raises(ValueError, match="^feedback: "):
        orn.free_run(params, x, feedback="logits")
    with pytest.raises(ValueError, match=r"^f: expected a float array of shape \(T, B, O\) = \(4, 2, 3\)"):
        orn.forward(params, x, np.zeros((4, 2, 2)))
    with pytest.raises(ValueError, match="^y: expected class ids in"):
        orn.teacher_feedback(np.full((4, 2), 3), 3)


def calls_during(fn) -> int:
    """How many Python and builtin function calls ``fn()`` makes (sys.setprofile's call events)."""
    import sys
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1
    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


def test_the_backward_does_the_same_work_at_any_length_where_bptt_loops():
    """No loop over time: the teacher-forced backward makes as many calls for T = 50 as for T = 5
    (whole-sequence products), while a SimpleRNN's BPTT backward makes more with every step."""
    counts, bptt_counts = [], []
    for T in (5, 50):
        params, x, y, mask = problem(T, 3, 4, 5, 4, seed=10)
        trace = orn.forward(params, x, orn.teacher_feedback(y, 4))
        counts.append(calls_during(lambda: orn.backward(params, trace, y, mask)))
        net = bptt.SimpleRNN(4, 5, 4, seed=10)
        net_trace = net.forward(x)
        bptt_counts.append(calls_during(lambda: net.backward(net_trace, y, mask)))
    assert counts[0] == counts[1]
    assert bptt_counts[1] >= bptt_counts[0] + 45          # at least one call per step


def test_greedy_free_running_is_whole_exactly_when_teacher_forcing_is():
    """Up to a sequence's first wrong token both runs read the same feedback, so a sequence is
    right whole free-running exactly when every teacher-forced prediction is right."""
    T, B, I, H, O = 6, 40, 4, 6, 3
    params, x, _, _ = problem(T, B, I, H, O, seed=11, mask=False)
    y = orn.free_run(params, x).o.argmax(-1)                   # its own answers: whole for every sequence
    rng = np.random.default_rng(11)
    flip = rng.random((T, B)) < 0.05
    y = np.where(flip, (y + 1) % O, y)                         # some sequences now have a wrong token
    free = orn.free_run(params, x).o.argmax(-1) != y
    forced = orn.forward(params, x, orn.teacher_feedback(y, O)).o.argmax(-1) != y
    np.testing.assert_array_equal(free.any(axis=0), forced.any(axis=0))
    assert 0 < free.any(axis=0).sum() < B
