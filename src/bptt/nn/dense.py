"""The densely connected layer (the article's "DCL"): a forward/backward pair.

Applied across time at once: x has any leading axes (T, B, ...) and a last axis of size n_in.
Forward:  out = x @ M.T + v          (the book's o(t) = c + V h(t), with M = V, v = c)
Backward: dx = dout @ M, dM = sum over all leading axes of dout^T x, dv = sum of dout.
For one-hot inputs the same layer is a gather: ``embedding.py``.

Shape legend: T time, B batch, I inputs, H hidden, O outputs.
"""

from __future__ import annotations

import numpy as np


def dense_forward(x, M, v, out=None):
    """x (..., n_in), M (n_out, n_in), v (n_out,) -> out (..., n_out), written into ``out`` if given."""
    shape = (*x.shape[:-1], M.shape[0])
    if out is None:
        out = np.empty(shape, dtype=np.result_type(x, M))
    # One 2-D product over all leading axes: a single BLAS call instead of one per step.
    np.matmul(x.reshape(-1, x.shape[-1]), np.ascontiguousarray(M.T), out=out.reshape(-1, M.shape[0]))
    out += v
    return out


def dense_step_forward(x_t, M, v):
    """The same layer on one step's few rows (generation: B = 1): x_t (B, n_in) -> (B, n_out).

    v + x_t @ M.T with M^T left a strided view: ``dense_forward`` copies it contiguous once
    per call, which pays over T*B rows, not over one.
    """
    return v + x_t @ M.T


def dense_backward(dout, x, M, out=None):
    """dout (..., n_out), x (..., n_in) -> dx (..., n_in) (into ``out`` if given), dM (n_out, n_in), dv (n_out,)."""
    n_out, n_in = M.shape
    dx = np.empty((*dout.shape[:-1], n_in), dtype=dout.dtype) if out is None else out
    np.matmul(dout.reshape(-1, n_out), M, out=dx.reshape(-1, n_in))
    return (dx, *dense_grads(dout, x))


def dense_grads(dout, x):
    """The parameter side of ``dense_backward`` alone (for inputs that need no error):
    dout (..., n_out), x (..., n_in) -> dM (n_out, n_in), dv (n_out,).

    The gradients sum over every leading axis: one matrix product over all T*B rows instead
    of T per-step products, which is the same sum the article draws.
    """
    dout2 = dout.reshape(-1, dout.shape[-1])
    dM = np.matmul(dout2.T, x.reshape(-1, x.shape[-1]))
    dv = dout2.sum(axis=0)
    return dM, dv


def dense_backward_per_step(dout, x):
    """Per-step parameter contributions, leading T axis kept.

    dout (T, B, n_out), x (T, B, n_in) -> dM_t (T, n_out, n_in), dv_t (T, n_out).
    """
    return np.einsum("tbo,tbi->toi", dout, x), dout.sum(axis=1)
