"""Small random problems for checking, tests and demos: a model and data of every kind."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..nn.network import Network


@dataclass(frozen=True)
class Case:
    """A random model and data: x, y, mask as ``forward``/``backward`` take them, and the
    initial states as keyword arguments of ``forward`` ({"h0": ..., "s0": ...})."""

    model: Network
    x: np.ndarray
    y: np.ndarray
    state0: dict
    mask: np.ndarray | None


def random_case(cell="rnn", kind="tokens", output="softmax", mask=False, *, layers=1, I=5, H=4, O=5,
                T=6, B=3, seed=0, dtype=np.float64, cell_options=None, bidirectional=False) -> Case:
    """A random network of ``cell`` ("rnn", "lstm", "gru") and random data.

    kind "tokens": x int (T, B) in [0, I); "vectors": x float (T, B, I).
    output "softmax": y int (T, B) in [0, O); "identity": y float (T, B, O).
    mask True: the loss on the last step only (many-to-one), else None.
    Every initial state is random ((B, H), or (L, B, H) for a stack), so its gradient is
    checked away from zero; (2L, B, H) for a bidirectional network.
    """
    rng = np.random.default_rng(seed)
    model = Network.create(cell, I, H, O, cell_options=cell_options, layers=layers, output=output,
                           seed=seed, dtype=dtype, bidirectional=bidirectional)
    x = rng.integers(0, I, size=(T, B)) if kind == "tokens" else rng.normal(size=(T, B, I))
    y = rng.integers(0, O, size=(T, B)) if output == "softmax" else rng.normal(size=(T, B, O))
    n = layers * model.directions
    shape = (B, H) if n == 1 else (n, B, H)
    state0 = {f"{name}0": rng.uniform(-0.5, 0.5, size=shape) for name in model.cell.states}
    m = None
    if mask:
        m = np.zeros((T, B))
        m[-1] = 1
    return Case(model, x, y, state0, m)


def random_problem(kind="tokens", output="softmax", nonlinearity="tanh", mask=False, *,
                   I=5, H=4, O=5, T=6, B=3, seed=0, dtype=np.float64):
    """(model, x, y, h0, mask) for a random one-layer SimpleRNN and random data (see ``random_case``)."""
    case = random_case("rnn", kind, output, mask, I=I, H=H, O=O, T=T, B=B, seed=seed, dtype=dtype,
                       cell_options={"nonlinearity": nonlinearity})
    return case.model, case.x, case.y, case.state0["h0"], case.mask
