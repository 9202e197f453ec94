"""word_embedding_backward assigns instead of accumulating: a repeated word counts once."""
import numpy as np
from cs231n_correct import *  # noqa: F401,F403

EXPECTED = {"function": "word_embedding_backward", "step": None, "quantity": "dW", "hint": "np.add.at"}


def word_embedding_backward(dout, cache):
    x, shape = cache
    dW = np.zeros(shape)
    dW[x] = dout
    return dW
