"""Dropout (Zaremba et al. 2014): masks on what each layer sends up, proven like the cells.

Fixed masks (``forward(..., dropout=masks)``): float64 central differences for every parameter
and initial state, and PyTorch autograd on a graph built by hand from one-layer nn.RNN/LSTM/GRU
modules (the tests' module for the leaky cell) with the same masks multiplied in between the
layers and before the readout, to 1e-10; a backward that forgets the masks fails both.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import bptt  # noqa: E402
import bptt.nn.network  # noqa: E402
from bptt.nn.dropout import dropout_masks  # noqa: E402
from bptt.nn.truncated import TruncatedBPTT  # noqa: E402
from bptt.proof.random_cases import random_case  # noqa: E402
from cells import CELLS  # noqa: E402
from torch_reference import run_modules_with_dropout  # noqa: E402
from compare import close  # noqa: E402

P = 0.4




def case_with_masks(cell, layers, kind="tokens", output="softmax", seed=0):
    case = random_case(cell, kind, output, layers=layers, I=4, H=5, O=3, T=6, B=3, seed=seed)
    masks = dropout_masks(P, (seed, 7), 0, 6, layers, 3, 5)
    return case, masks


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("kind,output", [("tokens", "softmax"), ("vectors", "identity")])
def test_gradcheck_with_fixed_masks(cell, layers, kind, output):
    case, masks = case_with_masks(cell, layers, kind, output)
    m = case.model
    # the masks change the loss (each drops some units), so the check below sees them
    assert abs(m.loss(case.x, case.y, dropout=masks, **case.state0) - m.loss(case.x, case.y, **case.state0)) > 1e-3
    report = bptt.gradcheck(m, case.x, case.y, dropout=masks, **case.state0)
    assert report.passed, report


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
def test_equals_torch_autograd_with_the_same_masks(cell, layers):
    case, masks = case_with_masks(cell, layers, seed=layers)
    m = case.model
    result = m.backward(m.forward(case.x, dropout=masks, **case.state0), case.y, per_step=True)
    ref = run_modules_with_dropout(m, case.x, case.y, case.state0, None, masks)
    close(result.loss, ref["loss"], "loss")
    assert set(ref["grads"]) == set(m.params)
    for k in m.params:
        close(result.grads[k], ref["grads"][k], f"dL/d{k}")
        close(result.per_step[k].sum(axis=0), result.grads[k], f"sum_t per-step d{k}")
    for name in m.cell.states:
        close(getattr(result, f"d{name}0"), ref["d0"][f"{name}0"], f"dL/d{name}0")


def test_a_backward_that_forgets_the_masks_fails_gradcheck_and_the_torch_oracle(monkeypatch):
    case, masks = case_with_masks("lstm", 2)
    m = case.model
    real = bptt.nn.network.backward_layers

    def forgetful(*args, dropout=None, **kwargs):        # the error going down not multiplied by the masks
        return real(*args, **kwargs)

    monkeypatch.setattr(bptt.nn.network, "backward_layers", forgetful)
    assert not bptt.gradcheck(m, case.x, case.y, dropout=masks, **case.state0).passed
    result = m.backward(m.forward(case.x, dropout=masks, **case.state0), case.y)
    ref = run_modules_with_dropout(m, case.x, case.y, case.state0, None, masks)
    with pytest.raises(AssertionError, match="relative error"):
        for k in m.params:
            close(result.grads[k], ref["grads"][k], f"dL/d{k}")


def test_masks_are_zero_or_one_over_keep_and_drawn_per_step_from_the_key():
    m = dropout_masks(0.25, (3, 1, 2), 0, 400, 2, 8, 16)
    values = np.unique(np.concatenate(m))
    np.testing.assert_array_equal(values, [0.0, 1 / 0.75])
    assert abs((np.concatenate(m) == 0).mean() - 0.25) < 0.01                  # 102,400 draws
    later = dropout_masks(0.25, (3, 1, 2), 100, 150, 2, 8, 16)                   # steps 100..149 redrawn
    for a, b in zip(m, later):
        np.testing.assert_array_equal(a[100:150], b)
    other = dropout_masks(0.25, (3, 1, 3), 0, 400, 2, 8, 16)
    assert not np.array_equal(m[0], other[0])


def test_masks_of_the_wrong_shape_or_count_are_refused_in_one_line():
    case, masks = case_with_masks("gru", 2)
    with pytest.raises(ValueError, match=r"^dropout: expected 2 masks of shape \(6, 3, 5\), one per layer"):
        case.model.forward(case.x, dropout=masks[:1])
    with pytest.raises(ValueError, match=r"^dropout\[1\]: expected a float array of shape \(6, 3, 5\)"):
        case.model.forward(case.x, dropout=(masks[0], masks[1][:, :2]))
    bi = random_case("gru", bidirectional=True, H=5, I=4, O=3, B=3).model
    with pytest.raises(ValueError, match="^dropout: expected a unidirectional network without lengths"):
        bi.forward(case.x, dropout=masks[:1])


@pytest.mark.parametrize("cell", CELLS)
def test_truncated_bptt_uses_each_windows_masks_from_the_key(cell):
    """k1 = k2: each update is forward/backward over its window from the carried state, with the
    masks of the stream's steps [start, stop) drawn from (key, t)."""
    case = random_case(cell, layers=2, I=4, H=5, O=4, T=12, B=3, seed=5)
    m = case.model
    walk = TruncatedBPTT(m, case.x, case.y, 4, 4, dropout=P, dropout_key=(9, 3, 0), **case.state0)
    state = dict(case.state0)
    for start in range(0, 12, 4):
        u = walk.next_update()
        masks = dropout_masks(P, (9, 3, 0), start, start + 4, 2, 3, 5)
        trace = m.forward(case.x[start:start + 4], dropout=masks, **state)
        ref = m.backward(trace, case.y[start:start + 4])
        assert u.loss == pytest.approx(ref.loss, rel=1e-12)
        for k in m.params:
            close(u.grads[k], ref.grads[k], f"[{start}, {start + 4}) d{k}", rtol=1e-12)
        state = {f"{n}0": np.stack([lt.states[n][-1] for lt in trace.layers]) for n in m.cell.states}


