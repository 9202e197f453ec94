"""The long short-term memory cell (Hochreiter & Schmidhuber 1997, with the forget gate of Gers
et al. 2000): one step, forward and backward.

PyTorch's nn.LSTM, whose gate order (i, f, g, o) the blocks of U, W, b follow:

    [i f g o](t) = b + W h(t-1) + U x(t)       pre-activations, (B, 4H)
    i = sigmoid(.), f = sigmoid(.), g = tanh(.), o = sigmoid(.)
    s(t) = f * s(t-1) + i * g                  the cell state (PyTorch's c)
    h(t) = o * tanh(s(t))

Goodfellow et al., *Deep Learning*, 10.10.1 (eqs. 10.40-10.44), name the same quantities: the
forget gate f_i(t), the external input gate g_i(t) (PyTorch's i), the cell's input
sigma(b_i + U x + W h) (PyTorch's g, squashed by tanh rather than the sigmoid), the output
gate q_i(t) (PyTorch's o), the state s_i(t) = f s(t-1) + g sigma(...) and h = tanh(s) q.

Backward, with dh(t) the error at h(t) and ds(t) the error at s(t):

    ds(t) = dh(t) * o * (1 - tanh(s)^2) + f(t+1) * ds(t+1)     the additive path that carries
                                                                errors back without a W product
    da_i = ds * g * i (1 - i)        da_f = ds * s(t-1) * f (1 - f)
    da_g = ds * i * (1 - g^2)        da_o = dh * tanh(s) * o (1 - o)
    dh(t-1) += W^T da(t)             ds(t-1) += f(t) * ds(t)

The contract every cell keeps is written in ``cells/__init__.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _fast_lstm, _kernels
from ._chrono import chrono_biases, chrono_t_max
from ._merged_bias import merged_from_torch, merged_grads, merged_to_torch
from ._page import from_next_step
from ._scratch import fresh
from ..._validate import number_in
from ..activations import sigmoid, sigmoid_derivative, tanh_derivative


@dataclass(frozen=True)
class LSTMCell:
    """s(t) = f s(t-1) + i g, h(t) = o tanh(s(t)); U (4H, I), W (4H, H), b (4H,) in gate order i, f, g, o.

    forget_bias: added to the forget gate's bias at initialisation (Jozefowicz et al. 2015).
    chrono: T_max, the longest lag the task asks the cell to carry, or None: with it the forget
    and input gates' biases are drawn as Tallec & Ollivier (2018) do instead (``adjust_init``).
    """

    forget_bias: float = 1.0
    chrono: int | None = None

    name = "lstm"
    gates = 4
    states = ("h", "s")
    keeps = (("gates", 4), ("tanh_s", 1))     # i, f, g, o after their nonlinearities; tanh(s(t))
    errors = ("a",)                           # dL/da(t), the pre-activations of the four gates
    torch = "LSTM"

    def __post_init__(self):
        number_in("forget_bias", self.forget_bias)
        chrono_t_max(self.chrono)
        if self.chrono is not None and self.forget_bias != 1.0:
            raise ValueError(f"forget_bias: expected the default 1.0 with chrono (chrono draws the forget "
                             f"gate's bias itself), got {self.forget_bias!r}")

    def options(self) -> dict:
        # chrono only where it is set: a model initialised without it has the spec it always had
        return {"forget_bias": self.forget_bias, **({} if self.chrono is None else {"chrono": self.chrono})}

    def extra_params(self, H) -> dict:
        return {}

    def adjust_init(self, params, H, rng) -> None:
        """Add ``forget_bias`` to the forget gate's bias (Jozefowicz et al. 2015): at 1 the cell
        starts by keeping its state, so errors travel back from the first update on; f = 0.73
        keeps 0.73^k of an error after k steps, which is 5e-13 at k = 90.

        With ``chrono`` = T_max, the chrono initialisation of Tallec & Ollivier (2018) instead:
        b_f = log(u), u ~ uniform[1, T_max - 1] for each unit, and b_i = -b_f. A unit then starts
        with f = u / (1 + u), so its state decays with the time constant 1 / (1 - f) = 1 + u,
        spread over [2, T_max]; its input gate starts as open as its forget gate is shut."""
        b = params["b"]
        if self.chrono is None:
            b[H:2 * H] += b.dtype.type(self.forget_bias)
            return
        b_f = chrono_biases(self.chrono, H, rng)
        b[H:2 * H] = b_f
        b[:H] = -b_f

    def extra_grads(self, lp, states, keeps, errors, per_step=False) -> dict:
        return {}

    # ------------------------------------------------------------------ the step pair
    def step_forward(self, P, xu_t, h_prev, s_prev, h_t, s_t, gates_t, tanh_s_t):
        """xu_t = b + U x(t) (B, 4H), h_prev, s_prev (B, H) -> writes h(t), s(t), the gates, tanh(s(t))."""
        if _kernels.fast((h_prev, s_prev, h_t, s_t, tanh_s_t), (xu_t, gates_t)):
            return _fast_lstm.step_forward(P, xu_t, h_prev, s_prev, h_t, s_t, gates_t, tanh_s_t)   # the same bits
        H = h_prev.shape[-1]
        np.matmul(h_prev, P.W_T, out=gates_t)                    # W h(t-1), all four blocks at once
        gates_t += xu_t
        i_f, g, o = gates_t[..., :2 * H], gates_t[..., 2 * H:3 * H], gates_t[..., 3 * H:]
        sigmoid(i_f, out=i_f)
        np.tanh(g, out=g)
        sigmoid(o, out=o)
        np.multiply(gates_t[..., H:2 * H], s_prev, out=s_t)      # f * s(t-1)
        np.multiply(gates_t[..., :H], g, out=tanh_s_t)           # i * g, in tanh(s)'s buffer until below
        s_t += tanh_s_t
        np.tanh(s_t, out=tanh_s_t)
        np.multiply(o, tanh_s_t, out=h_t)

    def backward_locals(self, states, keeps, errors, scratch=fresh):
        """For all steps at once: A = o (1 - tanh(s)^2), the factor from dh(t) to ds(t); the four
        gates' local derivatives D (written into dL/da's buffer, which each step overwrites
        after reading); and f, through which ds(t) reaches s(t-1)."""
        gates, tanh_s, s_prev = keeps["gates"], keeps["tanh_s"], states["s"][:-1]
        H = tanh_s.shape[-1]
        i, f, g, o = (gates[..., k * H:(k + 1) * H] for k in range(4))
        A = scratch("A", tanh_s.shape, tanh_s.dtype)                 # (T, B, H)
        D = errors["a"]                                               # (T, B, 4H)
        if _kernels.fast((tanh_s, s_prev, A), (gates, D), ndim=3):
            _fast_lstm.backward_locals(gates, tanh_s, s_prev, A, D)   # the same bits, one pass
            return A, D, f
        D_i, D_f, D_g, D_o = (D[..., k * H:(k + 1) * H] for k in range(4))
        sigmoid_derivative(i, out=D_i)
        D_i *= g                                                      # g i (1 - i)
        sigmoid_derivative(f, out=D_f)
        D_f *= s_prev                                                 # s(t-1) f (1 - f)
        tanh_derivative(g, out=D_g)
        D_g *= i                                                      # i (1 - g^2)
        sigmoid_derivative(o, out=D_o)
        D_o *= tanh_s                                                 # tanh(s) o (1 - o)
        tanh_derivative(tanh_s, out=A)
        A *= o                                                        # o (1 - tanh(s)^2)
        return A, D, f

    def step_backward(self, P, carry_h, carry_s, dout_t, dh_t, ds_t, A_t, D_t, f_t, da_t):
        """carry_h = W^T dL/da(t+1), carry_s = f(t+1) dL/ds(t+1) on entry -> the same for step t on exit."""
        if _kernels.fast((carry_h, carry_s, dout_t, dh_t, ds_t, A_t, f_t), (D_t, da_t)):
            return _fast_lstm.step_backward(P, carry_h, carry_s, dout_t, dh_t, ds_t, A_t, D_t, f_t, da_t)
        H = dh_t.shape[-1]
        np.add(dout_t, carry_h, out=dh_t)                         # dL/dh(t)
        np.multiply(dh_t, A_t, out=ds_t)
        ds_t += carry_s                                           # dL/ds(t)
        for k in range(3):                                        # i, f, g: through s(t)
            np.multiply(D_t[..., k * H:(k + 1) * H], ds_t, out=da_t[..., k * H:(k + 1) * H])
        np.multiply(D_t[..., 3 * H:], dh_t, out=da_t[..., 3 * H:])   # o: through h(t)
        np.multiply(ds_t, f_t, out=carry_s)
        np.matmul(da_t, P.W, out=carry_h)

    # ------------------------------------------------------------------ the explain page
    def page_terms(self, states, keeps, errors, local, Ux, Wh, b) -> dict:
        """The terms of the LSTM's equations (T, B, width):

        pre    the gates' pre-activations b + Ux + Wh (4H), which the trace keeps only after their
               nonlinearities
        fs, ig f s(t-1), i g                                         s(t) = fs + ig
        dhs    dL/dh(t) o (1 - tanh(s(t))^2)                         dL/ds(t) = dhs + fds
        fds    f(t+1) dL/ds(t+1), zero after the last step
        local  the gates' local derivatives (4H): dL/da_i,f,g = local dL/ds, dL/da_o = local dL/dh
        """
        A, D, f = local
        H = A.shape[-1]
        gates, s_prev = keeps["gates"], states["s"][:-1]
        i, g = gates[..., :H], gates[..., 2 * H:3 * H]
        return dict(pre=Ux + Wh + b, fs=f * s_prev, ig=i * g, dhs=errors["h"] * A,
                    fds=from_next_step(f * errors["s"]), local=D)

    # ------------------------------------------------------- the step's partial Jacobians
    def step_jacobians(self, P, h_prev, s_prev, h_t, s_t, gates_t, tanh_s_t):
        """Rows h(t), s(t); D's columns h(t-1), s(t-1); A's gate blocks i, f, g, o (diagonals, (B, 2, ., H)).

        ds(t)/ds(t-1) = f, dh(t)/ds(t-1) = o (1 - tanh(s)^2) f; neither reads h(t-1) except through W.
        ds/da_i = g i (1 - i), ds/da_f = s(t-1) f (1 - f), ds/da_g = i (1 - g^2), ds/da_o = 0;
        dh/da = o (1 - tanh(s)^2) ds/da for i, f, g, and dh/da_o = tanh(s) o (1 - o).
        """
        H = h_t.shape[-1]
        i, f, g, o = (gates_t[..., k * H:(k + 1) * H] for k in range(4))
        dh_ds = o * tanh_derivative(tanh_s_t)                                  # (B, H)
        zero = np.zeros_like(f)
        ds_da = np.stack([g * sigmoid_derivative(i), s_prev * sigmoid_derivative(f),
                          i * tanh_derivative(g), zero], axis=-2)             # (B, 4, H)
        dh_da = ds_da * dh_ds[..., None, :]
        dh_da[..., 3, :] = tanh_s_t * sigmoid_derivative(o)
        D = np.stack([np.stack([zero, dh_ds * f], axis=-2),
                      np.stack([zero, f], axis=-2)], axis=-3)                   # (B, 2, 2, H)
        return D, (np.stack([dh_da, ds_da], axis=-3),)                         # (B, 2, 4, H)

    def extra_jacobians(self, A, P, *step) -> dict:
        return {}

    # ------------------------------------------------------------- what only the RNN has
    def vanishing_bound(self, W):
        return None            # W is (4H, H): no single square matrix whose radius bounds the chain

    # ----------------------------------------------------------------- PyTorch mapping
    def torch_options(self) -> dict:
        return {}

    from_torch_biases = merged_from_torch      # b = b_ih + b_hh
    to_torch_biases = merged_to_torch
    torch_bias_grads = merged_grads
