"""The simple recurrent cell of Goodfellow et al., *Deep Learning*, ch. 10: one step, forward and backward.

    a(t) = b + W h(t-1) + U x(t)        (10.8)     PyTorch nn.RNN: the same, b = b_ih + b_hh
    h(t) = f(a(t))                      (10.9, f = tanh; relu and linear here too)

The input projection b + U x(t) arrives computed for all steps (``xu_t``), so a step only adds
the recurrent term. The contract every cell keeps is written in ``cells/__init__.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._merged_bias import merged_from_torch, merged_grads, merged_to_torch
from ._scratch import fresh
from ..._validate import choice
from ..activations import ACTIVATIONS, DERIVATIVES, GAMMA


@dataclass(frozen=True)
class RNNCell:
    """h(t) = f(b + W h(t-1) + U x(t)); U (H, I), W (H, H), b (H,)."""

    nonlinearity: str = "tanh"

    name = "rnn"
    gates = 1
    states = ("h",)
    keeps = (("a", 1),)          # a(t), the pre-activation (B, H)
    errors = ("a",)              # dL/da(t) (B, H)
    torch = "RNN"

    def __post_init__(self):
        choice("nonlinearity", self.nonlinearity, tuple(ACTIVATIONS))

    def options(self) -> dict:
        return {"nonlinearity": self.nonlinearity}

    def extra_params(self, H) -> dict:
        return {}

    def adjust_init(self, params, H, rng) -> None:
        pass

    def extra_grads(self, lp, states, keeps, errors, per_step=False) -> dict:
        return {}

    # ------------------------------------------------------------------ the step pair
    def step_forward(self, P, xu_t, h_prev, h_t, a_t):
        """xu_t = b + U x(t) (B, H), h_prev = h(t-1) (B, H) -> writes a(t) into a_t, h(t) into h_t."""
        np.matmul(h_prev, P.W_T, out=a_t)
        a_t += xu_t
        ACTIVATIONS[self.nonlinearity](a_t, out=h_t)

    def backward_locals(self, states, keeps, errors, scratch=fresh):
        """f'(a(t)) for every step at once, from h(t) = f(a(t)) (tanh: 1 - h(t)^2), written
        into dL/da's buffer: each step reads its f' there before writing dL/da(t) over it."""
        return (DERIVATIVES[self.nonlinearity](states["h"][1:], out=errors["a"]),)

    def step_backward(self, P, carry_h, dout_t, dh_t, fprime_t, da_t):
        """carry_h = W^T dL/da(t+1) (B, H) on entry -> W^T dL/da(t) on exit.

        dL/dh(t) = dout_t + W^T dL/da(t+1)                     (10.21; dout_t = V^T dL/do(t))
        dL/da(t) = f'(a(t)) * dL/dh(t)                         (diag(1 - h(t)^2) for tanh)
        """
        np.add(dout_t, carry_h, out=dh_t)
        np.multiply(dh_t, fprime_t, out=da_t)
        np.matmul(da_t, P.W, out=carry_h)

    # ------------------------------------------------------------------ the explain page
    def page_terms(self, states, keeps, errors, local, Ux, Wh, b) -> dict:
        """fprime: f'(a(t)), with which dL/da = fprime dL/dh (T, B, H)."""
        fprime, = local
        return {"fprime": fprime}

    # ------------------------------------------------------- the step's partial Jacobians
    def step_jacobians(self, P, h_prev, h_t, a_t):
        """D = 0 (h(t) reads h(t-1) only through W); A = f'(a(t)) (B, 1, 1, H): dh(t)/da(t) is diagonal."""
        fprime = DERIVATIVES[self.nonlinearity](h_t)                  # (B, H), from h(t) = f(a(t))
        D = np.zeros((*h_t.shape[:-1], 1, 1, h_t.shape[-1]), dtype=h_t.dtype)
        return D, (fprime[..., None, None, :],)

    def extra_jacobians(self, A, P, *step) -> dict:
        return {}

    # ------------------------------------------------------------- what only the RNN has
    def vanishing_bound(self, W):
        """Pascanu et al. (2013): ||dh(k)/dh(k-1)|| <= sigma_max(W) gamma, gamma a bound on |f'|."""
        return GAMMA[self.nonlinearity]

    # ----------------------------------------------------------------- PyTorch mapping
    def torch_options(self) -> dict:
        if self.nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity: torch.nn.RNN supports 'tanh' and 'relu', got {self.nonlinearity!r}")
        return {"nonlinearity": self.nonlinearity}

    from_torch_biases = merged_from_torch      # b = b_ih + b_hh
    to_torch_biases = merged_to_torch
    torch_bias_grads = merged_grads
