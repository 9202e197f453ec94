"""deeplearning.ai's rnn_cell_backward sums dba without keepdims: shape (n_a,) instead of (n_a, 1)."""
from dlai_correct import *  # noqa: F401,F403
import dlai_correct

EXPECTED = {"function": "rnn_cell_backward", "step": None, "quantity": "dba", "hint": "keepdims"}


def rnn_cell_backward(da_next, cache):
    g = dlai_correct.rnn_cell_backward(da_next, cache)
    g["dba"] = g["dba"][:, 0]
    return g
