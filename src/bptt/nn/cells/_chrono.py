"""The chrono initialisation of Tallec & Ollivier (2018), "Can recurrent neural networks warp
time?", shared by the cells whose gate sets how long their state is kept (LSTM, GRU).

A gate g = sigmoid(b + ...) that keeps g of the state at each step (the LSTM's f, the GRU's z)
forgets it with the time constant 1 / (1 - g) steps. Drawing b = log(u), u ~ uniform[1, T_max - 1]
gives g = u / (1 + u) at the start, so the units' time constants 1 + u spread over [2, T_max]:
some remember for as long as the task's longest lag, none forever.
"""

from __future__ import annotations

import numbers

import numpy as np


def chrono_t_max(t_max):
    """None, or T_max as an integer >= 2 (the draw is over [1, T_max - 1])."""
    if t_max is None:
        return None
    if isinstance(t_max, bool) or not isinstance(t_max, numbers.Integral) or t_max < 2:
        raise ValueError(f"chrono: expected None or T_max, an integer >= 2 (the longest lag), got {t_max!r}")
    return int(t_max)


def chrono_biases(t_max: int, H: int, rng: np.random.Generator) -> np.ndarray:
    """(H,) log(u), u ~ uniform[1, T_max - 1], drawn in float64 from ``rng`` (the caller casts)."""
    return np.log(rng.uniform(1.0, t_max - 1.0, H))
