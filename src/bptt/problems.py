"""Small random problems for checking, tests and demos: a model and data of every kind."""

from __future__ import annotations

import numpy as np

from .network import SimpleRNN


def random_problem(kind="tokens", output="softmax", nonlinearity="tanh", mask=False, *,
                   I=5, H=4, O=5, T=6, B=3, seed=0, dtype=np.float64):
    """(model, x, y, h0, mask) for a random SimpleRNN and random data.

    kind "tokens": x int (T, B) in [0, I); "vectors": x float (T, B, I).
    output "softmax": y int (T, B) in [0, O); "identity": y float (T, B, O).
    mask True: the loss on the last step only (many-to-one), else None.
    h0 is random (B, H), so dL/dh0 is checked away from zero.
    """
    rng = np.random.default_rng(seed)
    model = SimpleRNN(I, H, O, nonlinearity=nonlinearity, output=output, seed=seed, dtype=dtype)
    if kind == "tokens":
        x = rng.integers(0, I, size=(T, B))
    else:
        x = rng.normal(size=(T, B, I))
    if output == "softmax":
        y = rng.integers(0, O, size=(T, B))
    else:
        y = rng.normal(size=(T, B, O))
    h0 = rng.uniform(-0.5, 0.5, size=(B, H))
    m = None
    if mask:
        m = np.zeros((T, B))
        m[-1] = 1
    return model, x, y, h0, m
