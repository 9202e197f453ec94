"""What the cells' page terms (``page_terms``, drawn by ``bptt explain``) share."""

import numpy as np


def from_next_step(arr):
    """arr shifted one step back in time: row t holds arr[t+1], what step t+1 sends back to
    step t; the last row zeros (nothing comes after the last step)."""
    out = np.zeros_like(arr)
    out[:-1] = arr[1:]
    return out
