"""Truncated BPTT(k2; k1)'s walk, for every cell of tests/cells.py: results that stay valid,
updates between windows, lazy streams, bad k1/k2 named. Its updates against PyTorch autograd of
the cut objective, full BPTT and a resumed walk are proven in tests/test_cells.py."""

import numpy as np
import bptt
import pytest

from bptt import SimpleRNN
from bptt.proof.random_cases import random_case, random_problem
from bptt.nn.truncated import TruncatedBPTT, truncated_bptt
from cells import CELLS


def problem(T=23, B=3, kind="tokens", f="tanh", seed=0):
    model, x, y, h0, _ = random_problem(kind, "softmax", f, I=6, H=5, O=6, T=T, B=B, seed=seed)
    return model, x, y, h0


def cell_problem(cell, T=23, B=3, seed=0):
    case = random_case(cell, "tokens", "softmax", I=6, H=5, O=6, T=T, B=B, seed=seed)
    return case.model, case.x, case.y, case.state0


@pytest.mark.parametrize("cell", CELLS)
def test_results_stay_valid_after_the_next_is_yielded(cell):
    model, x, y, state0 = cell_problem(cell)
    kept = [(u.loss, {k: v.copy() for k, v in u.grads.items()}, u.h.copy(),
             {k: v.copy() for k, v in u.state.items()})
            for u in truncated_bptt(model, x, y, 4, 6, **state0)]
    listed = list(truncated_bptt(model, x, y, 4, 6, **state0))
    for (loss, grads, h, state), u in zip(kept, listed):
        assert u.loss == loss
        np.testing.assert_array_equal(u.h, h)
        for k in state:
            np.testing.assert_array_equal(u.state[k], state[k])
        for k in grads:
            np.testing.assert_array_equal(u.grads[k], grads[k])


@pytest.mark.parametrize("k1,k2,match", [
    (0, 3, r"k1: expected a positive integer, got 0"),
    (3, -1, r"k2: expected a positive integer, got -1"),
    (2.5, 3, r"k1: expected a positive integer, got 2.5"),
])
def test_invalid_k1_k2(k1, k2, match):
    model, x, y, h0 = problem()
    with pytest.raises(ValueError, match=match):
        next(truncated_bptt(model, x, y, k1, k2, h0))


@pytest.mark.parametrize("cell", CELLS)
def test_trainer_style_updates_between_windows_change_the_next_forward(cell):
    a, x, y, state0 = cell_problem(cell)
    walk = TruncatedBPTT(a, x, y, 5, 5, **state0)
    first = walk.next_update()
    for k in a.params:
        a.params[k] -= 0.5 * first.grads[k]
    second = walk.next_update()
    b = a.copy()
    expect = b.gradients(x[5:10], y[5:10], **first.state)
    assert second.loss == pytest.approx(expect.loss, rel=1e-12)


@pytest.mark.parametrize("cell", CELLS)
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
