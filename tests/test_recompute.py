"""Segment-recomputing full BPTT gives the plain path's gradients, in far less memory."""

import numpy as np
import pytest

from bptt.nn.recompute import low_memory_gradients, segment_length
from bptt.proof.random_cases import random_problem


def rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


@pytest.mark.parametrize("kind", ["tokens", "vectors"])
@pytest.mark.parametrize("output", ["softmax", "identity"])
@pytest.mark.parametrize("mask", [False, True])
@pytest.mark.parametrize("segment", [1, 4, 13, 60, None])
def test_same_gradients_as_plain_bptt(kind, output, mask, segment):
    model, x, y, h0, m = random_problem(kind, output, "tanh", mask, T=60, B=3, H=7, seed=2)
    plain = model.gradients(x, y, h0, m)
    low = low_memory_gradients(model, x, y, h0, m, segment=segment)
    assert low.loss == pytest.approx(plain.loss, rel=1e-12)
    for k in plain.grads:
        assert rel(low.grads[k], plain.grads[k]) < 1e-12, k
    assert rel(low.dh0, plain.dh0) < 1e-12
    np.testing.assert_allclose(low.losses, plain.losses, rtol=1e-12)
    assert low.errors is None


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


def test_budgeted_run_agrees_and_bad_segment_is_named():
    model, x, y, h0, _ = random_problem(T=40, B=2, H=5, seed=3)
    plain = model.gradients(x, y, h0)
    low = low_memory_gradients(model, x, y, h0, memory_budget=20_000)
    assert rel(low.grads["W"], plain.grads["W"]) < 1e-12
    with pytest.raises(ValueError, match="segment: expected a positive integer, got 0"):
        low_memory_gradients(model, x, y, h0, segment=0)
    for bad in ("abc", -5, float("nan"), True):
        with pytest.raises(ValueError, match="memory_budget: expected a positive number of bytes"):
            low_memory_gradients(model, x, y, h0, memory_budget=bad)
