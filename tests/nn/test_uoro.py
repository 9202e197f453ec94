"""UORO (bptt.uoro) for every cell of tests/cells.py: unbiased (the mean of 5,000 draws within a
few standard errors of the exact gradient in every entry), one draw far from exact, and its
spread measured against SnAp-1's error on the same network."""

import numpy as np
import pytest

import bptt
from cells import CELLS
from test_rtrl import problem
from test_snap import relative_error

GROUPS, PER_GROUP = 50, 100          # 5,000 draws: 50 calls, each on 100 copies of one sequence


def draws(model, x, y, state0, seed=0):
    """GROUPS estimates, each the mean of PER_GROUP independent draws: the copies of one sequence
    in a batch each draw their own signs, and the batch's loss averages them."""
    rng = np.random.default_rng(seed)
    xt = np.tile(x, (1, PER_GROUP) + (1,) * (x.ndim - 2))
    yt = np.tile(y, (1, PER_GROUP) + (1,) * (y.ndim - 2))
    st = {k: np.tile(v, (PER_GROUP, 1)) for k, v in state0.items()}
    return [bptt.uoro(model, xt, yt, rng, **st).grads for _ in range(GROUPS)]


@pytest.mark.parametrize("cell", CELLS)
def test_uoro_is_unbiased_and_one_draw_is_not_exact(cell):
    model, x, y, _, state0 = problem(cell, 4, 2, "vectors", "identity", False, True, B=1, I=2, O=2, seed=3)
    exact = bptt.rtrl(model, x, y, **state0).grads
    groups = draws(model, x, y, state0)
    for k in model.params:
        g = np.stack([d[k] for d in groups])                                      # (GROUPS, *shape)
        mean, se = g.mean(axis=0), g.std(axis=0, ddof=1) / np.sqrt(GROUPS)
        random = se > 1e-12 * np.abs(exact[k]).max()
        assert np.all(np.abs(mean - exact[k])[random] < 5 * se[random]), (k, (np.abs(mean - exact[k]) / se).max())
        assert np.allclose(mean[~random], exact[k][~random], rtol=1e-10, atol=1e-15), k   # V, c: no estimate
    assert random.size and any(np.any(np.stack([d[k] for d in groups]).std(axis=0) > 0) for k in "UWb")
    one = bptt.uoro(model, x, y, np.random.default_rng(7), **state0).grads
    assert relative_error(one, exact) > 0.05


@pytest.mark.parametrize("cell", CELLS)
def test_uoro_spread_is_larger_than_snap1_error(cell):
    """The root-mean-square error of one UORO draw (from the spread of the group means) beside
    SnAp-1's deterministic error, on the same network and sequence."""
    model, x, y, _, state0 = problem(cell, 4, 2, "vectors", "identity", False, True, B=1, I=2, O=2, seed=3)
    exact = bptt.rtrl(model, x, y, **state0).grads
    groups = draws(model, x, y, state0, seed=1)
    variance = sum((np.stack([d[k] for d in groups]).var(axis=0, ddof=1) * PER_GROUP).sum() for k in "UWb")
    uoro_rms = np.sqrt(variance) / np.sqrt(sum(np.square(exact[k]).sum() for k in "UWb"))
    snap_err = relative_error(bptt.snap(model, x, y, **state0).grads, exact)
    assert uoro_rms > 3 * snap_err, (uoro_rms, snap_err)


def test_same_seed_same_estimate_and_bad_rng():
    model, x, y, _, state0 = problem("lstm", 5, 3, "tokens", "softmax", False, True, seed=0)
    a = bptt.uoro(model, x, y, np.random.default_rng(3), **state0).grads
    b = bptt.uoro(model, x, y, np.random.default_rng(3), **state0).grads
    assert all(np.array_equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match=r"^rng: expected a numpy.random.Generator .*got int$"):
        bptt.uoro(model, x, y, 3)
