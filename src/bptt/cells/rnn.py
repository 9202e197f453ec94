"""The recurrent cell: one time step, forward and backward side by side.

A cell owns only its step pair; the loop over time lives in ``unroll.py`` and is written
once for every cell. The input projection b + U x(t) is computed for all steps before the
loop (``xu``), so a step only adds the recurrent term.

Row-vector convention: a batch of hidden states is h (B, H), so the book's W h(t-1) is
``h_prev @ W.T`` and W^T dL/da(t) is ``da @ W``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..activations import ACTIVATIONS, DERIVATIVES


@dataclass(frozen=True)
class RNNCell:
    """h(t) = f(a(t)),  a(t) = b + W h(t-1) + U x(t)          (book eqs. 10.8-10.9)."""

    nonlinearity: str = "tanh"

    def step_forward(self, xu_t, h_prev, W_T, a_t, h_t):
        """xu_t = b + U x(t) (B, H), h_prev (B, H) -> writes a(t) into a_t, h(t) into h_t.

        W_T is W transposed and C-contiguous: OpenBLAS multiplies it faster than the strided
        view W.T at these sizes, so the loop makes the copy once, not per step.
        """
        np.matmul(h_prev, W_T, out=a_t)
        a_t += xu_t
        ACTIVATIONS[self.nonlinearity](a_t, out=h_t)

    def derivative(self, h, out=None):
        """f'(a) from h = f(a), any shape: for all steps at once, before the reverse loop."""
        return DERIVATIVES[self.nonlinearity](h, out=out)

    def step_backward(self, dh_t, fprime_t, W, da_t, dh_prev):
        """dL/dh(t) (B, H), f'(a(t)) -> writes dL/da(t) into da_t and W^T dL/da(t) into dh_prev.

        dL/da(t) = f'(a(t)) * dL/dh(t)   (diag(1 - h(t)^2) for tanh, book eq. 10.21)
        and W^T dL/da(t) is what step t sends back to h(t-1). da_t may hold f' itself.
        """
        np.multiply(dh_t, fprime_t, out=da_t)
        np.matmul(da_t, W, out=dh_prev)
