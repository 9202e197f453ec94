"""Segment-recomputing full BPTT: a segment that fits a memory budget, a budgeted run for every cell
of tests/cells.py, bad settings named. Its gradients against the plain path, for every cell, kind
of data and segment, are proven in tests/test_cells.py."""

import numpy as np
import pytest

from bptt.nn.recompute import low_memory_gradients, segment_length
from bptt.proof.random_cases import random_case
from cells import CELLS


def rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


def test_memory_budget_picks_a_segment_that_fits():
    T, B, H, O = 100_000, 8, 256, 65
    k = segment_length(T, B, H, O, 4)
    assert k == 317                                           # sqrt(T), rounded up
    budget = 40 * 2**20
    k = segment_length(T, B, H, O, 4, memory_budget=budget)
    stored = -(-T // k) * B * H * 4
    live = k * B * (4 * H + 3 * O) * 4
    assert stored + live <= budget
    with pytest.raises(ValueError, match=r"memory_budget: expected at least .* bytes for T=100000"):
        segment_length(T, B, H, O, 4, memory_budget=1000)


@pytest.mark.parametrize("cell", CELLS)
def test_budgeted_run_agrees_and_bad_segment_is_named(cell):
    case = random_case(cell, T=40, B=2, H=5, seed=3)
    model, x, y, state0 = case.model, case.x, case.y, case.state0
    plain = model.gradients(x, y, **state0)
    low = low_memory_gradients(model, x, y, memory_budget=20_000, **state0)
    assert rel(low.grads["W"], plain.grads["W"]) < 1e-12
    with pytest.raises(ValueError, match="segment: expected a positive integer, got 0"):
        low_memory_gradients(model, x, y, segment=0, **state0)
    for bad in ("abc", -5, float("nan"), True):
        with pytest.raises(ValueError, match="memory_budget: expected a positive number of bytes"):
            low_memory_gradients(model, x, y, memory_budget=bad, **state0)
