"""Output nonlinearities and losses: yhat(t) from o(t), then L and dL/do(t).

Convention (every loss here): L = sum over time steps t of L(t), averaged over the batch:
    L = (1/B) * sum_b sum_t m(t, b) * l(t, b)
with m the optional mask (T, B) of steps that carry a loss (1 everywhere by default). Where
m(t, b) = 0 the target y(t, b) is not read: any value there (-1, the usual padding of a
many-to-one target, or NaN) gives l(t, b) = 0 and dL/do(t, b) = 0, as a valid target would.
- softmax + cross-entropy: yhat(t) = softmax(o(t)), l(t, b) = -log yhat(t)[y(t, b)], and
  dL/do(t) = m (yhat(t) - onehot(y(t))) / B                              (book eq. 10.18)
- identity + squared error: yhat(t) = o(t), l(t, b) = 1/2 ||o(t) - y(t)||^2, and
  dL/do(t) = m (o(t) - y(t)) / B
"""

from __future__ import annotations

import numpy as np


def softmax(o, out=None):
    """o (..., O) -> yhat (..., O), into ``out`` if given; shifted by the max so exp never overflows."""
    z = np.subtract(o, o.max(axis=-1, keepdims=True), out=out)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def log_softmax(o):
    z = o - o.max(axis=-1, keepdims=True)
    z -= np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return z


def cross_entropy(o, yhat, y, mask=None, out=None):
    """o, yhat (T, B, O), y int (T, B) -> (L, dL/do (T, B, O), l (T, B) per-step losses).

    dL/do is written into ``out`` if given; ``out=yhat`` overwrites yhat, for callers that
    no longer need it.
    """
    T, B, O = o.shape
    t_idx, b_idx = np.indices((T, B), sparse=True)
    y = _unread(y, mask, 0)                       # a masked step's target may be any id: read 0 there
    # -log yhat[y] reuses the forward softmax; only where yhat[y] underflowed (a confident
    # wrong guess) is the exact log-softmax recomputed, for those rows alone.
    p = yhat[t_idx, b_idx, y]                     # (T, B)
    tiny = p < 1e-30
    l = -np.log(np.where(tiny, 1, p))
    if tiny.any():
        l[tiny] = -log_softmax(o[tiny])[np.arange(int(tiny.sum())), y[tiny]]
    do = yhat.copy() if out is None else out      # (T, B, O)
    if do is not yhat:
        do[...] = yhat
    do[t_idx, b_idx, y] -= 1
    if mask is not None:
        l = l * mask
        do *= mask[..., None]
    do /= B
    return l.sum() / B, do, l


def squared_error(o, yhat, y, mask=None, out=None):
    """o (T, B, O), y float (T, B, O) -> (L, dL/do (T, B, O), l (T, B))."""
    B = o.shape[1]
    y = _unread(y, mask[..., None] if mask is not None else None, 0)   # and any value, NaN included
    diff = np.subtract(o, y, out=out)             # (T, B, O)
    l = 0.5 * np.einsum("tbo,tbo->tb", diff, diff)
    if mask is not None:
        l = l * mask
        diff *= mask[..., None]
    diff /= B
    return l.sum() / B, diff, l


def _unread(y, mask, fill):
    """y with ``fill`` where the mask is 0 (y itself when nothing is masked out)."""
    if mask is None:
        return y
    off = mask == 0
    return np.where(off, y.dtype.type(fill), y) if off.any() else y


OUTPUTS = {"softmax": softmax, "identity": lambda o, out=None: o}
LOSSES = {"softmax": cross_entropy, "identity": squared_error}
