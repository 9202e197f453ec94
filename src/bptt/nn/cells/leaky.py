"""Leaky units (Goodfellow et al., *Deep Learning*, 10.9.2): one step, forward and backward.

    a(t) = b + W h(t-1) + U x(t)                          as the simple RNN's (10.8)
    g(t) = tanh(a(t))
    h(t) = (1 - alpha) * h(t-1) + alpha * g(t)            alpha (H,), one per unit, in (0, 1]

Each unit is a running average of its own tanh with time constant about 1/alpha: alpha = 1 is
the simple RNN's unit, alpha = 0.01 remembers over about 100 steps (the book: "a unit with
alpha near zero ... remembers information about the past for a long time"). The initial alphas
are spread geometrically over [alpha_min, alpha_max] across the H units, unit 0 the fastest:
alpha_i = alpha_max (alpha_min / alpha_max)^(i / (H - 1)), a range of time scales from
1/alpha_max to 1/alpha_min steps.

``learn_alpha`` (the default): alpha = sigmoid(alpha_logit), alpha_logit (H,) a parameter of the
cell (``extra_params``), started at logit of the spread above and learned with the rest, so alpha
stays in (0, 1) and alpha_max must be below 1. Otherwise alpha is that spread, fixed, and the
cell has no extra parameter.

Backward, with dh(t) the total error at h(t) (what the readout or the layer above sends plus
what step t+1 sends back):

    dL/da(t)   = dh(t) * alpha * (1 - g(t)^2)
    dL/dh(t-1) gets W^T dL/da(t) + (1 - alpha) * dh(t)           (the leak: a direct path)
    dL/dalpha  = sum_t dh(t) * (g(t) - h(t-1));  dalpha/dalpha_logit = alpha (1 - alpha)

torch.nn has no leaky unit: ``torch = None``, so ``to_torch`` refuses the cell; the tests check
it against a leaky module written in torch (``tests/torch_reference.py``). The contract every
cell keeps is written in ``cells/__init__.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ._merged_bias import merged_from_torch, merged_grads, merged_to_torch
from ._scratch import fresh
from ..._validate import number_in
from ..activations import tanh_derivative


@lru_cache(maxsize=64)
def spread(alpha_min: float, alpha_max: float, H: int, dtype: str) -> np.ndarray:
    """alpha_i = alpha_max (alpha_min / alpha_max)^(i / (H - 1)), i = 0..H-1 (H,), read-only."""
    i = np.arange(H) / max(H - 1, 1)
    alpha = (alpha_max * (alpha_min / alpha_max) ** i).astype(dtype)
    alpha.setflags(write=False)
    return alpha


@dataclass(frozen=True)
class LeakyCell:
    """h(t) = (1 - alpha) h(t-1) + alpha tanh(b + W h(t-1) + U x(t)); U (H, I), W (H, H), b (H,),
    and alpha_logit (H,) when alpha is learned."""

    alpha_min: float = 0.01      # the slowest unit's alpha: a time scale of 100 steps
    alpha_max: float = 0.9       # the fastest's (below 1: a learned alpha = sigmoid(.) never reaches 1)
    learn_alpha: bool = True     # alpha = sigmoid(alpha_logit), learned; False: the spread, fixed

    name = "leaky"
    gates = 1
    states = ("h",)
    keeps = (("g", 1),)          # g(t) = tanh(a(t)) (B, H)
    errors = ("a",)              # dL/da(t) (B, H)
    torch = None                 # torch.nn has no leaky unit

    def __post_init__(self):
        if not isinstance(self.learn_alpha, (bool, np.bool_)):
            raise ValueError(f"learn_alpha: expected True or False, got {self.learn_alpha!r}")
        if self.learn_alpha:         # sigmoid(alpha_logit) stays below 1
            number_in("alpha_max", self.alpha_max, 0, 1, note="below 1 with learn_alpha")
        else:
            number_in("alpha_max", self.alpha_max, 0, 1, hi_open=False)
        number_in("alpha_min", self.alpha_min, 0, self.alpha_max, hi_open=False, note="at most alpha_max")

    def options(self) -> dict:
        return {"alpha_min": self.alpha_min, "alpha_max": self.alpha_max, "learn_alpha": self.learn_alpha}

    def extra_params(self, H) -> dict:
        return {"alpha_logit": (H,)} if self.learn_alpha else {}

    def adjust_init(self, params, H, rng) -> None:
        """alpha_logit = logit of the spread of time scales (the uniform draw is overwritten)."""
        if self.learn_alpha:
            alpha = spread(self.alpha_min, self.alpha_max, H, "float64")
            params["alpha_logit"][...] = np.log(alpha) - np.log1p(-alpha)

    def alpha(self, P, H, dtype):
        """The units' alpha (H,): sigmoid(alpha_logit) from ``P.extra``, or the fixed spread."""
        if self.learn_alpha:
            return 1.0 / (1.0 + np.exp(-P.extra["alpha_logit"]))
        return spread(self.alpha_min, self.alpha_max, H, np.dtype(dtype).name)

    def extra_grads(self, lp, states, keeps, errors, per_step=False) -> dict:
        """dL/dalpha_logit = sum_t dh(t) (g(t) - h(t-1)) alpha (1 - alpha), over T and B (or B only)."""
        if not self.learn_alpha:
            return {}
        dh = errors["h"]                                                  # (T, B, H)
        alpha = 1.0 / (1.0 + np.exp(-lp["alpha_logit"]))
        out = "th" if per_step else "h"                                   # einsum: no (T, B, H) temporary
        d = np.einsum(f"tbh,tbh->{out}", dh, keeps["g"]) - np.einsum(f"tbh,tbh->{out}", dh, states["h"][:-1])
        return {"alpha_logit": d * (alpha * (1 - alpha))}

    # ------------------------------------------------------------------ the step pair
    def step_forward(self, P, xu_t, h_prev, h_t, g_t):
        """xu_t = b + U x(t) (B, H), h_prev = h(t-1) (B, H) -> writes g(t) into g_t, h(t) into h_t."""
        alpha = self.alpha(P, h_prev.shape[-1], h_t.dtype)
        np.matmul(h_prev, P.W_T, out=g_t)
        g_t += xu_t
        np.tanh(g_t, out=g_t)
        np.subtract(g_t, h_prev, out=h_t)             # h(t) = h(t-1) + alpha (g(t) - h(t-1))
        h_t *= alpha
        h_t += h_prev

    def backward_locals(self, states, keeps, errors, scratch=fresh):
        """1 - g(t)^2 for every step at once, written into dL/da's buffer (each step reads it
        there before writing dL/da(t) over it); alpha multiplies in at the step."""
        return (tanh_derivative(keeps["g"], out=errors["a"]),)

    def step_backward(self, P, carry_h, dout_t, dh_t, fprime_t, da_t):
        """carry_h = what step t+1 sends back to h(t) on entry -> what step t sends to h(t-1) on exit.

        dL/dh(t) = dout_t + carry_h
        dL/da(t) = alpha (1 - g(t)^2) dL/dh(t)
        sent to h(t-1): W^T dL/da(t) + (1 - alpha) dL/dh(t)
        """
        alpha = self.alpha(P, dh_t.shape[-1], dh_t.dtype)
        np.add(dout_t, carry_h, out=dh_t)
        np.multiply(dh_t, fprime_t, out=da_t)
        da_t *= alpha
        np.matmul(da_t, P.W, out=carry_h)
        carry_h += dh_t * (1 - alpha)

    # --------------------------------------------------- forward in time (RTRL, UORO, SnAp)
    def step_jacobians(self, P, h_prev, h_t, g_t):
        """D = 1 - alpha (the leak: h(t) reads h(t-1) directly); A = alpha (1 - g(t)^2), (B, 1, 1, H)."""
        H = h_t.shape[-1]
        alpha = self.alpha(P, H, h_t.dtype)
        D = np.broadcast_to(1 - alpha, h_t.shape)[..., None, None, :].copy()
        return D, ((alpha * tanh_derivative(g_t))[..., None, None, :],)

    def extra_jacobians(self, A, P, h_prev, h_t, g_t) -> dict:
        """dh(t)/dalpha_logit = (g(t) - h(t-1)) alpha (1 - alpha), unit by unit (B, 1, 1, H)."""
        if not self.learn_alpha:
            return {}
        alpha = self.alpha(P, h_t.shape[-1], h_t.dtype)
        return {"alpha_logit": ((g_t - h_prev) * (alpha * (1 - alpha)))[..., None, None, :]}

    # ------------------------------------------------------------- what only the RNN has
    def vanishing_bound(self, W):
        return None      # the leak adds (1 - alpha) I to the step Jacobian: sigma_max(W) alone bounds nothing

    # ----------------------------------------------------------------- PyTorch mapping
    def torch_options(self) -> dict:
        return self.options()     # the options of the tests' torch module (``torch`` is None)

    from_torch_biases = merged_from_torch      # b = b_ih + b_hh, for the tests' torch module
    to_torch_biases = merged_to_torch
    torch_bias_grads = merged_grads
