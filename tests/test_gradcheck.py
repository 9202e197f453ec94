import itertools

import numpy as np
import pytest

import bptt
import bptt.nn.activations
import bptt.nn.cells
from bptt.proof.random_cases import random_problem

COMBOS = list(itertools.product(("tokens", "vectors"), ("softmax", "identity"),
                                ("tanh", "relu", "linear"), (False, True)))


@pytest.mark.parametrize("kind,output,f,mask", COMBOS)
@pytest.mark.parametrize("seed", [0, 1])
def test_every_gradient_matches_central_differences(kind, output, f, mask, seed):
    model, x, y, h0, m = random_problem(kind, output, f, mask, seed=seed)
    report = bptt.gradcheck(model, x, y, h0, m)
    assert [r.name for r in report.rows] == ["U", "W", "b", "V", "c", "h0"]
    assert all(r.checked == r.total for r in report.rows)     # every entry of every array
    assert report.passed, str(report)
    assert report.max_rel_error < 1e-6


def test_gradcheck_of_a_float32_model_checks_in_float64_and_leaves_it_alone():
    model, x, y, h0, m = random_problem(dtype=np.float32)
    before = {k: v.copy() for k, v in model.params.items()}
    report = bptt.gradcheck(model, x, y, h0, m)
    assert report.passed, str(report)
    for k in before:
        assert model.params[k].dtype == np.float32
        np.testing.assert_array_equal(model.params[k], before[k])


def test_sampled_check_of_a_large_model():
    model, x, y, h0, m = random_problem(I=30, H=40, O=30, T=5, B=2)
    report = bptt.gradcheck(model, x, y, h0, m, max_entries=25, seed=3)
    assert report["W"].checked == 25 and report["W"].total == 1600
    assert report["b"].checked == 25 and report["b"].total == 40
    assert report.passed, str(report)


# ---- the checker must FAIL on a backward with a planted error -----------------------------

def _wrong_tanh_derivative(h, out=None):
    return np.subtract(1, h, out=out)                     # 1 - h instead of 1 - h^2


def _no_recurrent_term(self, P, carry_h, dout_t, dh_t, fprime_t, da_t):
    np.add(dout_t, carry_h, out=dh_t)
    np.multiply(dh_t, fprime_t, out=da_t)
    carry_h[...] = 0                                      # forgets W^T dL/da(t)


def _transposed_recurrent_term(self, P, carry_h, dout_t, dh_t, fprime_t, da_t):
    np.add(dout_t, carry_h, out=dh_t)
    np.multiply(dh_t, fprime_t, out=da_t)
    np.matmul(da_t, P.W.T, out=carry_h)                   # W instead of W^T


@pytest.mark.parametrize("plant", ["derivative", "no_recurrence", "transposed_W"])
def test_gradcheck_fails_on_a_planted_error(monkeypatch, plant):
    if plant == "derivative":
        monkeypatch.setitem(bptt.nn.activations.DERIVATIVES, "tanh", _wrong_tanh_derivative)
    elif plant == "no_recurrence":
        monkeypatch.setattr(bptt.nn.cells.RNNCell, "step_backward", _no_recurrent_term)
    else:
        monkeypatch.setattr(bptt.nn.cells.RNNCell, "step_backward", _transposed_recurrent_term)
    model, x, y, h0, m = random_problem("vectors", "softmax", "tanh", False, H=5, seed=4)
    report = bptt.gradcheck(model, x, y, h0, m)
    assert not report.passed
    assert report["W"].max_rel_error > 1e-3               # not a near miss: a clear failure
    assert report["V"].passed and report["c"].passed      # the readout is untouched by the plant


def test_gradcheck_fails_on_a_one_off_dropped_step(monkeypatch):
    """A subtler plant: the loss of the first step is left out of backward only."""
    model, x, y, h0, m = random_problem("tokens", "softmax", "tanh", False, seed=5)
    original = bptt.nn.losses.LOSSES["softmax"]

    def drop_first(o, yhat, y, mask, out=None):
        loss, do, l = original(o, yhat, y, mask, out=out)
        do = do.copy()
        do[0] = 0
        return loss, do, l

    monkeypatch.setitem(bptt.nn.losses.LOSSES, "softmax", drop_first)
    assert not bptt.gradcheck(model, x, y, h0, m).passed


def test_gradcheck_rejects_bad_settings():
    model, x, y, h0, m = random_problem()
    with pytest.raises(ValueError, match="eps: expected a positive finite step, got -1"):
        bptt.gradcheck(model, x, y, h0, m, eps=-1)
    with pytest.raises(ValueError, match="max_entries: expected a positive integer, got 0"):
        bptt.gradcheck(model, x, y, h0, m, max_entries=0)
