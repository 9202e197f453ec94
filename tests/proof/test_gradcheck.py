"""The checker itself, on every cell of tests/cells.py: float32 models are checked in float64 and
left alone, large models by a sample of entries, bad settings named. That it passes on every
gradient and fails on planted errors is proven in tests/test_cells.py."""

import numpy as np
import pytest

import bptt
from bptt.proof.random_cases import random_case, random_problem
from cells import CELLS


@pytest.mark.parametrize("cell", CELLS)
def test_gradcheck_of_a_float32_model_checks_in_float64_and_leaves_it_alone(cell):
    case = random_case(cell, dtype=np.float32)
    model = case.model
    before = {k: v.copy() for k, v in model.params.items()}
    report = bptt.gradcheck(model, case.x, case.y, **case.state0)
    assert report.passed, str(report)
    for k in before:
        assert model.params[k].dtype == np.float32
        np.testing.assert_array_equal(model.params[k], before[k])


@pytest.mark.parametrize("cell", CELLS)
def test_sampled_check_of_a_large_model(cell):
    case = random_case(cell, I=30, H=40, O=30, T=5, B=2)
    G = case.model.cell.gates
    report = bptt.gradcheck(case.model, case.x, case.y, **case.state0, max_entries=25, seed=3)
    assert report["W"].checked == 25 and report["W"].total == G * 1600
    assert report["b"].checked == 25 and report["b"].total == G * 40
    assert report.passed, str(report)


def test_gradcheck_rejects_bad_settings():
    model, x, y, h0, m = random_problem()
    with pytest.raises(ValueError, match="eps: expected a positive finite step, got -1"):
        bptt.gradcheck(model, x, y, h0, m, eps=-1)
    with pytest.raises(ValueError, match="max_entries: expected a positive integer, got 0"):
        bptt.gradcheck(model, x, y, h0, m, max_entries=0)
