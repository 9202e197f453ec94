"""rnn_step_backward multiplies by Wx instead of Wx.T: with D != H the product raises."""
from cs231n_correct import *  # noqa: F401,F403

EXPECTED = {"function": "rnn_step_backward", "step": None, "quantity": "exception", "hint": "which side of each product"}


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    return da @ Wx, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)
