"""rnn_backward reads its sizes from the cache of step 1: with a single step (T = 1) there is none."""
import numpy as np
from cs231n_correct import *  # noqa: F401,F403
from cs231n_correct import rnn_step_backward

EXPECTED = {"function": "rnn_backward", "step": None, "quantity": "exception", "hint": "with a single step (T = 1)",
            "B": 3, "T": 1, "reason": "IndexError"}


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    x1, _, Wx, Wh, _ = cache[1]
    dx = np.zeros((N, T, x1.shape[1]))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H)
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t, :], dprev_h, gx, gh, gb = rnn_step_backward(dh[:, t, :] + dprev_h, cache[t])
        dWx, dWh, db = dWx + gx, dWh + gh, db + gb
    return dx, dprev_h, dWx, dWh, db
