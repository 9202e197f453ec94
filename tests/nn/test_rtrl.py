"""Real-time recurrent learning (bptt.rtrl) against BPTT, for every cell of tests/cells.py.

The cells' step Jacobians (the contract's ``step_jacobians`` and ``extra_jacobians``) against
float64 central differences of ``step_forward``, and the checker caught on a planted error;
exact RTRL's loss, gradients and dL/dz(0) equal to ``model.backward(model.forward(x), y, mask)``
to 1e-10 over token ids and vectors, masks, T from 1 to 200 and H from 1 to 16; each step's
online gradient equal to truncated BPTT's with k1 = 1 and an unbounded k2.
"""

import numpy as np
import pytest

import bptt
from bptt.nn.network import Network
from bptt.nn.online import Step, dense_jacobians, dense_unit
from bptt.nn.rtrl import influence_bytes
from bptt.nn.unroll import Weights
from cells import CELLS
from compare import close

EPS = 1e-6




# ---- the step Jacobians, by central differences --------------------------------------------
def step_jacobian_errors(cell, model, seed=0, B=2):
    """Largest difference between the cell's Jacobians (made dense) and central differences of
    its step_forward, for d state(t) / d state(t-1), / d (b + U x(t)), / dW and / d each extra."""
    rng = np.random.default_rng(seed)
    H, G, S = model.n_hidden, cell.gates, len(cell.states)
    P = model.weights(0)
    xu = rng.normal(size=(B, G * H))
    prev = [rng.uniform(-0.8, 0.8, size=(B, H)) for _ in cell.states]

    def forward(P, xu, prev):
        new = [np.empty((B, H)) for _ in cell.states]
        keep = [np.empty((B, w * H)) for _, w in cell.keeps]
        cell.step_forward(P, xu, *prev, *new, *keep)
        return new, keep

    def z(P, xu, prev):
        return np.concatenate(forward(P, xu, prev)[0], axis=-1)                    # (B, Z)

    def numeric(f, x, per_row):
        """dz/dx by central differences: (B, Z, n). per_row: x (B, n) holds one row per stream,
        which are perturbed together (the streams do not interact); else x is shared by all."""
        flat = x.reshape(B, -1) if per_row else x.reshape(-1)
        cols = []
        for i in range(flat.shape[-1]):
            d = np.zeros_like(flat)
            d[..., i] = EPS
            cols.append((f(x + d.reshape(x.shape)) - f(x - d.reshape(x.shape))) / (2 * EPS))
        return np.stack(cols, axis=-1)

    new, keep = forward(P, xu, prev)
    D, A = cell.step_jacobians(P, *prev, *new, *keep)
    assert D.shape == (B, S, S, H) and len(A) == len(cell.errors)
    assert all(a.shape == (B, S, G, H) for a in A)
    J, dense = dense_jacobians(Step(D, A, None, prev[0], P.W))
    errors = {}
    num = numeric(lambda v: z(P, xu, np.split(v, S, axis=-1)), np.concatenate(prev, axis=-1), True)
    errors["state"] = np.abs(num - J).max()
    errors["b + U x"] = np.abs(numeric(lambda v: z(P, v, prev), xu, True) - dense[0]).max()
    num = numeric(lambda W: z(Weights(W, P.extra), xu, prev), P.W, False)           # (B, Z, G*H*H)
    analytic = (dense[-1][..., None] * prev[0][:, None, None, :]).reshape(B, S * H, -1)
    errors["W"] = np.abs(num - analytic).max()
    influence = {n: dense_unit(d) for n, d in cell.extra_jacobians(A, P, *prev, *new, *keep).items()}
    for name, value in P.extra.items():
        num = numeric(lambda v: z(Weights(P.W, {**P.extra, name: v}), xu, prev), value, False)
        errors[name] = np.abs(num - influence[name]).max()
    return errors


@pytest.mark.parametrize("cell", CELLS)
def test_step_jacobians_equal_central_differences(cell):
    model = Network.create(cell, 3, 4, 2, seed=1)
    errors = step_jacobian_errors(model.cell, model)
    assert set(errors) >= {"state", "b + U x", "W"} | set(model.cell.extra_params(4))
    assert max(errors.values()) < 1e-8, errors


class _Planted:
    """A cell whose input-side Jacobian is 0.1% off: the check above must see it."""

    def __init__(self, cell):
        self.cell = cell

    def __getattr__(self, name):
        return getattr(self.cell, name)

    def step_jacobians(self, *args):
        D, A = self.cell.step_jacobians(*args)
        return D, (A[0] * 1.001, *A[1:])


@pytest.mark.parametrize("cell", CELLS)
def test_the_jacobian_check_catches_a_planted_error(cell):
    model = Network.create(cell, 3, 4, 2, seed=1)
    errors = step_jacobian_errors(_Planted(model.cell), model)
    assert errors["b + U x"] > 1e-5


