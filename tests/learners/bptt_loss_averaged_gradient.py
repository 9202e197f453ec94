"""softmax_loss sums the T steps' losses but divides dL/do by B*T."""
from bptt_correct import *  # noqa: F401,F403
import bptt_correct

EXPECTED = {"function": "softmax_loss", "step": None, "quantity": "do", "hint": "divided by T"}


def softmax_loss(o, y):
    L, do = bptt_correct.softmax_loss(o, y)
    return L, do / o.shape[0]
