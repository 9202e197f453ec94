"""UORO: an unbiased rank-one estimate of RTRL's influence (Tallec & Ollivier 2017).

The walk is ``online.py``'s; this module keeps, for each stream, M(t) ~ s~(t) theta~(t)^T, a
column s~ (Z,) the size of the state and a row theta~ (P,) the size of the parameters. Each
step draws nu, Z independent random signs, and with rho0, rho1 > 0:

    s~(t)     = rho0 J(t) s~(t-1) + rho1 nu
    theta~(t) = theta~(t-1) / rho0 + nu^T I(t) / rho1
    rho0 = sqrt((||theta~(t-1)|| + eps) / (||J(t) s~(t-1)|| + eps))
    rho1 = sqrt((||nu^T I(t)|| + eps) / (||nu|| + eps))

so that s~(t) theta~(t)^T = J s~ theta~^T + rho1/rho0 nu theta~^T + rho0/rho1 J s~ nu^T I + nu nu^T I.
With E[nu nu^T] = 1 the last term's mean is I(t); the two cross terms are odd in nu (rho1 does
not change when nu flips sign), so their mean is 0: E[s~ theta~^T] = J E[s~ theta~^T] + I(t),
RTRL's recursion, and the gradient dL(t)/dz(t) s~(t) theta~(t)^T is unbiased at every step on a
fixed network. rho0 and rho1 balance the two factors' norms, which keeps the estimate's
variance from growing with the factors' imbalance. J s~ is a forward (tangent) product and
nu^T I a backward one, each as cheap as a step of BPTT: O(H^2) per step for the simple RNN.
The formulas are checked against a public implementation (uoro_demo's UOROVec, which uses
eps = 1e-7 as here); the estimator's unbiasedness is tested by the mean of thousands of draws.

Shape legend: B batch, I inputs, H hidden, G gate blocks, S states (1 or 2).
"""

from __future__ import annotations

import numpy as np

from .online import OnlineWalk, add_outer

EPS = 1e-7        # keeps rho0, rho1 finite while a factor is still zero (the first step)


class RankOneInfluence:
    """For each stream, s~ (B, S, H) and theta~ {name: (B, *shape)}; draws nu from ``rng``."""

    def __init__(self, model, B, rng):
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng: expected a numpy.random.Generator (np.random.default_rng(seed)), "
                             f"got {type(rng).__name__}")
        shapes = model.param_shapes()
        self.cell, self.rng = model.cell, rng
        self.names = ("U", "W", "b", *model.cell.extra_params(model.n_hidden))
        self.s = np.zeros((B, len(model.cell.states), model.n_hidden), model.dtype)
        self.theta = {n: np.zeros((B, *shapes[n]), model.dtype) for n in self.names}

    def step(self, step) -> None:
        D, A, W = step.D, step.A, step.W
        B, S, _, H = D.shape
        G = A[0].shape[2]
        # J(t) s~(t-1): the unit-diagonal part D, and the path through W h(t-1) (the h entries).
        Ws = (self.s[:, 0] @ W.T).reshape(B, G, H)                                    # W s~_h, (B, G, H)
        Js = np.einsum("bijk,bjk->bik", D, self.s) + np.einsum("bigk,bgk->bik", A[-1], Ws)
        # nu^T I(t): nu sent back through the step as an error at z(t), as a backward step does.
        nu = self.rng.integers(0, 2, size=self.s.shape).astype(self.s.dtype) * 2 - 1  # (B, S, H), +-1
        errors = [np.einsum("bik,bigk->bgk", nu, a).reshape(B, G * H) for a in A]    # (B, G*H) each
        nuI = {"U": np.zeros_like(self.theta["U"]), "W": errors[-1][:, :, None] * step.h_prev[:, None, :],
               "b": errors[0]}
        add_outer(nuI["U"], errors[0], step.x)
        nuI.update({n: np.einsum("bik,bimk->bmk", nu, e).reshape(B, -1) for n, e in step.E.items()})
        # The two scalings, per stream.
        norm_theta = np.sqrt(sum(np.square(v).reshape(B, -1).sum(axis=1) for v in self.theta.values()))
        norm_nuI = np.sqrt(sum(np.square(v).reshape(B, -1).sum(axis=1) for v in nuI.values()))
        norm_Js = np.sqrt(np.square(Js).reshape(B, -1).sum(axis=1))
        rho0 = np.sqrt((norm_theta + EPS) / (norm_Js + EPS))                          # (B,)
        rho1 = np.sqrt((norm_nuI + EPS) / (np.sqrt(S * H) + EPS))
        self.s = rho0[:, None, None] * Js + rho1[:, None, None] * nu
        for n in self.names:
            r0, r1 = (r.reshape(B, *(1,) * (self.theta[n].ndim - 1)) for r in (rho0, rho1))
            self.theta[n] = self.theta[n] / r0 + nuI[n] / r1

    def arrays(self) -> dict:
        """s~ and theta~ (the random generator's state is the caller's: see ``train/online.py``)."""
        return {"s": self.s, **{f"theta/{n}": v for n, v in self.theta.items()}}

    def load(self, arrays) -> None:
        self.s = arrays["s"].copy()
        self.theta = {n: arrays[f"theta/{n}"].copy() for n in self.names}

    def add_grads(self, dz, grads) -> None:
        """grads += sum over streams of (dL(t)/dz(t) . s~(t)) theta~(t)."""
        c = np.einsum("bik,bik->b", dz, self.s)                                       # (B,)
        for n in self.names:
            grads[n] += np.tensordot(c, self.theta[n], axes=1)


def uoro(model, x, y, rng, h0=None, s0=None, mask=None, *, per_step=False):
    """Loss and a UORO estimate of the gradients of a one-layer network, forward in time.

    rng: a ``numpy.random.Generator``, which draws the random signs (one draw per stream and
    step). Other arguments as ``bptt.rtrl``. Returns an ``OnlineGradients``: its grads are an
    unbiased estimate of BPTT's (their mean over draws is the gradient), not the gradient.
    """
    walk = uoro_walk(model, np.asarray(x).shape[1] if np.ndim(x) >= 2 else 1, rng, h0=h0, s0=s0)
    return walk.run(x, y, mask, per_step=per_step)


def uoro_walk(model, B, rng, h0=None, s0=None) -> OnlineWalk:
    """An online walk with UORO's influence, for training: ``walk.run(x, y)`` per update."""
    return OnlineWalk(model, RankOneInfluence(model, B, rng), B, h0=h0, s0=s0)
