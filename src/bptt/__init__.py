"""bptt: the simple RNN and back-propagation through time, hand-written in NumPy.

    >>> import bptt
    >>> model = bptt.SimpleRNN(n_in=5, n_hidden=8, n_out=5, seed=0)
"""

__version__ = "0.1.0"

from . import checkpoint, data
from .check import CheckReport, check
from .data import Vocab
from .diagnose import LagProfile, lag_profile, radius_sweep
from .explainer import Explanation, explain
from .gradcheck import GradcheckReport, gradcheck
from .recompute import low_memory_gradients
from .network import GRU, LSTM, Backward, Network, SimpleRNN, Trace
from .truncated import TruncatedBPTT, Update, truncated_bptt

__all__ = ["SimpleRNN", "LSTM", "GRU", "Network", "Trace", "Backward", "gradcheck", "GradcheckReport", "Vocab",
           "checkpoint", "data", "truncated_bptt", "TruncatedBPTT", "Update",
           "lag_profile", "radius_sweep", "LagProfile", "explain", "Explanation",
           "low_memory_gradients", "check", "CheckReport", "__version__"]
