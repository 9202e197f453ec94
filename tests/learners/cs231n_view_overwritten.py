"""rnn_forward keeps h0 in h's last column so that h[:, t - 1] is h0 at t = 0: the cache of step 0
holds a view of that column, which the last step overwrites. The states are right; the cache is not."""
import numpy as np
from cs231n_correct import rnn_step_forward, rnn_step_backward, rnn_backward  # noqa: F401


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    h[:, -1, :] = h0
    cache = []
    for t in range(T):
        h[:, t, :], step_cache = rnn_step_forward(x[:, t, :], h[:, t - 1, :], Wx, Wh, b)
        cache.append(step_cache)
    return h, cache
