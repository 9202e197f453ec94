"""The learner's own helper multiplies the wrong way round; the step that calls it raises inside it."""
import numpy as np


def affine(x, w, b):
    """x (N, D) times w (D, M) plus b (M,)."""
    return w.dot(x) + b


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(affine(x, Wx, b) + prev_h.dot(Wh))
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    return da.dot(Wx.T), da.dot(Wh.T), x.T.dot(da), prev_h.T.dot(da), da.sum(axis=0)
