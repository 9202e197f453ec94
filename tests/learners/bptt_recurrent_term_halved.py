"""backward sends dh_next back but keeps only half of it (a stray 0.5 from an average)."""
import numpy as np
from bptt_correct import *  # noqa: F401,F403
from bptt_correct import step_backward

EXPECTED = {"function": "backward", "step": 3, "quantity": "dL/dh", "hint": "the error fed to step t = 3 is wrong"}


def backward(dh, cache):
    T, B, H = dh.shape
    U, W = cache[0][3], cache[0][4]
    dx = np.zeros((T, B, U.shape[1]))
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros(H)
    dh_next = np.zeros((B, H))
    for t in reversed(range(T)):
        dx[t], dh_next, dU_t, dW_t, db_t = step_backward(dh[t] + 0.5 * dh_next, cache[t])
        dU += dU_t
        dW += dW_t
        db += db_t
    return dx, dh_next, dU, dW, db
