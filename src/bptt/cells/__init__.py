"""The recurrent cells: each module holds one cell's step pair, forward and backward."""

from .rnn import RNNCell

__all__ = ["RNNCell"]
