"""The gated recurrent unit (Cho et al. 2014) in PyTorch's formulation: one step, forward and backward.

PyTorch's nn.GRU, whose gate order (r, z, n) the blocks of U, W, b follow:

    r = sigmoid(b_r + W_r h(t-1) + U_r x(t))               the reset gate
    z = sigmoid(b_z + W_z h(t-1) + U_z x(t))               the update gate
    n = tanh(b_n + U_n x(t) + r * (W_n h(t-1) + b_hn))      the candidate
    h(t) = (1 - z) * n + z * h(t-1)

r multiplies W_n h(t-1) + b_hn, so the recurrent bias of the n block cannot be merged into b:
the cell keeps it as its own parameter b_hn (H,) (b = bias_ih + bias_hh for r and z, bias_ih
for n). Cho et al.'s original applies r to h(t-1) before W_n; this is PyTorch's variant.
Goodfellow et al., *Deep Learning*, 10.10.2 (eqs. 10.45-10.47) write the same unit with u for
the update gate and the roles of z and 1 - z swapped.

Backward, with dh(t) the error at h(t):

    dn = dh * (1 - z)        da_n = dn * (1 - n^2)               (input side of the n block)
    dz = dh * (h(t-1) - n)   da_z = dz * z (1 - z)
    dr = da_n * (W_n h(t-1) + b_hn)   da_r = dr * r (1 - r)
    recurrent side: [da_r, da_z, da_n * r]:  dW = sum_t (.)^T h(t-1),  db_hn = sum_t da_n * r
    dh(t-1) = W^T [da_r, da_z, da_n * r] + dh * z

The contract every cell keeps is written in ``cells/__init__.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _fast_gru, _kernels
from ._chrono import chrono_biases, chrono_t_max
from ._page import from_next_step
from ._scratch import fresh
from ..activations import sigmoid, sigmoid_derivative, tanh_derivative


@dataclass(frozen=True)
class GRUCell:
    """h(t) = (1 - z) n + z h(t-1); U (3H, I), W (3H, H), b (3H,), b_hn (H,) in gate order r, z, n.

    chrono: T_max, the longest lag the task asks the cell to carry, or None: with it the update
    gate's bias is drawn as Tallec & Ollivier (2018) draw the LSTM's forget gate's (``adjust_init``).
    """

    chrono: int | None = None

    name = "gru"
    gates = 3
    states = ("h",)
    keeps = (("gates", 3), ("hn", 1))      # r, z, n after their nonlinearities; W_n h(t-1) + b_hn
    errors = ("a", "a_hh")                 # dL/da(t) on the input side; the recurrent side's
    torch = "GRU"

    def __post_init__(self):
        chrono_t_max(self.chrono)

    def options(self) -> dict:
        return {} if self.chrono is None else {"chrono": self.chrono}

    def extra_params(self, H) -> dict:
        return {"b_hn": (H,)}

    def adjust_init(self, params, H, rng) -> None:
        """Nothing by default. With ``chrono`` = T_max, b_z = log(u), u ~ uniform[1, T_max - 1].

        Here h(t) = z h(t-1) + (1 - z) n: z is the share of h(t-1) kept, the role the LSTM's
        forget gate f has in s(t) = f s(t-1) + i g, and 1 - z the share of the new candidate, the
        input gate's (tied to f here). So b_z takes the LSTM's b_f = +log(u): z starts at
        u / (1 + u), the time constant 1 / (1 - z) = 1 + u. (Written h(t) = (1 - z) h(t-1) + z n
        instead, z is the candidate's share and the sign flips: b_z = -log(u).) b is b_ih + b_hh
        for the z block, so the whole draw sits in b."""
        if self.chrono is not None:
            params["b"][H:2 * H] = chrono_biases(self.chrono, H, rng)

    def extra_grads(self, lp, states, keeps, errors, per_step=False) -> dict:
        a_hh = errors["a_hh"]
        H = a_hh.shape[-1] // 3
        n_side = a_hh[..., 2 * H:]                              # da_n * r, (T, B, H)
        return {"b_hn": n_side.sum(axis=1) if per_step else n_side.sum(axis=(0, 1))}

    # ------------------------------------------------------------------ the step pair
    def step_forward(self, P, xu_t, h_prev, h_t, gates_t, hn_t):
        """xu_t = b + U x(t) (B, 3H), h_prev (B, H) -> writes h(t), the gates r, z, n and W_n h(t-1) + b_hn."""
        if _kernels.fast((h_prev, h_t, hn_t), (xu_t, gates_t)):
            return _fast_gru.step_forward(P, xu_t, h_prev, h_t, gates_t, hn_t)   # the same bits
        H = h_prev.shape[-1]
        np.matmul(h_prev, P.W_T, out=gates_t)                    # W h(t-1), all three blocks at once
        np.add(gates_t[..., 2 * H:], P.extra["b_hn"], out=hn_t)  # W_n h(t-1) + b_hn, kept for backward
        rz = gates_t[..., :2 * H]
        rz += xu_t[..., :2 * H]
        sigmoid(rz, out=rz)
        n = gates_t[..., 2 * H:]
        np.multiply(gates_t[..., :H], hn_t, out=n)               # r * (W_n h(t-1) + b_hn)
        n += xu_t[..., 2 * H:]
        np.tanh(n, out=n)
        np.subtract(h_prev, n, out=h_t)                          # h(t) = n + z (h(t-1) - n)
        h_t *= gates_t[..., H:2 * H]
        h_t += n

    def backward_locals(self, states, keeps, errors, scratch=fresh):
        """For all steps at once: N = (1 - z)(1 - n^2) (dh -> da_n), Dz = (h(t-1) - n) z (1 - z)
        (dh -> da_z), R = (W_n h + b_hn) r (1 - r) (da_n -> da_r), and r and z themselves."""
        gates, hn, h_prev = keeps["gates"], keeps["hn"], states["h"][:-1]
        H = hn.shape[-1]
        r, z, n = (gates[..., k * H:(k + 1) * H] for k in range(3))
        N, Dz, R = (scratch(name, hn.shape, hn.dtype) for name in ("N", "Dz", "R"))   # (T, B, H) each
        if _kernels.fast((hn, h_prev, N, Dz, R), (gates,), ndim=3):
            _fast_gru.backward_locals(gates, hn, h_prev, N, Dz, R)   # the same bits, one pass
            return N, Dz, R, r, z
        tanh_derivative(n, out=N)
        np.subtract(1, z, out=Dz)
        N *= Dz                                       # (1 - z)(1 - n^2)
        Dz *= z
        np.subtract(h_prev, n, out=R)                 # (R's buffer, free until below)
        Dz *= R                                       # (h(t-1) - n) z (1 - z)
        sigmoid_derivative(r, out=R)
        R *= hn                                       # (W_n h + b_hn) r (1 - r)
        return N, Dz, R, r, z

    def step_backward(self, P, carry_h, dout_t, dh_t, N_t, Dz_t, R_t, r_t, z_t, da_t, dahh_t):
        """carry_h = what step t+1 sends back to h(t) on entry -> what step t sends to h(t-1) on exit."""
        if _kernels.fast((carry_h, dout_t, dh_t, N_t, Dz_t, R_t, r_t, z_t), (da_t, dahh_t)):
            return _fast_gru.step_backward(P, carry_h, dout_t, dh_t, N_t, Dz_t, R_t, r_t, z_t, da_t, dahh_t)
        H = dh_t.shape[-1]
        np.add(dout_t, carry_h, out=dh_t)                        # dL/dh(t)
        da_n = da_t[..., 2 * H:]
        np.multiply(dh_t, N_t, out=da_n)
        np.multiply(dh_t, Dz_t, out=da_t[..., H:2 * H])
        np.multiply(da_n, R_t, out=da_t[..., :H])
        dahh_t[..., :2 * H] = da_t[..., :2 * H]
        np.multiply(da_n, r_t, out=dahh_t[..., 2 * H:])
        np.matmul(dahh_t, P.W, out=carry_h)
        carry_h += dh_t * z_t                                    # the direct path z * h(t-1)

    # ------------------------------------------------------------------ the explain page
    def page_terms(self, states, keeps, errors, local, Ux, Wh, b) -> dict:
        """The terms of the GRU's equations (T, B, width):

        pre    the gates' pre-activations (3H): b + Ux + Wh, the n block b_n + U_n x + rhn
        rhn    r (W_n h(t-1) + b_hn), the n block's recurrent term   a_n = b_n + U_n x + rhn
        zn, zh (1 - z) n, z h(t-1)                                   h(t) = zn + zh
        zdh    z(t+1) dL/dh(t+1), zero after the last step           dL/dh = out + Wda + zdh
        local  (3H) in gate order: dL/da_r = local dL/da_n, dL/da_z,n = local dL/dh
        """
        N, Dz, R, r, z = local
        H = N.shape[-1]
        n, hn = keeps["gates"][..., 2 * H:], keeps["hn"]
        pre = Ux + Wh + b
        pre[..., 2 * H:] += r * hn - Wh[..., 2 * H:]                  # r (W_n h(t-1) + b_hn) for W_n h(t-1)
        return dict(pre=pre, rhn=r * hn, zn=(1 - z) * n, zh=z * states["h"][:-1], zdh=from_next_step(z * errors["h"]),
                    local=np.concatenate([R, Dz, N], axis=-1))

    # ------------------------------------------------------- the step's partial Jacobians
    def step_jacobians(self, P, h_prev, h_t, gates_t, hn_t):
        """D = z (the direct path z h(t-1)); A for the input side a(t) and the recurrent side
        W h(t-1) + b_hn, gate blocks r, z, n (diagonals, (B, 1, 3, H) each).

        dh/da_n = N = (1 - z)(1 - n^2), dh/da_z = (h(t-1) - n) z (1 - z),
        dh/da_r = N (W_n h + b_hn) r (1 - r); on the recurrent side the n block is N r.
        """
        H = h_t.shape[-1]
        r, z, n = (gates_t[..., k * H:(k + 1) * H] for k in range(3))
        N = (1 - z) * tanh_derivative(n)
        dz = (h_prev - n) * sigmoid_derivative(z)
        dr = N * hn_t * sigmoid_derivative(r)
        a_in = np.stack([dr, dz, N], axis=-2)[..., None, :, :]                 # (B, 1, 3, H)
        a_hh = np.stack([dr, dz, N * r], axis=-2)[..., None, :, :]
        return z[..., None, None, :].copy(), (a_in, a_hh)

    def extra_jacobians(self, A, P, *step) -> dict:
        """b_hn enters where W_n h(t-1) does: d state/d b_hn is the recurrent side's n block of A."""
        return {"b_hn": A[-1][..., 2:3, :]}

    # ------------------------------------------------------------- what only the RNN has
    def vanishing_bound(self, W):
        return None            # W is (3H, H): no single square matrix whose radius bounds the chain

    # ----------------------------------------------------------------- PyTorch mapping
    def torch_options(self) -> dict:
        return {}

    def from_torch_biases(self, b_ih, b_hh) -> dict:
        H = b_ih.shape[0] // 3
        b = b_ih.copy()
        b[:2 * H] += b_hh[:2 * H]
        return {"b": b, "b_hn": b_hh[2 * H:].copy()}

    def to_torch_biases(self, params) -> tuple:
        b = params["b"]
        H = b.shape[0] // 3
        b_hh = np.zeros_like(b)
        b_hh[2 * H:] = params["b_hn"]
        return b, b_hh

    def torch_bias_grads(self, g_ih, g_hh) -> dict:
        """dL/db = dL/db_ih (b_ih enters every block where b does); dL/db_hn is the n block of dL/db_hh."""
        H = g_ih.shape[0] // 3
        return {"b": g_ih, "b_hn": g_hh[2 * H:]}
