"""The reverse loop's off-by-one at the top: it starts at T-2 and never visits step T."""
import numpy as np
from cs231n_correct import *  # noqa: F401,F403
from cs231n_correct import rnn_step_backward

EXPECTED = {"function": "rnn_backward", "step": 4, "quantity": "dx", "hint": "never visited"}


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx, dWx, dWh, db = np.zeros((N, T, D)), np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    dprev = np.zeros((N, H))
    for t in range(T - 2, -1, -1):
        dx[:, t], dprev, a, b_, c = rnn_step_backward(dh[:, t] + dprev, cache[t])
        dWx += a
        dWh += b_
        db += c
    return dx, dprev, dWx, dWh, db
