"""lstm_step_backward sends the cell state's error back without the forget gate: dprev_c = dc."""
import numpy as np
from cs231n_correct import *  # noqa: F401,F403

EXPECTED = {"function": "lstm_step_backward", "step": None, "quantity": "dprev_c", "hint": "lacks the forget gate's factor"}


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tc = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tc ** 2)
    da = np.hstack([dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dnext_h * tc * o * (1 - o), dc * i * (1 - g ** 2)])
    return da @ Wx.T, da @ Wh.T, dc, x.T @ da, prev_h.T @ da, da.sum(axis=0)
