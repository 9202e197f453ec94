"""The LSTM's step pair with its elementwise work compiled (numba): the ``fast`` extra's path.

``lstm.py`` is the reference and says what each quantity is; this module does the same float
operations in the same order, fused into loops over the rows of (B, H), so both paths give the
same bits. The products W h(t-1) and W^T dL/da(t) and the exp and tanh stay NumPy's (its
vectorised exp and tanh run at under 0.5 ns an element on this machine's AVX-512; numba's
scalar libm calls at 3 and 15 ns). What the loops save is NumPy's cost per call (1-2 us at
B x H = 50 x 64, against a fraction of a ns of arithmetic per element) and the passes over
memory: a forward step makes 7 calls instead of 15, a backward step 2 instead of 9, and
``backward_locals`` one pass instead of 12.

Shape legend: T time, B batch, H hidden; gate blocks i, f, g, o of width H.
"""

from __future__ import annotations

import numpy as np

from ._kernels import jit


@jit
def _pre(gates, xu, g_pre):
    """a = W h(t-1) + b + U x(t); gates <- -a for i, f, o (for exp), 0 for g; g_pre <- a_g."""
    B, H = g_pre.shape
    for b in range(B):
        row, x, gp = gates[b], xu[b], g_pre[b]
        for k in range(2 * H):
            row[k] = -(row[k] + x[k])
        for k in range(H):
            gp[k] = row[2 * H + k] + x[2 * H + k]
            row[2 * H + k] = 0
        for k in range(3 * H, 4 * H):
            row[k] = -(row[k] + x[k])


@jit
def _state(gates, tanh_g, s_prev, s_t, one):
    """gates holds exp(-a) for i, f, o: <- 1 / (exp(-a) + 1); g <- tanh(a_g); s(t) = f s(t-1) + i g."""
    B, H = s_t.shape
    for b in range(B):
        gi, gf, gg, go = gates[b, :H], gates[b, H:2 * H], gates[b, 2 * H:3 * H], gates[b, 3 * H:]
        tg, sp, st = tanh_g[b], s_prev[b], s_t[b]
        for k in range(H):
            i = one / (gi[k] + one)
            f = one / (gf[k] + one)
            g = tg[k]
            gi[k], gf[k], gg[k] = i, f, g
            go[k] = one / (go[k] + one)
            st[k] = f * sp[k] + i * g


def step_forward(P, xu_t, h_prev, s_prev, h_t, s_t, gates_t, tanh_s_t):
    H = h_prev.shape[-1]
    np.matmul(h_prev, P.W_T, out=gates_t)              # W h(t-1)
    _pre(gates_t, xu_t, tanh_s_t)                      # tanh(s)'s buffer holds a_g until _state
    np.exp(gates_t, out=gates_t)                       # exp(-a) for i, f, o (exp(0) for g)
    np.tanh(tanh_s_t, out=tanh_s_t)                    # tanh(a_g)
    _state(gates_t, tanh_s_t, s_prev, s_t, gates_t.dtype.type(1))
    np.tanh(s_t, out=tanh_s_t)
    np.multiply(gates_t[..., 3 * H:], tanh_s_t, out=h_t)   # h(t) = o tanh(s(t))


@jit
def _locals(gates, tanh_s, s_prev, A, D, one):
    """A = o (1 - tanh(s)^2); D = g i (1 - i), s(t-1) f (1 - f), i (1 - g^2), tanh(s) o (1 - o).

    One loop per output: with one store and few loads LLVM can check that the arrays do not
    overlap and vectorise; with all of them in one loop it gives up (3x slower)."""
    T, B, H = A.shape
    for t in range(T):
        for b in range(B):
            gi, gf, gg, go = gates[t, b, :H], gates[t, b, H:2 * H], gates[t, b, 2 * H:3 * H], gates[t, b, 3 * H:]
            di, df, dg, do = D[t, b, :H], D[t, b, H:2 * H], D[t, b, 2 * H:3 * H], D[t, b, 3 * H:]
            ts, sp, a = tanh_s[t, b], s_prev[t, b], A[t, b]
            for k in range(H):
                di[k] = ((one - gi[k]) * gi[k]) * gg[k]
            for k in range(H):
                df[k] = ((one - gf[k]) * gf[k]) * sp[k]
            for k in range(H):
                dg[k] = (one - gg[k] * gg[k]) * gi[k]
            for k in range(H):
                do[k] = ((one - go[k]) * go[k]) * ts[k]
            for k in range(H):
                a[k] = (one - ts[k] * ts[k]) * go[k]


def backward_locals(gates, tanh_s, s_prev, A, D):
    """Into A and D (no array besides the NumPy path's: train/memory.py's estimate holds for both)."""
    _locals(gates, tanh_s, s_prev, A, D, gates.dtype.type(1))


@jit
def _errors(carry_h, carry_s, dout, dh, ds, A, D, f, da):
    """dL/dh(t), dL/ds(t), dL/da(t) and f(t) dL/ds(t) into carry_s, as ``LSTMCell.step_backward``
    (one loop per output, as ``_locals``)."""
    B, H = dh.shape
    for b in range(B):
        ch, cs, do, eh, es, a, fb = carry_h[b], carry_s[b], dout[b], dh[b], ds[b], A[b], f[b]
        d4, e4 = D[b], da[b]
        for k in range(H):
            eh[k] = do[k] + ch[k]
        for k in range(H):
            es[k] = eh[k] * a[k] + cs[k]
        for j in range(3):                                  # i, f, g: through s(t)
            dj, ej = d4[j * H:(j + 1) * H], e4[j * H:(j + 1) * H]
            for k in range(H):
                ej[k] = dj[k] * es[k]
        dj, ej = d4[3 * H:], e4[3 * H:]                     # o: through h(t)
        for k in range(H):
            ej[k] = dj[k] * eh[k]
        for k in range(H):
            cs[k] = es[k] * fb[k]


def step_backward(P, carry_h, carry_s, dout_t, dh_t, ds_t, A_t, D_t, f_t, da_t):
    _errors(carry_h, carry_s, dout_t, dh_t, ds_t, A_t, D_t, f_t, da_t)
    np.matmul(da_t, P.W, out=carry_h)                  # W^T dL/da(t), sent back to h(t-1)
