"""Where a cell's ``backward_locals`` takes its arrays when the caller keeps none."""

import numpy as np


def fresh(name, shape, dtype):
    """A new array each call: the default ``scratch`` of ``backward_locals``."""
    return np.empty(shape, dtype=dtype)
