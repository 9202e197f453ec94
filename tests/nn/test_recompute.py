"""Segment-recomputing full BPTT: a segment that fits a memory budget, a budgeted run for every cell
of tests/cells.py, bad settings named. Its gradients against the plain path, for every cell, kind
of data and segment, are proven in tests/test_cells.py."""

import tracemalloc

import numpy as np
import pytest

import bptt
from bptt.nn.cells import GRUCell, LSTMCell, RNNCell
from bptt.nn.recompute import local_width, low_memory_gradients, segment_length, step_bytes
from bptt.proof.random_cases import random_case
from cells import CELLS


def rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


def test_memory_budget_picks_a_segment_that_fits():
    T, B, H, O = 100_000, 8, 256, 65
    k = segment_length(T, B, H, O, 4)
    assert k == 317                                           # sqrt(T), rounded up
    budget = 200 * 2**20
    for cell, layers in ((RNNCell(), 1), (LSTMCell(), 2), (GRUCell(), 3)):
        k = segment_length(T, B, H, O, 4, memory_budget=budget, cell=cell, layers=layers)
        stored, live = step_bytes(cell, layers, B, H, O, 4)
        assert stored == layers * len(cell.states) * B * H * 4
        assert -(-T // k) * stored + k * live <= budget
        # the cost is least at the chosen k among its neighbours
        assert all(-(-T // k) * stored + k * live <= -(-T // j) * stored + j * live for j in (k - 1, k + 1))
    with pytest.raises(ValueError, match=r"memory_budget: expected at least .* bytes for T=100000"):
        segment_length(T, B, H, O, 4, memory_budget=1000)


def test_local_width_counts_what_backward_locals_allocates():
    # The RNN's f'(a) is written over its error buffer, the LSTM adds tanh'(s), the GRU three.
    assert [local_width(c()) for c in (RNNCell, LSTMCell, GRUCell)] == [0, 1, 3]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
def test_the_walk_allocates_what_its_budget_says(cell, layers):
    # Measured with tracemalloc (NumPy reports its arrays to it): the peak of one call, less the
    # gradients and the per-step losses the budget leaves out, against step_bytes' account.
    # A second segment held while the next is recomputed, or a cell's arrays left out of the
    # account, put the ratio at 1.2-1.4 (as it was before the account read the cell).
    T, B, I, H = 400, 8, 5, 64
    model = bptt.Network.create(cell, I, H, I, layers=layers, seed=0)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, I, (T, B)), rng.integers(0, I, (T, B))
    stored, live = step_bytes(model.cell, layers, B, H, I, 8)
    params = sum(v.nbytes for v in model.params.values())
    low_memory_gradients(model, x[:20], y[:20], segment=10)     # what a first call makes once
    for k in (10, 40):
        tracemalloc.start()
        try:
            low_memory_gradients(model, x, y, segment=k)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        used = peak - 2 * params - T * B * 8               # the sums and one segment's gradients
        account = -(-T // k) * stored + k * live
        assert 0.8 <= used / account <= 1.1, (cell, layers, k, used, account)


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
