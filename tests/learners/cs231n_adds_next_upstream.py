"""rnn_backward reads "dnext_h" as the next step's upstream error: dh[:, t] + dh[:, t+1]."""
import numpy as np
from cs231n_correct import *  # noqa: F401,F403
from cs231n_correct import rnn_step_backward

EXPECTED = {"function": "rnn_backward", "step": 3, "quantity": "dL/dh", "hint": "the next step's upstream error"}


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx, dWx, dWh, db = np.zeros((N, T, D)), np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    for t in reversed(range(T)):
        upstream = dh[:, t] + (dh[:, t + 1] if t + 1 < T else 0)
        dx[:, t], dprev, a, b_, c = rnn_step_backward(upstream, cache[t])
        dWx += a
        dWh += b_
        db += c
    return dx, dprev, dWx, dWh, db
