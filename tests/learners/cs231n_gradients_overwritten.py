"""The parameter gradients are overwritten at every step instead of summed over t."""
import numpy as np
from cs231n_correct import *  # noqa: F401,F403
from cs231n_correct import rnn_step_backward

EXPECTED = {"function": "rnn_backward", "step": 3, "quantity": "db", "hint": "step t = 0's contribution alone"}


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dprev = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t], dprev, dWx, dWh, db = rnn_step_backward(dh[:, t] + dprev, cache[t])
    return dx, dprev, dWx, dWh, db
