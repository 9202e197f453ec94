"""clip_gradients clips each array by its own norm instead of the global one."""
import numpy as np
from bptt_correct import *  # noqa: F401,F403

EXPECTED = {"function": "clip_gradients", "step": None, "quantity": "grads['U']", "hint": "its own norm"}


def clip_gradients(grads, max_norm):
    out = {}
    for k, g in grads.items():
        norm = np.linalg.norm(g)
        out[k] = g * max_norm / norm if norm > max_norm else g
    return out