@pytest.mark.parametrize("cell", ["lstm", "leaky"])
def test_truncated_bptt_deeper_than_its_window_redraws_the_older_steps_masks(cell):
    """k1 = 4, k2 = 6: the update for [4, 8) back-propagates into steps 2 and 3 with the masks
    their forward had: a forward from the state after step 1 over [2, 8) with the key's masks,
    the loss on [4, 8) only."""
    case = random_case(cell, layers=2, I=4, H=5, O=4, T=12, B=3, seed=6)
    m = case.model
    walk = TruncatedBPTT(m, case.x, case.y, 4, 6, dropout=P, dropout_key=(1, 3, 0), **case.state0)
    walk.next_update()
    u = walk.next_update()
    assert (u.start, u.stop) == (4, 8)
    full = m.forward(case.x[:2], dropout=dropout_masks(P, (1, 3, 0), 0, 2, 2, 3, 5), **case.state0)
    state = {f"{n}0": np.stack([lt.states[n][-1] for lt in full.layers]) for n in m.cell.states}
    trace = m.forward(case.x[2:8], dropout=dropout_masks(P, (1, 3, 0), 2, 8, 2, 3, 5), **state)
    loss_mask = np.ones((6, 3))
    loss_mask[:2] = 0
    ref = m.backward(trace, case.y[2:8], mask=loss_mask)
    assert u.loss == pytest.approx(ref.loss, rel=1e-12)
    for k in m.params:
        close(u.grads[k], ref.grads[k], f"d{k}", rtol=1e-12)
