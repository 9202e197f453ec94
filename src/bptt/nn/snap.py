"""SnAp: the sparse n-step approximation of RTRL's influence (Menick et al. 2021).

In the authors' words, SnAp "only keeps entries that are nonzero within n steps of the
recurrent core", and "SnAp with n=1 is no more expensive than backpropagation" (the abstract).
The walk is ``online.py``'s; this module keeps the influence with that pattern imposed after
every step:

    M(t) = (J(t) M(t-1) + I(t)) restricted to the pattern

SnAp-1 (n = 1): a parameter of unit k (row g*H + k of U, W, b in every gate block; entry k of
an extra parameter such as the GRU's b_hn) keeps its influence on unit k's own state only:
h_k, and for the LSTM s_k as well. The LSTM's s_k is kept although the o gate's parameters do
not reach it in one step (s(t) reads no o), only through h_k(t) one step later: the one-step
Jacobian's pattern alone would drop that entry. Per unit the influence is then a small dense
block, updated with J(t)'s unit-diagonal entries (the cell's D plus the diagonal entries
W[g*H + k, k] of W's blocks): O(P) time per step, like BPTT, and exact when every block of W
is diagonal (each unit then only ever reads its own past), as tests/nn/test_snap.py shows.

Only n = 1 is written here: with n = 2 a parameter of unit k reaches every unit that W connects
to k, which for the dense W of these networks is every unit: SnAp-2 is then exact RTRL
(``rtrl.py``), at its cost.

Shape legend: B batch, I inputs, H hidden, G gate blocks, S states (1 or 2).
"""

from __future__ import annotations

import numpy as np

from .online import OnlineWalk


class UnitInfluence:
    """SnAp-1's influence: for each stream b, state i, gate block g and unit k, the influence of
    row g*H + k of U (B, S, G, H, I), W (B, S, G, H, H), b (B, S, G, H) and of each extra
    parameter's entries m*H + k (B, S, m, H) on state_i[k], and nothing else."""

    def __init__(self, model, B):
        cell, H, G, S, dt = model.cell, model.n_hidden, model.cell.gates, len(model.cell.states), model.dtype
        shapes = model.param_shapes()
        for name, shape in cell.extra_params(H).items():
            if len(shape) != 1 or shape[0] % H:
                raise ValueError(f"model: SnAp-1 expects every extra parameter to hold one entry per unit "
                                 f"(shape (m*H,)), got {name} of shape {shape}")
        self.cell, self.H, self.G = cell, H, G
        self.M = {"U": np.zeros((B, S, G, H, shapes["U"][1]), dt), "W": np.zeros((B, S, G, H, H), dt),
                  "b": np.zeros((B, S, G, H), dt)}
        self.M.update({n: np.zeros((B, S, s[0] // H, H), dt) for n, s in cell.extra_params(H).items()})

    def step(self, step) -> None:
        D, A, H, G = step.D, step.A, self.H, self.G
        B, S = D.shape[:2]
        k = np.arange(H)
        w_diag = step.W.reshape(G, H, H)[:, k, k]                       # (G, H): W[g*H + k, k]
        Jd = D.copy()                                                   # (B, S, S, H): J's unit diagonal
        Jd[:, :, 0, :] += np.einsum("bigk,gk->bik", A[-1], w_diag)     # ... through W's own-unit entries
        for name, M in self.M.items():                                  # J(t) M(t-1), unit by unit
            self.M[name] = np.einsum("bijk,bjgk...->bigk...", Jd, M)
        a_in, a_rec = A[0], A[-1]                                        # (B, S, G, H)
        U = self.M["U"]
        if step.x.ndim == 1:
            U[np.arange(B), ..., step.x] += a_in                        # one-hot x(t): one column
        else:
            U += a_in[..., None] * step.x[:, None, None, None, :]
        self.M["W"] += a_rec[..., None] * step.h_prev[:, None, None, None, :]
        self.M["b"] += a_in
        for name, d in step.E.items():                                  # (B, S, m, H), unit k at j*H + k
            self.M[name] += d

    def arrays(self) -> dict:
        return dict(self.M)

    def load(self, arrays) -> None:
        for name, M in self.M.items():
            M[...] = arrays[name]

    def add_grads(self, dz, grads) -> None:
        """grads += sum over streams and states of dL(t)/dstate_i[k] times unit k's influence on it."""
        GH = self.G * self.H
        grads["U"] += np.einsum("bik,bigkj->gkj", dz, self.M["U"]).reshape(GH, -1)
        grads["W"] += np.einsum("bik,bigkj->gkj", dz, self.M["W"]).reshape(GH, self.H)
        grads["b"] += np.einsum("bik,bigk->gk", dz, self.M["b"]).reshape(GH)
        for name in self.M.keys() - {"U", "W", "b"}:
            grads[name] += np.einsum("bik,bimk->mk", dz, self.M[name]).reshape(-1)


def snap(model, x, y, n=1, h0=None, s0=None, mask=None, *, per_step=False):
    """Loss and SnAp-n gradients of a one-layer network, forward in time.

    n: 1, SnAp-1 (the per-unit influence, O(P) per step); for a dense W, n >= 2 keeps every
    entry, which is ``bptt.rtrl``. Other arguments as ``bptt.rtrl``.
    Returns an ``OnlineGradients``; equal to BPTT's gradient when every block of W is diagonal.
    """
    walk = snap_walk(model, np.asarray(x).shape[1] if np.ndim(x) >= 2 else 1, n=n, h0=h0, s0=s0)
    return walk.run(x, y, mask, per_step=per_step)


def snap_walk(model, B, n=1, h0=None, s0=None) -> OnlineWalk:
    """An online walk with the SnAp-n influence, for training: ``walk.run(x, y)`` per update."""
    if isinstance(n, bool) or n != 1:
        raise ValueError(f"n: expected 1 (SnAp-1; for a dense W, SnAp-n with n >= 2 keeps every entry of "
                         f"the influence, which is exact RTRL: bptt.rtrl), got {n!r}")
    return OnlineWalk(model, UnitInfluence(model, B), B, h0=h0, s0=s0)
