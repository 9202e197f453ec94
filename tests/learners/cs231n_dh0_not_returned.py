"""rnn_backward never sets dh0: it returns the zeros it started with."""
import numpy as np
from cs231n_correct import *  # noqa: F401,F403
from cs231n_correct import rnn_step_backward

EXPECTED = {"function": "rnn_backward", "step": 0, "quantity": "dh0", "hint": "not returned"}


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx, dWx, dWh, db = np.zeros((N, T, D)), np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    dh0 = np.zeros((N, H))
    dprev = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t], dprev, a, b_, c = rnn_step_backward(dh[:, t] + dprev, cache[t])
        dWx += a
        dWh += b_
        db += c
    return dx, dh0, dWx, dWh, db
