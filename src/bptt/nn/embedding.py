"""The embedding layer: the dense layer (``dense.py``) for one-hot inputs, a forward/backward pair.

x(t) one-hot at token id i makes M x(t) column i of M, so the product is a gather:
Forward:  out = M[:, ids].T + v        (the book's b + U x(t) for token ids, with M = U, v = b)
Backward: dM[:, i] = sum of dout over the positions where ids == i, dv = sum of dout.
The ids have no gradient. ``ids`` has any leading axes (T, B, ...); every id is in [0, n_in),
checked at the public edge (``_validate.inputs``).

Shape legend: T time, B batch, I inputs (the vocabulary), G*H the layer's outputs.
"""

from __future__ import annotations

import numpy as np


def embedding_table(M, v):
    """M (n_out, n_in), v (n_out,) -> (M^T + v) (n_in, n_out), C-contiguous: row i is M x + v for
    x one-hot at i, to the bit. Small (a row per token), so gathering its rows copies whole rows
    and v is added once per token instead of once per position."""
    return np.add(M.T, v, order="C")


def embedding_forward(ids, M, v, out=None):
    """ids int (...), M (n_out, n_in), v (n_out,) -> out (..., n_out), written into ``out`` if given.

    With more ids than tokens, the rows of ``embedding_table(M, v)`` at the ids; mode="clip"
    spares ``take`` the buffered copy of ``out`` its default mode makes to undo a write on an
    out-of-range id (4x faster). With fewer ids the columns are gathered and v added to them
    alone. Both add the same two numbers per entry, so they give the same bits.
    """
    if ids.size >= M.shape[1]:
        return np.take(embedding_table(M, v), ids, axis=0, out=out, mode="clip")
    return np.add(M.T[ids], v, out=out)


def embedding_backward(dout, ids, n_in):
    """dout (..., n_out), ids int (...) -> dM (n_out, n_in), dv (n_out,).

    Column i of dM sums dout over the positions where ids == i: the one-hot product
    onehot(ids)^T dout, transposed (``scatter_rows``).
    """
    dout2 = dout.reshape(-1, dout.shape[-1])                      # (N, n_out)
    dv = dout2.sum(axis=0)
    dM = scatter_rows(ids.ravel(), dout2, n_in).T                 # (n_out, n_in)
    return dM, dv


def embedding_backward_per_step(dout, ids, n_in):
    """Per-step contributions, leading T axis kept: dout (T, B, n_out), ids (T, B) ->
    dM_t (T, n_out, n_in), dv_t (T, n_out). They sum over T to ``embedding_backward``'s."""
    T = dout.shape[0]
    dMT_t = np.zeros((T, n_in, dout.shape[-1]), dtype=dout.dtype)   # (T, n_in, n_out)
    np.add.at(dMT_t, (np.arange(T)[:, None], ids), dout)
    return dMT_t.transpose(0, 2, 1), dout.sum(axis=1)


def scatter_rows(ids, rows, n):
    """out (n, width) with out[i] = sum of rows[j] over j where ids[j] == i.

    The one-hot product onehot(ids)^T rows. For a vocabulary of characters (n <= 256) that
    product, one BLAS call, is the fastest way; for larger n the one-hot matrix would cost
    n times the rows, so the ids are sorted and summed in segments (np.add.reduceat), still
    several times faster than np.add.at's scatter.
    """
    if n <= 256:
        onehot = (ids[:, None] == np.arange(n)).astype(rows.dtype)       # (N, n)
        return onehot.T @ rows
    out = np.zeros((n, rows.shape[1]), dtype=rows.dtype)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    out[sorted_ids[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out
