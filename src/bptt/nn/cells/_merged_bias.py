"""The PyTorch bias mapping of a cell whose two biases only ever appear summed (RNN, LSTM).

PyTorch keeps bias_ih and bias_hh; where they enter the pre-activation side by side, one
b = bias_ih + bias_hh holds the same function. Used as methods: ``from_torch_biases =
merged_from_torch``.
"""

import numpy as np


def merged_from_torch(self, b_ih, b_hh) -> dict:
    return {"b": b_ih + b_hh}


def merged_to_torch(self, params) -> tuple:
    return params["b"], np.zeros_like(params["b"])


def merged_grads(self, g_ih, g_hh) -> dict:
    """dL/db from the gradients of PyTorch's two biases: b = b_ih + b_hh, so dL/db = dL/db_ih."""
    return {"b": g_ih}
