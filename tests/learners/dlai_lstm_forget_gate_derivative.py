"""deeplearning.ai's lstm_cell_backward: the forget gate's derivative uses the update gate, it (1 - it)."""
import numpy as np
import dlai_correct
from dlai_correct import *  # noqa: F401,F403

EXPECTED = {"function": "lstm_cell_backward", "step": None, "quantity": "dbf", "hint": "f gate"}


def lstm_cell_backward(da_next, dc_next, cache):
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p = cache
    g = dlai_correct.lstm_cell_backward(da_next, dc_next, cache)
    tc = np.tanh(c_next)
    dc = dc_next + da_next * ot * (1 - tc ** 2)
    dft = dc * c_prev * it * (1 - it)
    g["dbf"] = dft.sum(1, keepdims=True)
    return g
