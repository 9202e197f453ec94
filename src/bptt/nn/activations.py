"""Nonlinearities f of h(t) = f(a(t)), each paired with its derivative.

The derivative f'(a) is computed from the *output* h = f(a), as scikit-learn does
(``1 - h**2`` for tanh): the forward pass already keeps h(t) for every step, so backward
needs no second copy of a(t) and no extra transcendental call, and computes f' for all
steps in one vectorised pass before its loop.
"""

from __future__ import annotations

import numpy as np


tanh = np.tanh        # the ufunc itself: a step calls it once per time step, a wrapper would add a frame


def relu(a, out=None):
    return np.maximum(a, 0, out=out)


def linear(a, out=None):
    if out is None:
        return a.copy()
    out[...] = a
    return out


def tanh_derivative(h, out=None):
    """f'(a) = 1 - tanh(a)^2 = 1 - h^2."""
    out = np.multiply(h, h, out=out)
    return np.subtract(1, out, out=out)


def sigmoid(a, out=None):
    """1 / (1 + exp(-a)), the gates' squashing function (not an f of the simple RNN)."""
    out = np.negative(a, out=out)
    np.exp(out, out=out)
    out += 1
    return np.divide(1, out, out=out)        # numpy's divide is vectorised where reciprocal is not


def sigmoid_derivative(y, out=None):
    """sigmoid'(a) = y (1 - y), from the output y = sigmoid(a)."""
    out = np.subtract(1, y, out=out)
    return np.multiply(out, y, out=out)


def relu_derivative(h, out=None):
    """f'(a) = 1 where h > 0, else 0 (the subgradient 0 at a = 0, as PyTorch)."""
    if out is None:
        out = np.empty_like(h)
    return np.greater(h, 0, out=out)


def linear_derivative(h, out=None):
    if out is None:
        return np.ones_like(h)
    out[...] = 1
    return out


ACTIVATIONS = {"tanh": tanh, "relu": relu, "linear": linear}
DERIVATIVES = {"tanh": tanh_derivative, "relu": relu_derivative, "linear": linear_derivative}
# Upper bound gamma on |f'(a)|, used by Pascanu et al.'s vanishing-gradient condition.
GAMMA = {"tanh": 1.0, "relu": 1.0, "linear": 1.0}