# ---- exact RTRL equals BPTT ------------------------------------------------------------------
# (T, H, x, output, mask, initial states): the corners T in {1, 200} x H in {1, 16} and a middle.
GRID = [(1, 1, "tokens", "softmax", False, False),
        (1, 16, "vectors", "identity", True, True),
        (200, 1, "tokens", "identity", True, True),
        (200, 16, "vectors", "softmax", False, True),
        (9, 5, "tokens", "softmax", True, True),
        (9, 5, "vectors", "identity", False, False)]


def problem(cell, T, H, kind, output, mask, given_state, B=2, I=3, O=3, seed=0):
    rng = np.random.default_rng(seed)
    model = Network.create(cell, I, H, O, output=output, seed=seed)
    x = rng.integers(0, I, size=(T, B)) if kind == "tokens" else rng.normal(size=(T, B, I))
    y = rng.integers(0, O, size=(T, B)) if output == "softmax" else rng.normal(size=(T, B, O))
    m = (rng.random((T, B)) < 0.6).astype(float) if mask else None
    state0 = {f"{n}0": rng.uniform(-0.5, 0.5, (B, H)) for n in model.cell.states} if given_state else {}
    return model, x, y, m, state0


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("T,H,kind,output,mask,given_state", GRID)
def test_rtrl_equals_bptt(cell, T, H, kind, output, mask, given_state):
    model, x, y, m, state0 = problem(cell, T, H, kind, output, mask, given_state)
    ref = model.backward(model.forward(x, **state0), y, mask=m)
    got = bptt.rtrl(model, x, y, mask=m, **state0)
    close(got.loss, ref.loss, "loss")
    close(got.losses, ref.losses, "l(t)")
    assert list(got.grads) == list(model.params)
    for k in model.params:
        close(got.grads[k], ref.grads[k], f"dL/d{k}")
    close(got.dh0, ref.dh0, "dL/dh0")
    if "s" in model.cell.states:
        close(got.ds0, ref.ds0, "dL/ds0")
    trace = model.forward(x, **state0)
    for n in model.cell.states:
        close(got.state[f"{n}0"], trace.layers[0].states[n][-1], f"{n}(T)")


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("kind", ["tokens", "vectors"])
def test_each_steps_online_gradient_equals_truncated_bptt_with_k1_1(cell, kind):
    """RTRL's dL(t)/dtheta at step t is what BPTT(k2 = unbounded; k1 = 1) back-propagates for
    the loss of step t alone, on a fixed network (nothing is applied between the updates)."""
    model, x, y, _, state0 = problem(cell, 12, 4, kind, "softmax", False, True, seed=3)
    got = bptt.rtrl(model, x, y, per_step=True, **state0)
    updates = list(bptt.truncated_bptt(model, x, y, k1=1, k2=10**6, **state0))
    assert len(updates) == 12
    for t, u in enumerate(updates):
        close(got.losses[t].sum() / 2, u.loss, f"L({t})")
        for k in model.params:
            close(got.per_step[k][t], u.grads[k], f"dL({t})/d{k}")
    for k in model.params:
        close(got.per_step[k].sum(axis=0), got.grads[k], f"sum_t dL(t)/d{k}")


def test_the_walk_carries_state_and_influence_across_calls():
    """Two calls of the online walk over halves of a sequence give the whole sequence's gradient
    on a fixed network: nothing of the past is truncated at the boundary."""
    from bptt.nn.rtrl import rtrl_walk
    for cell in CELLS:
        model, x, y, _, state0 = problem(cell, 10, 3, "vectors", "identity", False, True, seed=5)
        walk = rtrl_walk(model, 2, **state0)
        first, second = walk.run(x[:4], y[:4]), walk.run(x[4:], y[4:])
        ref = model.gradients(x, y, **state0)
        for k in model.params:
            close(first.grads[k] + second.grads[k], ref.grads[k], f"{cell} dL/d{k}")


# ---- the edge -------------------------------------------------------------------------------
def test_bad_input_is_one_line_naming_the_argument():
    stack = bptt.SimpleRNN(3, 4, 3, layers=2, seed=0)
    x = np.zeros((2, 1), dtype=int)
    with pytest.raises(ValueError, match=r"^model: expected a one-layer network .* got layers=2$"):
        bptt.rtrl(stack, x, x)
    big = bptt.SimpleRNN(3, 64, 3, seed=0)
    assert influence_bytes(big, 4) == 4 * 64 * 64 * (3 + 64 + 1) * 8
    with pytest.raises(ValueError, match=r"^model: exact RTRL needs 8,912,896 bytes .* max_bytes = 1,000,000"):
        bptt.rtrl(big, np.zeros((2, 4), dtype=int), np.zeros((2, 4), dtype=int), max_bytes=1_000_000)
    model = bptt.LSTM(3, 4, 3, seed=0)
    with pytest.raises(ValueError, match=r"^x: expected token ids"):
        bptt.rtrl(model, np.zeros((2, 1, 5)), x)
    with pytest.raises(ValueError, match=r"^y: "):
        bptt.rtrl(model, x, np.zeros((3, 1), dtype=int))
    with pytest.raises(ValueError, match=r"^h0: expected a float array of shape \(B, H\) = \(1, 4\)"):
        bptt.rtrl(model, x, x, h0=np.zeros((2, 4)))
