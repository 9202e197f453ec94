"""The GRU's step pair with its elementwise work compiled (numba): the ``fast`` extra's path.

``gru.py`` is the reference and says what each quantity is; this module does the same float
operations in the same order, fused into loops over (B, H), so both paths give the same bits.
The products and the exp and tanh stay NumPy's (see ``_fast_lstm.py`` for why): a forward
step makes 6 calls instead of 14, a backward step 3 instead of 8, ``backward_locals`` 1
instead of 10.

Shape legend: T time, B batch, H hidden; gate blocks r, z, n of width H.
"""

from __future__ import annotations

import numpy as np

from ._kernels import jit


@jit
def _pre(gates, xu, b_hn, hn):
    """gates <- -(W h + b + U x) for r and z (for exp); hn <- W_n h(t-1) + b_hn."""
    B, H = hn.shape
    for b in range(B):
        row, x, o = gates[b], xu[b], hn[b]
        for k in range(2 * H):
            row[k] = -(row[k] + x[k])
        for k in range(H):
            o[k] = row[2 * H + k] + b_hn[k]


@jit
def _gates(gates, xu, hn, one):
    """gates holds exp(-a) for r, z: <- 1 / (exp(-a) + 1); the n block <- r hn + b_n + U_n x."""
    B, H = hn.shape
    for b in range(B):
        gr, gz, gn, x, o = gates[b, :H], gates[b, H:2 * H], gates[b, 2 * H:], xu[b, 2 * H:], hn[b]
        for k in range(H):
            r = one / (gr[k] + one)
            gr[k] = r
            gz[k] = one / (gz[k] + one)
            gn[k] = r * o[k] + x[k]


@jit
def _mix(gates, h_prev, h_t):
    """h(t) = n + z (h(t-1) - n)."""
    B, H = h_t.shape
    for b in range(B):
        gz, gn, hp, ht = gates[b, H:2 * H], gates[b, 2 * H:], h_prev[b], h_t[b]
        for k in range(H):
            ht[k] = (hp[k] - gn[k]) * gz[k] + gn[k]


def step_forward(P, xu_t, h_prev, h_t, gates_t, hn_t):
    H = h_prev.shape[-1]
    np.matmul(h_prev, P.W_T, out=gates_t)              # W h(t-1)
    _pre(gates_t, xu_t, P.extra["b_hn"], hn_t)
    rz = gates_t[..., :2 * H]
    np.exp(rz, out=rz)
    _gates(gates_t, xu_t, hn_t, gates_t.dtype.type(1))
    n = gates_t[..., 2 * H:]
    np.tanh(n, out=n)
    _mix(gates_t, h_prev, h_t)


@jit
def _locals(gates, hn, h_prev, N, Dz, R, one):
    """N = (1 - n^2)(1 - z), Dz = (1 - z) z (h(t-1) - n), R = (1 - r) r hn. One loop per output: with one store and few loads LLVM can check
    that the arrays do not overlap and vectorise; with all of them in one loop it gives up."""
    T, B, H = N.shape
    for t in range(T):
        for b in range(B):
            gr, gz, gn = gates[t, b, :H], gates[t, b, H:2 * H], gates[t, b, 2 * H:]
            o, hp, nb, dz, rb = hn[t, b], h_prev[t, b], N[t, b], Dz[t, b], R[t, b]
            for k in range(H):
                nb[k] = (one - gn[k] * gn[k]) * (one - gz[k])
            for k in range(H):
                dz[k] = ((one - gz[k]) * gz[k]) * (hp[k] - gn[k])
            for k in range(H):
                rb[k] = ((one - gr[k]) * gr[k]) * o[k]


def backward_locals(gates, hn, h_prev, N, Dz, R):
    """Into N, Dz and R, the NumPy path's arrays (train/memory.py's estimate holds for both)."""
    _locals(gates, hn, h_prev, N, Dz, R, gates.dtype.type(1))


@jit
def _errors(carry_h, dout, dh, N, Dz, R, r, da, dahh):
    """dL/dh(t), dL/da(t) (input side) and the recurrent side's [da_r, da_z, da_n r] (one loop per output)."""
    B, H = dh.shape
    for b in range(B):
        ch, do, eh, nb, dz, rb, rr = carry_h[b], dout[b], dh[b], N[b], Dz[b], R[b], r[b]
        ar, az, an = da[b, :H], da[b, H:2 * H], da[b, 2 * H:]
        hr, hz, hn = dahh[b, :H], dahh[b, H:2 * H], dahh[b, 2 * H:]
        for k in range(H):
            eh[k] = do[k] + ch[k]
        for k in range(H):
            an[k] = eh[k] * nb[k]
        for k in range(H):
            az[k] = eh[k] * dz[k]
        for k in range(H):
            ar[k] = an[k] * rb[k]
        for k in range(H):
            hr[k] = ar[k]
        for k in range(H):
            hz[k] = az[k]
        for k in range(H):
            hn[k] = an[k] * rr[k]


@jit
def _direct(carry_h, dh, z):
    """carry_h += dL/dh(t) z: the direct path z h(t-1)."""
    B, H = dh.shape
    for b in range(B):
        ch, eh, zb = carry_h[b], dh[b], z[b]
        for k in range(H):
            ch[k] += eh[k] * zb[k]


def step_backward(P, carry_h, dout_t, dh_t, N_t, Dz_t, R_t, r_t, z_t, da_t, dahh_t):
    _errors(carry_h, dout_t, dh_t, N_t, Dz_t, R_t, r_t, da_t, dahh_t)
    np.matmul(dahh_t, P.W, out=carry_h)                # W^T [da_r, da_z, da_n r], sent back to h(t-1)
    _direct(carry_h, dh_t, z_t)
