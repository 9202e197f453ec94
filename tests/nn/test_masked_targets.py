"""Targets at masked steps are not read: -1 padding (or NaN, or any id) where the mask is 0 gives
the loss and gradients that valid targets there give, for every cell and every path that takes a
mask; a bad target where the mask is not 0 is still refused in one line naming y."""

import numpy as np
import pytest

import bptt
from bptt.proof.random_cases import random_case
from cells import CELLS


def many_to_one(cell, output, layers=1, seed=3):
    """A case whose loss is on the last step (mixed: one sequence also on step 2), and its
    targets padded at every other step: -1 for class ids (the usual ignore index), NaN for vectors."""
    case = random_case(cell, "tokens" if output == "softmax" else "vectors", output, True, layers=layers,
                       I=4, H=5, O=3, T=7, B=3, seed=seed)
    mask = case.mask.copy()
    mask[2, 1] = 0.5                      # a weight, not only 0/1: read there too
    padded = case.y.copy()
    if output == "softmax":
        padded[mask == 0] = -1
        padded[0, 0] = 10**6              # any id at all, not only -1
    else:
        padded[mask == 0] = np.nan
        padded[0, 0] = 1e300              # its square would overflow, were it read
    return case, mask, padded


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("output", ["softmax", "identity"])
@pytest.mark.parametrize("layers", [1, 2])
def test_padding_at_masked_steps_gives_the_valid_targets_loss_and_gradients(cell, output, layers):
    case, mask, padded = many_to_one(cell, output, layers)
    m = case.model
    trace = m.forward(case.x, **case.state0)
    want = m.backward(trace, case.y, mask=mask, per_step=True)
    got = m.backward(trace, padded, mask=mask, per_step=True)
    assert got.loss == want.loss and np.isfinite(got.loss)
    np.testing.assert_array_equal(got.losses, want.losses)
    for name in m.params:
        np.testing.assert_array_equal(got.grads[name], want.grads[name], err_msg=name)
        np.testing.assert_array_equal(got.per_step[name], want.per_step[name], err_msg=name)
    for name in m.cell.states:
        np.testing.assert_array_equal(getattr(got, f"d{name}0"), getattr(want, f"d{name}0"))
    assert m.loss(case.x, padded, mask=mask, **case.state0) == m.loss(case.x, case.y, mask=mask, **case.state0)
    low = bptt.low_memory_gradients(m, case.x, padded, mask=mask, segment=3, **case.state0)
    ref = bptt.low_memory_gradients(m, case.x, case.y, mask=mask, segment=3, **case.state0)
    assert low.loss == ref.loss
    for name in m.params:
        np.testing.assert_array_equal(low.grads[name], ref.grads[name], err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
def test_gradcheck_takes_padded_targets(cell):
    case, mask, padded = many_to_one(cell, "softmax")
    report = bptt.gradcheck(case.model, case.x, padded, mask=mask, **case.state0)
    assert report.passed, report


@pytest.mark.parametrize("output,bad,match", [
    ("softmax", -1, r"^y: expected class ids in \[0, 2\] where the mask is not 0, got -1$"),
    ("softmax", 3, r"^y: expected class ids in \[0, 2\] where the mask is not 0, got 3$"),
    ("identity", np.nan, r"^y: expected finite values where the mask is not 0, got nan at index \(6, 0, 0\)$"),
])
def test_a_bad_target_where_the_mask_is_not_0_is_refused_in_one_line(output, bad, match):
    case, mask, padded = many_to_one("lstm", output)
    padded[-1, 0] = bad                   # the step that carries the loss
    trace = case.model.forward(case.x, **case.state0)
    with pytest.raises(ValueError, match=match):
        case.model.backward(trace, padded, mask=mask)
    with pytest.raises(ValueError, match=match):
        case.model.loss(case.x, padded, mask=mask, **case.state0)
    no_mask = (r"^y: expected class ids in \[0, 2\], got -1$" if output == "softmax"
               else r"^y: expected finite values, got nan at index \(0, 1, 0\)$")
    with pytest.raises(ValueError, match=no_mask):
        case.model.backward(trace, padded)                       # no mask: every target is read


def test_the_losses_themselves_ignore_masked_targets():
    """bptt.nn.losses called directly (as task training's scoring does) reads no masked target."""
    from bptt.nn.losses import cross_entropy, softmax, squared_error
    rng = np.random.default_rng(0)
    o = rng.normal(size=(4, 2, 3))
    mask = np.array([[0, 1], [0, 0], [1, 0], [0, 1.0]])
    y = rng.integers(0, 3, size=(4, 2))
    padded = np.where(mask == 0, -7, y)
    for a, b in zip(cross_entropy(o, softmax(o), y, mask), cross_entropy(o, softmax(o), padded, mask)):
        np.testing.assert_array_equal(a, b)
    v = rng.normal(size=(4, 2, 3))
    nan = np.where(mask[..., None] == 0, np.nan, v)
    for a, b in zip(squared_error(o, o, v, mask), squared_error(o, o, nan, mask)):
        np.testing.assert_array_equal(a, b)
