"""Truncated BPTT(k2; k1) against full BPTT and against PyTorch autograd of the same objective."""

import numpy as np
import bptt
import pytest

torch = pytest.importorskip("torch")

from bptt import SimpleRNN  # noqa: E402
from bptt.proof.random_cases import random_problem  # noqa: E402
from bptt.nn.truncated import TruncatedBPTT, truncated_bptt  # noqa: E402


def problem(T=23, B=3, kind="tokens", f="tanh", seed=0):
    model, x, y, h0, _ = random_problem(kind, "softmax", f, I=6, H=5, O=6, T=T, B=B, seed=seed)
    return model, x, y, h0


def reference(model, x, y, h0, k1, k2):
    """Autograd of the same objective, written out: for the update ending at e, the state
    h(e - k2) comes from a full forward and is detached; losses of steps before the cut see
    only detached states, so they reach V and c alone."""
    p = {k: torch.tensor(v) for k, v in model.params.items()}
    f = {"tanh": torch.tanh, "relu": torch.relu}[model.nonlinearity]
    X = torch.nn.functional.one_hot(torch.from_numpy(x), model.n_in).double()
    T, B = x.shape
    hs = [torch.tensor(h0)]                          # full forward, no graph
    for t in range(T):
        hs.append(f(p["b"] + hs[-1] @ p["W"].T + X[t] @ p["U"].T))
    out = []
    for start in range(0, T, k1):
        stop = min(start + k1, T)
        q = {k: v.clone().requires_grad_(True) for k, v in p.items()}
        c0 = max(stop - k2, 0)
        h = hs[c0].detach()
        live = {}
        for t in range(c0, stop):
            h = f(q["b"] + h @ q["W"].T + X[t] @ q["U"].T)
            live[t] = h
        H = torch.stack([live.get(t, hs[t + 1].detach()) for t in range(start, stop)])
        o = H @ q["V"].T + q["c"]
        l = torch.nn.functional.cross_entropy(o.reshape(-1, model.n_out),
                                              torch.from_numpy(y[start:stop]).reshape(-1), reduction="sum") / B
        l.backward()
        out.append((l.item(), {k: v.grad.numpy() for k, v in q.items()}, hs[stop].numpy()))
    return out


def assert_close(a, b, what):
    scale = max(np.abs(b).max(), 1e-300)
    assert np.abs(a - b).max() / scale < 1e-10, what


