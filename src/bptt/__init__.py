"""bptt: the simple RNN and back-propagation through time, hand-written in NumPy.

    >>> import bptt
    >>> model = bptt.SimpleRNN(n_in=5, n_hidden=8, n_out=5, seed=0)
"""

__version__ = "0.1.0"

from . import data
from .data import tasks
from .train import checkpoint
from .check import CheckReport, check
from .data import Vocab
from .diagnose import LagProfile, lag_profile, radius_sweep
from .explain import Explanation, explain
from .proof.gradcheck import GradcheckReport, gradcheck
from .proof.torch_bridge import from_torch, to_torch
from .nn.recompute import low_memory_gradients
from .nn.network import GRU, LSTM, Backward, Network, SimpleRNN, Trace
from .nn.seq2seq import Seq2Seq
from .nn.truncated import TruncatedBPTT, Update, truncated_bptt
from .nn.online import OnlineGradients
from .nn.rtrl import rtrl
from .nn.snap import snap
from .nn.uoro import uoro

__all__ = ["SimpleRNN", "LSTM", "GRU", "Network", "Seq2Seq", "Trace", "Backward", "gradcheck", "GradcheckReport", "Vocab",
           "checkpoint", "data", "tasks", "truncated_bptt", "TruncatedBPTT", "Update",
           "lag_profile", "radius_sweep", "LagProfile", "explain", "Explanation",
           "low_memory_gradients", "rtrl", "uoro", "snap", "OnlineGradients", "check", "CheckReport", "from_torch", "to_torch", "__version__"]
