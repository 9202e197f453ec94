"""rnn_backward builds dWh with np.zeros(*Wh.shape): numpy reads the second size as a dtype and raises."""
import numpy as np
from cs231n_correct import rnn_step_forward, rnn_step_backward, rnn_forward  # noqa: F401


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    x0, _, Wx, Wh, _ = cache[0]
    dx = np.zeros((N, T, x0.shape[1]))
    dWx = np.zeros(Wx.shape)
    dWh = np.zeros(*Wh.shape)
    db = np.zeros(H)
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t, :], dprev_h, gx, gh, gb = rnn_step_backward(dh[:, t, :] + dprev_h, cache[t])
        dWx += gx
        dWh += gh
        db += gb
    return dx, dprev_h, dWx, dWh, db
