"""SnAp-1 (bptt.snap) for every cell of tests/cells.py: exact when every block of W is diagonal,
an approximation (its error measured) when W is dense, and the same numbers as exact RTRL's
influence restricted to SnAp-1's pattern after every step."""

import numpy as np
import pytest

import bptt
from bptt.nn.online import Layout, OnlineWalk
from bptt.nn.rtrl import ExactInfluence
from cells import CELLS
from test_rtrl import close, problem


def diagonal_blocks(model):
    """The model with every H x H block of W made diagonal (each unit reads only its own h)."""
    H, G = model.n_hidden, model.cell.gates
    W = model.params["W"].reshape(G, H, H) * np.eye(H)
    model.set_params({**model.params, "W": W.reshape(G * H, H)})
    return model


def relative_error(got, exact, names=("U", "W", "b")):
    num = np.sqrt(sum(np.square(got[k] - exact[k]).sum() for k in names))
    return num / np.sqrt(sum(np.square(exact[k]).sum() for k in names))


class _Masked:
    """Exact RTRL's influence with every entry outside ``keep`` (Z, P) set to 0 after each step."""

    def __init__(self, influence, keep):
        self.influence, self.keep = influence, keep

    def step(self, step):
        self.influence.step(step)
        self.influence.M *= self.keep

    def add_grads(self, dz, grads):
        self.influence.add_grads(dz, grads)


def unit_pattern(model):
    """(Z, P): SnAp-1's pattern, state entry (i, k) kept for the parameter entries of unit k."""
    rows = np.tile(np.arange(model.n_hidden), len(model.cell.states))
    return rows[:, None] == Layout.of(model).unit[None, :]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("kind,output,mask", [("tokens", "softmax", True), ("vectors", "identity", False)])
def test_snap1_is_exact_when_every_block_of_W_is_diagonal(cell, kind, output, mask):
    model, x, y, m, state0 = problem(cell, 30, 5, kind, output, mask, True, seed=2)
    diagonal_blocks(model)
    ref = model.backward(model.forward(x, **state0), y, mask=m)
    got = bptt.snap(model, x, y, mask=m, **state0)
    close(got.loss, ref.loss, "loss")
    for k in model.params:
        close(got.grads[k], ref.grads[k], f"dL/d{k}")


@pytest.mark.parametrize("cell", CELLS)
def test_snap1_is_an_approximation_for_dense_W(cell):
    """The error is there (SnAp-1 drops every path through another unit) and is measured; the
    estimate still points along the gradient. benchmarks/rtrl.py reports it per cell."""
    model, x, y, m, state0 = problem(cell, 30, 5, "vectors", "identity", False, True, seed=2)
    exact = bptt.rtrl(model, x, y, **state0).grads
    got = bptt.snap(model, x, y, **state0).grads
    err = relative_error(got, exact)
    cos = sum((got[k] * exact[k]).sum() for k in "UWb") / np.sqrt(
        sum(np.square(got[k]).sum() for k in "UWb") * sum(np.square(exact[k]).sum() for k in "UWb"))
    assert 1e-3 < err < 1, err
    assert cos > 0.5, cos
    for k in "Vc":                                   # the readout needs no influence: exact
        close(got[k], exact[k], f"dL/d{k}")


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("kind", ["tokens", "vectors"])
def test_snap1_equals_exact_rtrl_restricted_to_its_pattern(cell, kind):
    """Two implementations of one approximation: the per-unit blocks, and the full influence
    masked after every step; dense W, so the pattern drops something."""
    model, x, y, _, state0 = problem(cell, 15, 4, kind, "softmax", False, True, seed=4)
    masked = OnlineWalk(model, _Masked(ExactInfluence(model, 2), unit_pattern(model)), 2, **state0).run(x, y)
    got = bptt.snap(model, x, y, **state0)
    for k in model.params:
        close(got.grads[k], masked.grads[k], f"dL/d{k}", rtol=1e-12)


def test_lstm_needs_its_o_gates_influence_on_s_which_one_step_does_not_show():
    """With diagonal W blocks SnAp-1 is exact; the pattern of the one-step Jacobian alone (no
    influence of the o gate's parameters on s(t), which reads no o) is not: the o gate reaches
    s(t+1) through h(t)."""
    model, x, y, _, state0 = problem("lstm", 15, 4, "vectors", "identity", False, True, seed=1)
    diagonal_blocks(model)
    H = model.n_hidden
    layout = Layout.of(model)
    gate = np.concatenate([np.repeat(np.arange(4 * H) // H, n // (4 * H)) for n in
                           (4 * H * model.n_in, 4 * H * H, 4 * H)])    # the gate block of each U, W, b entry
    one_step = unit_pattern(model)
    one_step[H:, :gate.size] &= gate != 3                               # s rows: no o-gate entries
    assert layout.size == gate.size
    exact = bptt.rtrl(model, x, y, **state0).grads
    pattern_only = OnlineWalk(model, _Masked(ExactInfluence(model, 2), one_step), 2, **state0).run(x, y).grads
    close(bptt.snap(model, x, y, **state0).grads["W"], exact["W"], "SnAp-1 dL/dW")
    assert relative_error(pattern_only, exact) > 1e-3


def test_bad_input():
    model = bptt.GRU(3, 4, 3, seed=0)
    x = np.zeros((2, 1), dtype=int)
    with pytest.raises(ValueError, match=r"^n: expected 1 \(SnAp-1; .*bptt.rtrl\), got 2$"):
        bptt.snap(model, x, x, n=2)
    with pytest.raises(ValueError, match=r"^model: expected a one-layer network"):
        bptt.snap(bptt.GRU(3, 4, 3, layers=2, seed=0), x, x)
