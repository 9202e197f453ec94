"""Real-time recurrent learning (Williams & Zipser 1989): the exact influence, carried forward.

The walk is ``online.py``'s; this module keeps the influence matrix itself, every entry:

    M(t) = J(t) M(t-1) + I(t)         M (B, Z, P): for each stream, dz(t)/dtheta
    dL/dtheta += dL(t)/dz(t) M(t)

J(t) M(t-1) is a (Z, Z) by (Z, P) product per stream: for the simple RNN (Z = H, P = H (I + H + 1))
that is O(H^4) time per step and O(H^3) memory, whatever T, against BPTT's O(H^2) per step and
O(T H) memory. Its summed gradient is BPTT's, to rounding (tests/nn/test_rtrl.py), without a
backward pass. The initial states' gradient comes the same way: Phi(t) = dz(t)/dz(0) =
J(t) Phi(t-1), dL/dz(0) += dL(t)/dz(t) Phi(t).

Shape legend: T time, B batch, I inputs, H hidden, G gate blocks, Z = S*H the state's width,
P the recurrent parameters' count.
"""

from __future__ import annotations

import numpy as np

from .online import Layout, OnlineWalk, add_outer, dense_jacobians, dense_unit

DEFAULT_MAX_BYTES = 1 << 30        # what ``rtrl`` allocates for M before it refuses


class ExactInfluence:
    """M (B, Z, P), every entry of dz(t)/dtheta; with ``initial``, also Phi (B, Z, Z) = dz(t)/dz(0)."""

    def __init__(self, model, B, initial=False):
        self.layout = Layout.of(model)
        self.cell = model.cell
        Z = len(model.cell.states) * model.n_hidden
        self.M = np.zeros((B, Z, self.layout.size), dtype=model.dtype)          # (B, Z, P)
        self._next = np.empty_like(self.M)
        self.Phi = np.broadcast_to(np.eye(Z, dtype=model.dtype), (B, Z, Z)).copy() if initial else None
        self.d_initial = np.zeros((B, len(model.cell.states), model.n_hidden), model.dtype) if initial else None

    def step(self, step) -> None:
        J, dense = dense_jacobians(step)                       # (B, Z, Z), (B, Z, G*H) per error
        np.matmul(J, self.M, out=self._next)                   # J(t) M(t-1): the O(H^4) product
        self.M, self._next = self._next, self.M
        # I(t): the step's own dz/dtheta, outer products with what the products read.
        views = self.layout.views(self.M)
        a_in, a_rec = dense[0], dense[-1]
        add_outer(views["U"], a_in, step.x)                    # dz/dU = A_in x(t)^T
        views["W"] += a_rec[..., None] * step.h_prev[:, None, None, :]    # dz/dW = A_rec h(t-1)^T
        views["b"] += a_in                                     # dz/db = A_in
        for name, d in step.E.items():                         # dz/d each extra parameter
            views[name] += dense_unit(d).reshape(views[name].shape)
        if self.Phi is not None:
            self.Phi = J @ self.Phi

    def arrays(self) -> dict:
        out = {"M": self.M}
        if self.Phi is not None:
            out.update({"Phi": self.Phi, "d_initial": self.d_initial})
        return out

    def load(self, arrays) -> None:
        self.M[...] = arrays["M"]
        if self.Phi is not None:
            self.Phi[...], self.d_initial[...] = arrays["Phi"], arrays["d_initial"]

    def add_grads(self, dz, grads) -> None:
        """grads[name] += sum over the streams of dL(t)/dz(t) M(t); dL/dz(0) likewise through Phi."""
        B = dz.shape[0]
        row = dz.reshape(B, 1, -1)                                              # (B, 1, Z)
        g = (row @ self.M).sum(axis=(0, 1))                                     # (P,)
        for name, v in self.layout.views(g).items():
            grads[name] += v
        if self.Phi is not None:
            self.d_initial += (row @ self.Phi).reshape(self.d_initial.shape)


def influence_bytes(model, B) -> int:
    """The bytes of exact RTRL's M for ``model`` and B streams: B Z P entries."""
    Z = len(model.cell.states) * model.n_hidden
    return B * Z * Layout.of(model).size * np.dtype(model.dtype).itemsize


def rtrl(model, x, y, h0=None, s0=None, mask=None, *, per_step=False, max_bytes=DEFAULT_MAX_BYTES):
    """Loss and gradients of one layer's network by real-time recurrent learning: forward in time only.

    x, y, h0, s0, mask: as ``model.forward`` and ``model.backward`` take them.
    per_step: also return each step's dL(t)/dtheta (leading T axis), what an online learner
    applies step by step. max_bytes: refuse (ValueError) when M would need more; None: no limit.
    Returns an ``OnlineGradients`` with loss, grads (equal to BPTT's), dh0 (and ds0 for the LSTM).

    Example:
        >>> import numpy as np, bptt
        >>> model = bptt.SimpleRNN(3, 4, 3, seed=0)
        >>> x = np.array([[0, 1], [2, 0], [1, 1]])
        >>> exact = bptt.rtrl(model, x, x).grads["W"]
        >>> bool(np.allclose(exact, model.gradients(x, x).grads["W"], rtol=1e-12, atol=0))
        True
    """
    x = np.asarray(x)
    B = x.shape[1] if x.ndim >= 2 else 1
    need = influence_bytes(model, B)
    if max_bytes is not None and need > max_bytes:
        raise ValueError(f"model: exact RTRL needs {need:,} bytes for its influence matrix (B = {B}, "
                         f"H = {model.n_hidden}), more than max_bytes = {max_bytes:,}; use bptt.snap or "
                         f"bptt.uoro, or pass max_bytes=None")
    walk = OnlineWalk(model, ExactInfluence(model, B, initial=True), B, h0=h0, s0=s0)
    return walk.run(x, y, mask, per_step=per_step)


def rtrl_walk(model, B, h0=None, s0=None) -> OnlineWalk:
    """An online walk with the exact influence, for training: ``walk.run(x, y)`` per update."""
    return OnlineWalk(model, ExactInfluence(model, B), B, h0=h0, s0=s0)
