"""rnn_step_backward's dWh uses h(t) where h(t-1) belongs."""
from cs231n_correct import *  # noqa: F401,F403

EXPECTED = {"function": "rnn_step_backward", "step": None, "quantity": "dWh", "hint": "uses next_h"}


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, next_h.T @ da, da.sum(axis=0)
