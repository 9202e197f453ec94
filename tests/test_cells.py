"""Every proof, for every cell of tests/cells.py and for stacks of it.

float64 central differences on every parameter and initial state; PyTorch's own nn.RNN /
nn.LSTM / nn.GRU (+ nn.Linear) autograd on the same weights to 1e-10, the errors of every step
included; truncated BPTT(k2; k1) against autograd of the cut objective; recomputing BPTT
against the plain path; a planted error that the checker must catch.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import bptt  # noqa: E402
from bptt.proof.random_cases import random_case  # noqa: E402
from cells import CELLS  # noqa: E402
from torch_reference import loss_fn, own_extras, run_module, run_module_stepwise, torch_inputs, torch_modules  # noqa: E402

RTOL = 1e-10


def close(actual, expected, what, rtol=RTOL):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(np.abs(expected).max(initial=0.0), 1e-300)
    err = np.abs(actual - expected).max(initial=0.0) / scale
    assert err < rtol, f"{what}: relative error {err:.2e}"


def compare(case):
    m = case.model
    trace = m.forward(case.x, **case.state0)
    result = m.backward(trace, case.y, mask=case.mask, per_step=True)
    ref = run_module(m, case.x, case.y, case.state0, case.mask)
    close(trace.h, ref["h"], "h(t)")
    close(trace.yhat, ref["yhat"], "yhat(t)")
    close(result.loss, ref["loss"], "loss")
    for k in m.params:
        close(result.grads[k], ref["grads"][k], f"dL/d{k}")
        close(result.per_step[k].sum(axis=0), result.grads[k], f"sum_t per-step d{k}")
    for name in m.cell.states:
        close(getattr(result, f"d{name}0"), ref["d0"][f"{name}0"], f"dL/d{name}0")
    return result


# ---- gradcheck: every entry of every parameter and initial state ----------------------------
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("kind,output,mask", [("tokens", "softmax", False), ("vectors", "identity", True),
                                              ("vectors", "softmax", False), ("tokens", "identity", True)])
def test_gradcheck_every_parameter_and_initial_state(cell, layers, kind, output, mask):
    case = random_case(cell, kind, output, mask, layers=layers, I=4, H=3, O=3, T=5, B=2, seed=layers)
    report = bptt.gradcheck(case.model, case.x, case.y, mask=case.mask, **case.state0)
    names = {r.name for r in report.rows}
    assert names == set(case.model.params) | set(case.state0)
    assert all(r.checked == r.total for r in report.rows)
    assert report.passed, str(report)


@pytest.mark.parametrize("cell", CELLS)
def test_gradcheck_fails_when_the_recurrent_term_is_dropped(cell, monkeypatch):
    """The planted error: every step forgets what it sends back to the previous states."""
    cls = bptt.nn.cells.CELLS[cell]
    original = cls.step_backward
    n_states = len(cls.states)

    def forgetful(self, P, *args):
        original(self, P, *args)
        for carry in args[:n_states]:
            carry[...] = 0

    monkeypatch.setattr(cls, "step_backward", forgetful)
    case = random_case(cell, "vectors", "softmax", I=4, H=3, O=3, T=6, B=2, seed=4)
    report = bptt.gradcheck(case.model, case.x, case.y, **case.state0)
    assert not report.passed
    assert report["W"].max_rel_error > 1e-3
    assert report["V"].passed and report["c"].passed


# ---- PyTorch's own modules on the same weights ---------------------------------------------
SHAPES = [(1, 1, 1, 1, 1), (1, 3, 4, 5, 2), (7, 1, 3, 1, 4), (5, 4, 6, 8, 6), (200, 2, 5, 6, 5)]   # T, B, I, H, O


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("T,B,I,H,O", SHAPES)
@pytest.mark.parametrize("kind,output", [("tokens", "softmax"), ("vectors", "identity")])
def test_torch_module_agrees(cell, T, B, I, H, O, kind, output):
    compare(random_case(cell, kind, output, I=I, H=H, O=O, T=T, B=B, seed=T * 7 + H))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [2, 3])
@pytest.mark.parametrize("kind,output", [("tokens", "softmax"), ("vectors", "identity")])
def test_stacks_agree_with_num_layers(cell, layers, kind, output):
    compare(random_case(cell, kind, output, layers=layers, I=5, H=6, O=4, T=9, B=3, seed=layers))


@pytest.mark.parametrize("cell", CELLS)
def test_masks_agree(cell):
    case = random_case(cell, "tokens", "softmax", True, T=9, B=4, seed=2)
    result = compare(case)
    assert np.all(result.errors["o"][:-1] == 0)
    mixed = np.random.default_rng(0).integers(0, 2, size=(9, 4))
    compare(random_case(cell, "vectors", "identity", T=9, B=4, seed=2).__class__(
        case.model, case.x, case.y, case.state0, mixed))


@settings(max_examples=10, deadline=None)
@given(cell=st.sampled_from(CELLS), T=st.integers(1, 25), B=st.integers(1, 4), I=st.integers(1, 6),
       H=st.integers(1, 9), O=st.integers(1, 6), layers=st.integers(1, 3), seed=st.integers(0, 2**16),
       kind=st.sampled_from(["tokens", "vectors"]), output=st.sampled_from(["softmax", "identity"]),
       mask=st.booleans())
def test_random_shapes_agree(cell, T, B, I, H, O, layers, seed, kind, output, mask):
    compare(random_case(cell, kind, output, mask, layers=layers, I=I, H=H, O=O, T=T, B=B, seed=seed))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
def test_every_steps_errors_equal_autograd(cell, layers):
    """dL/dh(t) of every layer at every step against the module run step by step and layer by
    layer; for the LSTM, what each step sends back to s(t), f(t+1) dL/ds(t+1), against the
    gradient of the cell state that step returned."""
    case = random_case(cell, "tokens", "softmax", layers=layers, I=5, H=6, O=5, T=11, B=3, seed=9)
    m = case.model
    trace = m.forward(case.x, **case.state0)
    result = m.backward(trace, case.y)
    ref = run_module_stepwise(m, case.x, case.y, case.state0, None)
    H = m.n_hidden
    for layer in range(layers):
        close(result.layer_errors[layer]["h"], ref["errors"]["h"][layer], f"layer {layer} dL/dh(t)")
        if "s" in m.cell.states:
            f_next = trace.layers[layer].keeps["gates"][1:, :, H:2 * H]            # f(t+1)
            sent = np.zeros_like(result.layer_errors[layer]["s"])
            sent[:-1] = f_next * result.layer_errors[layer]["s"][1:]
            close(sent, ref["errors"]["s"][layer], f"layer {layer} f(t+1) dL/ds(t+1)")


# ---- truncated BPTT against autograd of the cut objective -----------------------------------
def truncated_reference(model, x, y, state0, k1, k2):
    """For the update ending at `stop`: the states at stop - k2 come from a full forward and are
    detached; steps before the cut see only detached states, so their losses reach V and c alone."""
    module, readout = torch_modules(model)
    xt = torch_inputs(x, model.n_in)
    T, B = x.shape[:2]
    lstm = model.cell.name == "lstm"

    def to_t(v):
        return torch.tensor(v if model.layers > 1 else v[None])

    state = (to_t(state0["h0"]), to_t(state0["s0"])) if lstm else to_t(state0["h0"])
    full, tops = [state], []
    with torch.no_grad():
        for t in range(T):
            out, state = module(xt[t:t + 1], state)
            full.append(state)
            tops.append(out[0])
    results = []
    for start in range(0, T, k1):
        stop = min(start + k1, T)
        module.zero_grad(), readout.zero_grad()
        c0 = max(stop - k2, 0)
        s = tuple(v.detach() for v in full[c0]) if lstm else full[c0].detach()
        live = {}
        for t in range(c0, stop):
            out, s = module(xt[t:t + 1], s)
            live[t] = out[0]
        h = torch.stack([live.get(t, tops[t]) for t in range(start, stop)])
        o = readout(h)
        loss = loss_fn(o, torch.from_numpy(y[start:stop]), model.output, None)
        loss.backward()
        grads = {}
        for layer in range(model.layers):
            sfx, k = ("" if layer == 0 else f"_l{layer}"), f"_l{layer}"
            for name, attr in (("U", "weight_ih"), ("W", "weight_hh")):
                g = getattr(module, attr + k).grad
                grads[name + sfx] = np.zeros_like(model.params[name + sfx]) if g is None else g.numpy().copy()
            g_ih, g_hh = getattr(module, "bias_ih" + k).grad, getattr(module, "bias_hh" + k).grad
            if g_ih is None:
                g_ih = g_hh = torch.zeros_like(getattr(module, "bias_ih" + k))
            grads.update({n + sfx: v.numpy().copy() for n, v in model.cell.torch_bias_grads(g_ih, g_hh).items()})
            for n in own_extras(model, module):
                g = getattr(module, n + k).grad
                grads[n + sfx] = np.zeros_like(model.params[n + sfx]) if g is None else g.numpy().copy()
        grads["V"], grads["c"] = readout.weight.grad.numpy().copy(), readout.bias.grad.numpy().copy()
        results.append((loss.item(), grads))
    return results


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("k1,k2", [(5, 5), (4, 9), (7, 3), (1, 1), (23, 23), (8, 30)])
@pytest.mark.parametrize("layers", [1, 2])
def test_truncated_updates_equal_autograd_of_the_cut_objective(cell, k1, k2, layers):
    case = random_case(cell, "tokens", "softmax", layers=layers, I=6, H=5, O=6, T=23, B=3, seed=k1 + k2)
    updates = list(bptt.truncated_bptt(case.model, case.x, case.y, k1, k2, **case.state0))
    ref = truncated_reference(case.model, case.x, case.y, case.state0, k1, k2)
    assert len(updates) == len(ref) == -(-23 // k1)
    for u, (loss, grads) in zip(updates, ref):
        assert u.loss == pytest.approx(loss, rel=1e-12)
        for k in case.model.params:
            close(u.grads[k], grads[k], f"update [{u.start}, {u.stop}) d{k}", rtol=1e-9)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
def test_truncated_with_k2_covering_everything_sums_to_full_bptt(cell, layers):
    case = random_case(cell, "tokens", "softmax", layers=layers, I=6, H=5, O=6, T=20, B=2, seed=3)
    full = case.model.gradients(case.x, case.y, **case.state0)
    updates = list(bptt.truncated_bptt(case.model, case.x, case.y, 20, 20, **case.state0))
    assert len(updates) == 1
    for k in case.model.params:
        close(updates[0].grads[k], full.grads[k], f"d{k}", rtol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_truncated_walk_resumes_bit_for_bit(cell):
    case = random_case(cell, "tokens", "softmax", layers=2, I=6, H=5, O=6, T=30, B=2, seed=5)
    a = bptt.TruncatedBPTT(case.model, case.x, case.y, 4, 9, **case.state0)
    first = [a.next_update() for _ in range(3)]
    saved = {k: np.array(v, copy=True) for k, v in a.state().items()}
    rest = [a.next_update() for _ in range(3)]
    b = bptt.TruncatedBPTT(case.model, case.x, case.y, 4, 9)
    b.restore(saved)
    again = [b.next_update() for _ in range(3)]
    assert first[-1].stop == again[0].start
    for u, v in zip(rest, again):
        assert u.loss == v.loss
        for k in u.grads:
            np.testing.assert_array_equal(u.grads[k], v.grads[k])


# ---- recomputing BPTT ------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("segment", [None, 1, 7])
def test_recomputing_bptt_equals_the_plain_path(cell, layers, segment):
    case = random_case(cell, "vectors", "identity", True, layers=layers, I=3, H=5, O=2, T=40, B=2, seed=6)
    plain = case.model.gradients(case.x, case.y, mask=case.mask, **case.state0)
    low = bptt.low_memory_gradients(case.model, case.x, case.y, mask=case.mask, segment=segment, **case.state0)
    assert low.loss == pytest.approx(plain.loss, rel=1e-12)
    for k in case.model.params:
        close(low.grads[k], plain.grads[k], f"d{k}", rtol=1e-12)
    for name in case.model.cell.states:
        close(getattr(low, f"d{name}0"), getattr(plain, f"d{name}0"), f"d{name}0", rtol=1e-12)


# ---- the bridge ------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 3])
def test_bridge_round_trip(cell, layers):
    case = random_case(cell, layers=layers, I=4, H=5, O=3, seed=1)
    if case.model.cell.torch is None:            # torch.nn has no such module: refused in one line
        with pytest.raises(ValueError, match=f"^model: torch.nn has no module for the {cell} cell"):
            bptt.to_torch(case.model)
        return
    module, readout = bptt.to_torch(case.model)
    assert module.num_layers == layers
    back = bptt.from_torch(module, readout)
    assert type(back) is type(case.model) and back.layers == layers
    for k, v in case.model.params.items():
        np.testing.assert_array_equal(back.params[k], v)


@pytest.mark.parametrize("cell", CELLS)
def test_from_torch_refuses_what_it_cannot_map(cell):
    cls = type(random_case(cell).model)
    if bptt.nn.cells.CELLS[cell].torch is None:
        with pytest.raises(ValueError, match=f"^cell: torch.nn has no module for the {cell} cell"):
            bptt.from_torch(torch.nn.RNN(2, 3), torch.nn.Linear(3, 2), cell=cell)
        return
    kind = getattr(torch.nn, bptt.nn.cells.CELLS[cell].torch)
    for options, match in (({"bidirectional": True}, "bidirectional=False"),
                           ({"batch_first": True}, "batch_first=False")):
        with pytest.raises(ValueError, match=f"{cell}: expected {match}"):
            bptt.from_torch(kind(2, 3, **options), torch.nn.Linear(3, 2), cell=cls.CELL)
    with pytest.raises(ValueError, match="readout: expected in_features = hidden_size = 3, got 4"):
        bptt.from_torch(kind(2, 3), torch.nn.Linear(4, 2), cell=cls.CELL)
    other = torch.nn.GRU if cell != "gru" else torch.nn.LSTM
    with pytest.raises(ValueError, match=f"{cell}: expected a torch.nn.{kind.__name__}, got {other.__name__}"):
        bptt.from_torch(other(2, 3), torch.nn.Linear(3, 2), cell=cls.CELL)
    if cell == "lstm":
        with pytest.raises(ValueError, match="proj_size"):
            bptt.from_torch(torch.nn.LSTM(2, 4, proj_size=3), torch.nn.Linear(3, 2), cell=cls.CELL)


def test_forget_bias_is_added_at_initialisation_only():
    a = bptt.LSTM(3, 4, 2, seed=0, forget_bias=0.0)
    b = bptt.LSTM(3, 4, 2, seed=0)
    np.testing.assert_allclose(b.params["b"][4:8] - a.params["b"][4:8], 1.0, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(b.params["b"][:4], a.params["b"][:4])
    module, readout = bptt.to_torch(b)
    with torch.no_grad():
        module.bias_ih_l0[4:8] = -3.0
    assert np.all(bptt.from_torch(module, readout).params["b"][4:8] == -3.0)


@pytest.mark.parametrize("cell", CELLS)
def test_float32_agrees_with_float64(cell):
    case = random_case(cell, I=20, H=32, O=20, T=50, B=8, layers=2, seed=3)
    m32 = case.model.copy(np.float32)
    r64 = case.model.gradients(case.x, case.y, **case.state0)
    r32 = m32.gradients(case.x, case.y, **case.state0)
    assert r32.loss == pytest.approx(r64.loss, rel=1e-5)
    for k in case.model.params:
        assert r32.grads[k].dtype == np.float32
        err = np.abs(r32.grads[k] - r64.grads[k]).max() / np.abs(r64.grads[k]).max()
        assert err < 1e-4, (k, err)
