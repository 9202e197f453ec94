"""Dropout on the non-recurrent connections (Zaremba et al. 2014), as masks drawn ahead of time.

What a layer sends up, to the layer above or to the readout, is its h(t) times a mask m(t)
(B, H) of independent entries, 0 with probability p and 1/(1 - p) otherwise ("inverted"
dropout: the expected input above is unchanged, so nothing is rescaled at evaluation). The
recurrent connection h(t-1) -> h(t) is never dropped: the memory is left whole, as in
nn.LSTM(dropout=p) (which drops between layers) and char-rnn's -dropout (between layers and
before the readout). Backward multiplies the error going down by the same masks.

The masks of step t come from ``numpy.random.default_rng([*key, t])``: the same key and step
give the same masks wherever and whenever they are drawn, so truncated BPTT can redraw those
of the older steps its chain covers, and a resumed run draws what the interrupted one would
have. Evaluation and sampling pass no masks: dropout is off.

Shape legend: T time, B batch, H hidden, L layers.
"""

from __future__ import annotations

import numpy as np


def dropout_masks(p, key, start, stop, layers, B, H, dtype=np.float64) -> tuple:
    """Masks for steps [start, stop): a tuple of ``layers`` arrays (T, B, H), T = stop - start,
    each entry 0 (probability p) or 1/(1 - p); step t's from ``default_rng([*key, t])``.

        >>> m = dropout_masks(0.5, (0, 3), 0, 4, 2, 1, 3)
        >>> len(m), m[0].shape, sorted(set(np.concatenate(m).ravel().tolist()))
        (2, (4, 1, 3), [0.0, 2.0])
    """
    out = np.empty((layers, stop - start, B, H), dtype=dtype)
    scale = 1.0 / (1.0 - p)
    for i, t in enumerate(range(start, stop)):
        kept = np.random.default_rng([*key, t]).random((layers, B, H)) >= p
        np.multiply(kept, scale, out=out[:, i])
    return tuple(out)
