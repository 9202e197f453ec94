"""The derivative of tanh taken from the pre-activation: 1 - a^2 instead of 1 - tanh(a)^2."""
import numpy as np
from cs231n_correct import *  # noqa: F401,F403

EXPECTED = {"function": "rnn_step_backward", "step": None, "quantity": "db", "hint": "pre-activation"}


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    a = x @ Wx + prev_h @ Wh + b
    return np.tanh(a), (x, prev_h, Wx, Wh, a)


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, a = cache
    da = dnext_h * (1 - a ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)