@pytest.mark.parametrize("k1,k2", [(5, 5), (4, 9), (3, 7), (7, 3), (6, 1), (1, 1), (23, 23), (10, 4), (8, 30)])
def test_every_update_equals_autograd_of_the_same_objective(k1, k2):
    model, x, y, h0 = problem()
    updates = list(truncated_bptt(model, x, y, k1, k2, h0))
    ref = reference(model, x, y, h0, k1, k2)
    assert len(updates) == len(ref) == -(-23 // k1)            # the last window is shorter
    for u, (loss, grads, h) in zip(updates, ref):
        assert u.loss == pytest.approx(loss, rel=1e-12)
        for k in model.params:
            assert_close(u.grads[k], grads[k], f"d{k} of update ending at {u.stop}")
        assert_close(u.h, h, "carried state")
    assert updates[-1].n_steps == 23 - k1 * (len(updates) - 1)


def test_equal_k1_k2_equals_nn_rnn_with_the_state_detached_at_window_edges():
    model, x, y, h0 = problem(T=20, f="relu", seed=3)
    rnn, readout = bptt.to_torch(model)
    X = torch.nn.functional.one_hot(torch.from_numpy(x), model.n_in).double()
    h = torch.tensor(h0)[None]
    for u, start in zip(truncated_bptt(model, x, y, 5, 5, h0), range(0, 20, 5)):
        rnn.zero_grad()
        readout.zero_grad()
        out, h = rnn(X[start:start + 5], h.detach())
        o = readout(out)
        loss = torch.nn.functional.cross_entropy(o.reshape(-1, 6), torch.from_numpy(y[start:start + 5]).reshape(-1),
                                                 reduction="sum") / 3
        loss.backward()
        assert u.loss == pytest.approx(loss.item(), rel=1e-12)
        assert_close(u.grads["W"], rnn.weight_hh_l0.grad.numpy(), "dW")
        assert_close(u.grads["U"], rnn.weight_ih_l0.grad.numpy(), "dU")
        assert_close(u.grads["b"], rnn.bias_ih_l0.grad.numpy(), "db")
        assert_close(u.grads["V"], readout.weight.grad.numpy(), "dV")
        assert_close(u.grads["c"], readout.bias.grad.numpy(), "dc")


@pytest.mark.parametrize("k1", [1, 4, 7, 23])
def test_deep_enough_truncation_sums_to_full_bptt(k1):
    model, x, y, h0 = problem(kind="vectors")
    full = model.gradients(x, y, h0)
    updates = list(truncated_bptt(model, x, y, k1, 23, h0))
    assert sum(u.loss for u in updates) == pytest.approx(full.loss, rel=1e-12)
    for k in model.params:
        assert_close(sum(u.grads[k] for u in updates), full.grads[k], f"sum of d{k}")
    if k1 == 23:
        assert len(updates) == 1
        for k in model.params:
            assert_close(updates[0].grads[k], full.grads[k], f"d{k}")


def test_results_stay_valid_after_the_next_is_yielded():
    model, x, y, h0 = problem()
    kept = [(u.loss, {k: v.copy() for k, v in u.grads.items()}, u.h.copy())
            for u in truncated_bptt(model, x, y, 4, 6, h0)]
    listed = list(truncated_bptt(model, x, y, 4, 6, h0))
    for (loss, grads, h), u in zip(kept, listed):
        assert u.loss == loss
        np.testing.assert_array_equal(u.h, h)
        for k in grads:
            np.testing.assert_array_equal(u.grads[k], grads[k])


def test_a_restored_walk_continues_bit_for_bit():
    model, x, y, h0 = problem()
    whole = list(truncated_bptt(model, x, y, 3, 8, h0))
    walk = TruncatedBPTT(model, x, y, 3, 8, h0)
    for _ in range(4):
        walk.next_update()
    resumed = TruncatedBPTT(model, x, y, 3, 8, h0)
    resumed.restore({k: np.copy(v) for k, v in walk.state().items()})
    rest = []
    while (u := resumed.next_update()) is not None:
        rest.append(u)
    for a, b in zip(whole[4:], rest):
        for k in a.grads:
            np.testing.assert_array_equal(a.grads[k], b.grads[k])


@pytest.mark.parametrize("k1,k2,match", [
    (0, 3, r"k1: expected a positive integer, got 0"),
    (3, -1, r"k2: expected a positive integer, got -1"),
    (2.5, 3, r"k1: expected a positive integer, got 2.5"),
])
def test_invalid_k1_k2(k1, k2, match):
    model, x, y, h0 = problem()
    with pytest.raises(ValueError, match=match):
        next(truncated_bptt(model, x, y, k1, k2, h0))


def test_trainer_style_updates_between_windows_change_the_next_forward():
    model, x, y, h0 = problem()
    a = SimpleRNN(6, 5, 6, seed=0)
    walk = TruncatedBPTT(a, x, y, 5, 5, h0)
    first = walk.next_update()
    for k in a.params:
        a.params[k] -= 0.5 * first.grads[k]
    second = walk.next_update()
    b = a.copy()
    expect = b.gradients(x[5:10], y[5:10], first.h)
    assert second.loss == pytest.approx(expect.loss, rel=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_a_lazy_walk_over_streams_is_the_walk_over_arrays_bit_for_bit(cell):
    """What a trainer on a long text needs: windows gathered (and checked) as the walk reaches them."""
    from bptt.data.text import lazy_streams
    ids = np.random.default_rng(1).integers(0, 6, size=200)
    xs, ys = lazy_streams(ids, 3)
    model = bptt.Network.create(cell, 6, 5, 6, layers=2, seed=2)
    lazy = TruncatedBPTT(model, xs, ys, 7, 10, lazy=True)
    eager = TruncatedBPTT(model, xs[:], ys[:], 7, 10)
    while (a := eager.next_update()) is not None:
        b = lazy.next_update()
        assert (a.loss, a.start, a.stop) == (b.loss, b.start, b.stop)
        for k in a.grads:
            np.testing.assert_array_equal(a.grads[k], b.grads[k])
    assert lazy.next_update() is None


def test_a_lazy_walk_checks_each_window_as_it_reads_it():
    class Bad:                                       # a stream whose second window holds an id out of range
        shape, ndim = (10, 2), 2

        def __getitem__(self, key):
            window = np.zeros((10, 2), dtype=np.intp)[key]
            if key.stop is not None and key.stop > 5:
                window[-1, 0] = 99
            return window
    model = SimpleRNN(6, 5, 6, seed=0)
    walk = TruncatedBPTT(model, Bad(), np.zeros((10, 2), dtype=int), 5, lazy=True)
    walk.next_update()
    with pytest.raises(ValueError, match=r"x: expected token ids in \[0, 5\], got 99"):
        walk.next_update()
