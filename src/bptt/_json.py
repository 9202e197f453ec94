"""Numbers as JSON holds them: JSON has no NaN and no infinities, so an undefined or infinite
value is written as null (None)."""

from __future__ import annotations

import math

import numpy as np


def number(value):
    """A float, or None for None, NaN and the infinities."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def numbers(arr):
    """Nested lists of floats, None for NaN and infinities."""
    def clean(v):
        return [clean(u) for u in v] if isinstance(v, list) else number(v)
    return clean(np.asarray(arr, dtype=np.float64).tolist())
