"""forward starts from zeros, ignoring h0 (a carried state would be lost between windows)."""
import numpy as np
from bptt_correct import *  # noqa: F401,F403
import bptt_correct

EXPECTED = {"function": "forward", "step": 0, "quantity": "h", "hint": "instead of h0"}


def forward(x, h0, U, W, b):
    return bptt_correct.forward(x, np.zeros_like(h0), U, W, b)
