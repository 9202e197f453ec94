"""rnn_step_forward multiplies by Wh transposed."""
import numpy as np
from cs231n_correct import *  # noqa: F401,F403

EXPECTED = {"function": "rnn_step_forward", "step": None, "quantity": "next_h", "hint": "transposed", "B": 3, "T": None}


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh.T + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)
