"""deeplearning.ai's rnn_backward forgets da_prevt: each step gets only da[:, :, t]."""
import numpy as np
from dlai_correct import *  # noqa: F401,F403
from dlai_correct import rnn_cell_backward

EXPECTED = {"function": "rnn_backward", "step": 3, "quantity": "dL/dh", "hint": "what step t = 4 sent back"}


def rnn_backward(da, caches):
    caches, x = caches
    n_a, m, T_x = da.shape
    g = {"dx": np.zeros((x.shape[0], m, T_x)), "dWax": 0, "dWaa": 0, "dba": 0}
    for t in reversed(range(T_x)):
        s = rnn_cell_backward(da[:, :, t], caches[t])
        g["dx"][:, :, t] = s["dxt"]
        for k in ("dWax", "dWaa", "dba"):
            g[k] = g[k] + s[k]
        g["da0"] = s["da_prev"]
    return g
