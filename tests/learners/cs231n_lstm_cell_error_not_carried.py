"""lstm_backward hands every step a zero dnext_c: the cell state's error is never carried back."""
import numpy as np
from cs231n_correct import *  # noqa: F401,F403
from cs231n_correct import lstm_step_backward

EXPECTED = {"function": "lstm_backward", "step": 3, "quantity": "dL/ds", "hint": "along the cell state"}


def lstm_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx, dWx, dWh, db = np.zeros((N, T, D)), np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H)
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t], dprev_h, _, a, b_, c = lstm_step_backward(dh[:, t] + dprev_h, np.zeros((N, H)), cache[t])
        dWx += a
        dWh += b_
        db += c
    return dx, dprev_h, dWx, dWh, db
