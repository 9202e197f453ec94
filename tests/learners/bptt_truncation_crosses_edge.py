"""truncated_backward runs the full reverse walk: the error crosses the windows' edges."""
from bptt_correct import *  # noqa: F401,F403
from bptt_correct import backward

EXPECTED = {"function": "truncated_backward", "step": 3, "quantity": "dx", "hint": "crossed the window's edge"}


def truncated_backward(dh, cache, k):
    dx, dh0, dU, dW, db = backward(dh, cache)
    return dx, dU, dW, db
