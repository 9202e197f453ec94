"""Gradients computed forward in time: the walk that RTRL, UORO and SnAp share.

BPTT stores the T steps and walks back over them. Real-time recurrent learning (Williams &
Zipser 1989) instead carries, step by step, the *influence* of every recurrent parameter on
the current state, z(t) = [h(t), s(t)] (the LSTM's cell state s; the RNN and GRU carry h):

    M(t) = dz(t)/dtheta = J(t) M(t-1) + I(t)           M(0) = 0
    J(t) = dz(t)/dz(t-1)                               (S*H, S*H): the cell's D, plus A_rec W on h
    I(t) = the step's own dz(t)/dtheta, W h(t-1) and z(t-1) held fixed: outer products
           dz/dU = A_in x(t)^T,  dz/dW = A_rec h(t-1)^T,  dz/db = A_in
    dL/dtheta += dL(t)/dz(t) M(t)                      at every step, as soon as L(t) is known

so the gradient of a loss arrives while the sequence is read, with nothing stored of its past.
The readout's V, c need no influence: dL(t)/dV = dL/do(t) h(t)^T, as in BPTT. What differs
between the methods is only how M(t) is kept (an ``influence``): exactly (``rtrl.py``, O(H^4)
time per step for the RNN), as a random rank-one product (``uoro.py``), or sparse (``snap.py``).
Each step here runs the three stages of ``network.py`` for one t (stage 1 for a block of 64
steps at once, so that nothing grows with T): the cell's step forward, its partial Jacobians
(``step_jacobians``, the cell contract), the influence's update, then the readout and loss of
that step.

One recurrent layer only: the influence of a lower layer's parameters on an upper layer's
state would need the chain through both, which none of the three methods here is written for.

Shape legend: T time, B batch, I inputs, H hidden, O outputs, G gate blocks, S states (1 or 2),
Z = S*H the state's width, P the number of recurrent parameters (U, W, b and the cell's extras).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import _validate as check
from .stages import project_inputs, readout, readout_backward, readout_loss

BLOCK = 64       # steps whose input projection b + U x(t) is computed at once


@dataclass(frozen=True)
class Step:
    """What one step hands the influence.

    D (B, S, S, H) and A (one (B, S, G, H) per error of the cell; A[0] the input side, A[-1]
    the recurrent side): the cell's ``step_jacobians``. x: the step's input, token ids (B,) or
    vectors (B, I); h_prev (B, H): h(t-1); W (G*H, H). E {name: (B, S, m, H)}: the cell's
    ``extra_jacobians``, the step's own d state/d each extra parameter, unit by unit.
    """

    D: np.ndarray
    A: tuple
    x: np.ndarray
    h_prev: np.ndarray
    W: np.ndarray
    E: dict = field(default_factory=dict)


@dataclass(frozen=True)
class OnlineGradients:
    """What a forward-in-time pass returns.

    loss: L (float), summed over the steps and averaged over the batch as ``Network.backward``'s;
    losses (T, B): each element's l(t); grads: dict like ``params``; state: {"h0": (B, H),
    ("s0": ...)} the states after the last step, as ``forward`` takes them, to carry on;
    per_step: dict like ``params`` with a leading T axis (each step's dL(t)/dtheta), or None;
    dh0, ds0: dL/dh(0), dL/ds(0) where the method carries them (exact RTRL), else None.
    """

    loss: float
    losses: np.ndarray
    grads: dict
    state: dict
    per_step: dict | None = None
    dh0: np.ndarray | None = None
    ds0: np.ndarray | None = None


@dataclass(frozen=True)
class Layout:
    """Where each recurrent parameter sits in a flat row of P entries, and which unit owns each entry.

    names: ("U", "W", "b", *extras); shapes: their shapes; offsets: their first index;
    unit (P,): the unit k whose state the entry reaches in one step (row g*H + k of U, W, b;
    entry j*H + k of an extra parameter).
    """

    names: tuple
    shapes: dict
    offsets: dict
    size: int
    unit: np.ndarray

    @classmethod
    def of(cls, model) -> "Layout":
        shapes = model.param_shapes()
        names = ("U", "W", "b", *model.cell.extra_params(model.n_hidden))
        H, offsets, units, at = model.n_hidden, {}, [], 0
        for name in names:
            shape = shapes[name]
            offsets[name] = at
            n = int(np.prod(shape))
            rows = np.arange(shape[0]) % H                     # the unit of each row (or entry)
            units.append(np.repeat(rows, n // shape[0]))
            at += n
        return cls(names, {n: shapes[n] for n in names}, offsets, at, np.concatenate(units))

    def views(self, M):
        """{name: view of M's last axis shaped as the parameter}: M (..., P) -> (..., *shape)."""
        return {n: M[..., self.offsets[n]:self.offsets[n] + int(np.prod(s))].reshape(*M.shape[:-1], *s)
                for n, s in self.shapes.items()}


def dense_unit(d):
    """A unit-diagonal Jacobian (B, S, m, H), d state_i[k] / d q[j*H + k], as the full (B, S*H, m*H)."""
    B, S, m, H = d.shape
    k = np.arange(H)
    full = np.zeros((B, S, H, m, H), dtype=d.dtype)
    full[:, :, k, :, k] = np.moveaxis(d, -1, 0)                                     # (H, B, S, m)
    return full.reshape(B, S * H, m * H)


def dense_jacobians(step: Step):
    """The step's Jacobians as full matrices, from the cell's diagonals.

    Returns J (B, Z, Z) = dz(t)/dz(t-1) (D on the diagonal of each state pair, plus A_rec W in
    the h columns) and, for each error of the cell, (B, Z, G*H): dz(t)/dq, diagonal in the unit.
    """
    D, A, W = step.D, step.A, step.W
    B, S, _, H = D.shape
    G = A[0].shape[2]
    k = np.arange(H)
    J = np.zeros((B, S, H, S, H), dtype=D.dtype)
    J[:, :, k, :, k] = np.moveaxis(D, -1, 0)                                    # (H, B, S, S)
    J[:, :, :, 0, :] += np.einsum("bigk,gkj->bikj", A[-1], W.reshape(G, H, H))  # through W h(t-1)
    dense = []
    for a in A:
        full = np.zeros((B, S, H, G, H), dtype=D.dtype)
        full[:, :, k, :, k] = np.moveaxis(a, -1, 0)                             # (H, B, S, G)
        dense.append(full.reshape(B, S * H, G * H))
    return J.reshape(B, S * H, S * H), tuple(dense)


def add_outer(target, a, x):
    """target (B, ..., G*H, I) += a (B, ..., G*H) x(t)^T, x token ids (B,) (a one-hot column) or vectors (B, I)."""
    if x.ndim == 1:
        target[np.arange(len(x)), ..., x] += a
    else:
        target += a[..., None] * x.reshape(x.shape[0], *(1,) * (a.ndim - 1), x.shape[1])


class OnlineWalk:
    """A walk along B streams, forward in time: the states and the influence it carries.

    ``run(x, y, mask)`` reads the next T steps with the parameters as they are now and returns
    their loss and gradient (an ``OnlineGradients``); the influence is carried on into the next
    call, never truncated, so a trainer that applies each result before the next call learns
    online. ``influence`` is one of ``rtrl.py``'s, ``uoro.py``'s or ``snap.py``'s.
    """

    def __init__(self, model, influence, B, h0=None, s0=None):
        if model.layers != 1:
            raise ValueError(f"model: expected a one-layer network (the influence here follows one "
                             f"recurrent layer), got layers={model.layers}")
        self.model, self.influence = model, influence
        self.B = check.positive_int("B", B)
        self.states = {n: v.copy() for n, v in model.initial_states(B, h0=h0, s0=s0)[0].items()}

    def state(self) -> dict:
        """Arrays that, with ``restore``, resume the walk exactly: the carried states by name ("h",
        "s") and the influence's arrays ("influence/<name>")."""
        return {**{n: v.copy() for n, v in self.states.items()},
                **{f"influence/{k}": v.copy() for k, v in self.influence.arrays().items()}}

    def restore(self, state: dict) -> None:
        """The arrays of ``state()``, each of the shape this walk holds (a ValueError names one that is not)."""
        mine = self.state()
        for key, value in mine.items():
            given = np.asarray(state.get(key)) if key in state else None
            if given is None or given.shape != value.shape or given.dtype.kind != "f":
                raise ValueError(f"state[{key!r}]: expected a float array of shape {value.shape}, got "
                                 f"{'none' if given is None else check.describe(given)}")
        self.states = {n: np.array(state[n], dtype=self.model.dtype) for n in self.model.cell.states}
        self.influence.load({k[len("influence/"):]: np.array(v, dtype=self.model.dtype)
                             for k, v in state.items() if k.startswith("influence/")})

    def run(self, x, y, mask=None, per_step=False) -> OnlineGradients:
        m, cell, p = self.model, self.model.cell, self.model.params
        x = check.inputs(x, m.n_in, m.dtype)                                    # (T, B[, I])
        T, B = x.shape[:2]
        if B != self.B:
            raise ValueError(f"x: expected B = {self.B} streams, as the walk started with, got {B}")
        mask = check.mask(mask, T, B, m.dtype)
        y = check.targets(y, m.output, T, B, m.n_out, m.dtype, mask)          # read where mask != 0
        H, S, dt = m.n_hidden, len(cell.states), m.dtype
        P = m.weights(0)
        prev = [self.states[n] for n in cell.states]                             # (B, H) each
        new = [np.empty((B, H), dtype=dt) for _ in cell.states]
        keep = [np.empty((B, w * H), dtype=dt) for _, w in cell.keeps]
        grads = {k: np.zeros_like(v) for k, v in p.items()}
        steps = {k: np.zeros((T, *v.shape), dtype=dt) for k, v in p.items()} if per_step else None
        losses = np.empty((T, B), dtype=dt)
        total = 0.0
        dz = np.zeros((B, S, H), dtype=dt)                                      # dL(t)/dz(t): only h is read out
        for t in range(T):
            if t % BLOCK == 0:      # stage 1 for the next steps at once; memory stays flat in T
                xu = project_inputs(x[t:t + BLOCK], m.params["U"], m.params["b"])   # (BLOCK, B, G*H)
            # Stage 2 for one step, and what the influence needs from it.
            cell.step_forward(P, xu[t % BLOCK], *prev, *new, *keep)
            D, A = cell.step_jacobians(P, *prev, *new, *keep)
            E = cell.extra_jacobians(A, P, *prev, *new, *keep)
            self.influence.step(Step(D, A, x[t], prev[0], P.W, E))             # M(t-1) -> M(t)
            # Stage 3 for this step: o(t) = c + V h(t), its loss, and dL(t)/dh(t) = V^T dL/do(t).
            o, yhat = readout(m, new[0][None])                                 # (1, B, O)
            loss, do, l = readout_loss(m, o, yhat, y[t:t + 1], None if mask is None else mask[t:t + 1])
            total += loss
            losses[t] = l[0]
            g = {k: v[t] for k, v in steps.items()} if per_step else grads
            dh, dV, dc = readout_backward(m, do, new[0][None])
            g["V"] += dV
            g["c"] += dc
            dz[:, 0] = dh[0]
            self.influence.add_grads(dz, g)                                     # dL(t)/dz(t) M(t)
            prev, new = new, prev                                               # h(t) is the next step's h(t-1)
        for n, v in zip(cell.states, prev):
            self.states[n] = v
        if per_step:
            grads = {k: v.sum(axis=0) for k, v in steps.items()}
        d0 = getattr(self.influence, "d_initial", None)
        return OnlineGradients(loss=float(total), losses=losses, grads=grads, per_step=steps,
                               state={f"{n}0": v.copy() for n, v in self.states.items()},
                               dh0=None if d0 is None else d0[:, 0].copy(),
                               ds0=None if d0 is None or S < 2 else d0[:, 1].copy())
