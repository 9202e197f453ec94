"""The network's stages (nn/stages.py), each against the composed forward and backward, for every
cell of tests/cells.py, one layer and a stack, token ids and real vectors: ``Network.forward``
and ``backward`` are the stages put together, bit for bit; one step at a time (generation)
follows the unrolled forward; the chunked loss is the whole stream's."""

import dataclasses

import numpy as np
import pytest

import bptt
import bptt.train.text  # noqa: F401  (evaluate, which the chunked-loss test reads)
from bptt.nn import stages
from bptt.nn.cells import RNNCell
from bptt.nn.unroll import Workspace
from bptt.proof.random_cases import random_case
from cells import CELLS

KINDS = [("tokens", "softmax", False), ("vectors", "identity", True)]


def case_of(cell, layers, kind, output, mask, T=7, B=3):
    return random_case(cell, kind, output, mask, layers=layers, I=5, H=4, O=5, T=T, B=B, seed=layers + 3)


def same(a, b):
    """Equal to the last bit: the stages are what forward and backward run, not a copy of them."""
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("kind,output,mask", KINDS)
def test_forward_is_project_inputs_the_loop_and_the_readout(cell, layers, kind, output, mask):
    case = case_of(cell, layers, kind, output, mask)
    m = case.model
    trace = m.forward(case.x, **case.state0)
    state0 = m.initial_states(case.x.shape[1], **case.state0)
    layers_ = stages.forward_layers(m, trace.x, state0)
    for lt, want in zip(layers_, trace.layers):
        same(lt.states, want.states)
        same(lt.keeps, want.keeps)
    o, yhat = stages.readout(m, layers_[-1].states["h"][1:])
    np.testing.assert_array_equal(o, trace.o)
    np.testing.assert_array_equal(yhat, trace.yhat)
    # stage 1 alone: b + U x(t), x(t) one-hot or real
    lp = stages.layer_params(m, 0)
    xs = case.x if kind == "vectors" else (case.x[..., None] == np.arange(m.n_in)).astype(float)
    np.testing.assert_allclose(stages.project_inputs(trace.x, lp["U"], lp["b"]), xs @ lp["U"].T + lp["b"],
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("kind,output,mask", KINDS)
def test_backward_is_the_readout_backward_then_the_layers(cell, layers, kind, output, mask):
    case = case_of(cell, layers, kind, output, mask)
    m = case.model
    trace = m.forward(case.x, **case.state0)
    result = m.backward(trace, case.y, mask=case.mask, per_step=True)
    mask_ = None if case.mask is None else case.mask.astype(m.dtype)
    loss, do, losses = stages.readout_loss(m, trace.o, trace.yhat, case.y, mask_)
    assert float(loss) == result.loss
    np.testing.assert_array_equal(losses, result.losses)
    dh, dV, dc = stages.readout_backward(m, do, trace.h)
    grads, errors, carry = stages.backward_layers(m, trace.x, trace.layers, dh)
    same({**grads, "V": dV, "c": dc}, {k: result.grads[k] for k in (*grads, "V", "c")})
    for e, want in zip(errors, result.layer_errors):
        same(e, {k: v for k, v in want.items() if k != "o"})
    same(stages.stack_states(carry), {f"{n}0": getattr(result, f"d{n}0") for n in m.cell.states})
    same(stages.per_step_grads(m, trace.x, trace.layers, result.layer_errors, do), result.per_step)


@pytest.mark.parametrize("cell", CELLS)
def test_a_layer_sends_down_U_transpose_its_error_and_its_per_step_grads_sum_to_its_grads(cell):
    case = case_of(cell, 2, "vectors", "identity", False)
    m = case.model
    trace = m.forward(case.x, **case.state0)
    result = m.backward(trace, case.y)
    lp, below = stages.layer_params(m, 1), trace.layers[0].states["h"][1:]
    dh_top = result.layer_errors[1]["o"] @ m.params["V"]
    carry = [{n: np.zeros((3, 4)) for n in m.cell.states}]
    grads, errors, _, dx = stages.layer_backward(m.cell, lp, below, trace.layers[1], dh_top, carry[0], send_down=True)
    np.testing.assert_allclose(dx, errors[m.cell.errors[0]] @ lp["U"], rtol=1e-12, atol=1e-15)
    steps = stages.layer_grads_per_step(m.cell, lp, below, trace.layers[1], errors, m.n_hidden)
    for k in grads:
        np.testing.assert_allclose(steps[k].sum(axis=0), grads[k], rtol=1e-12, atol=1e-15, err_msg=k)
    assert stages.layer_backward(m.cell, lp, below, trace.layers[1], dh_top)[3] is None   # nothing asked


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("kind", ["tokens", "vectors"])
def test_one_step_at_a_time_is_the_unrolled_forward(cell, layers, kind):
    case = case_of(cell, layers, kind, "softmax", False, B=2)
    m = case.model
    trace = m.forward(case.x, **case.state0)
    state = m.initial_states(2, **case.state0)
    step = stages.stepper(m, B=2)
    for t in range(case.x.shape[0]):
        before = [{n: v.copy() for n, v in s.items()} for s in state]
        new = step(case.x[t], state)
        for s, b in zip(state, before):
            same(s, b)                                               # the states before are left as they are
        state = new
        for layer, lt in enumerate(trace.layers):
            for n in m.cell.states:
                np.testing.assert_allclose(state[layer][n], lt.states[n][t + 1], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(stages.step_readout(m, state), trace.o[t], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("chunk", [1, 3, 7, 50])
def test_the_chunked_loss_is_the_mean_loss_of_the_whole_stream(cell, chunk):
    case = case_of(cell, 2, "tokens", "softmax", False, T=7)
    m = case.model
    trace = m.forward(case.x)
    _, _, losses = stages.readout_loss(m, trace.o, trace.yhat, case.y)
    assert bptt.train.text.evaluate(m, case.x, case.y, chunk) == pytest.approx(losses.mean(), rel=1e-12)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 3])
def test_states_per_layer_and_as_forward_takes_them(cell, layers):
    case = case_of(cell, layers, "tokens", "softmax", False)
    m = case.model
    per_layer = m.initial_states(3, **case.state0)
    same(stages.stack_states(per_layer), case.state0)
    trace = m.forward(case.x, **case.state0)
    last = stages.last_states(trace.layers)
    for lt, s in zip(trace.layers, last):
        for n in m.cell.states:
            np.testing.assert_array_equal(s[n], lt.states[n][-1])
            assert not np.shares_memory(s[n], lt.states[n])              # copies: the trace can go


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 3])
def test_parameter_names_and_shapes_come_from_one_place(cell, layers):
    m = bptt.Network.create(cell, 5, 4, 3, layers=layers, seed=0)
    shapes = stages.param_shapes(m.cell, 5, 4, 3, layers)
    assert list(shapes) == list(m.params) and shapes == {k: v.shape for k, v in m.params.items()}
    for name in m.params:
        base, layer = stages.split_param_name(name)
        assert stages.param_name(base, layer) == name
    assert [stages.param_name("W", layer) for layer in range(3)] == ["W", "W_l1", "W_l2"]
    lp = stages.layer_params(m, layers - 1)
    assert all(lp[k] is m.params[stages.param_name(k, layers - 1)] for k in lp)


def test_create_names_the_network_by_its_cell_and_a_new_cell_needs_no_class(monkeypatch):
    assert type(bptt.Network.create("lstm", 3, 4, 3, cell_options={"forget_bias": 0.5})) is bptt.LSTM
    assert type(bptt.Network.create("rnn", 3, 4, 3, cell_options={"nonlinearity": "relu"})) is bptt.SimpleRNN

    @dataclasses.dataclass(frozen=True)
    class Renamed(RNNCell):
        name = "renamed"                                             # a cell no class names

    monkeypatch.setitem(bptt.nn.network.CELLS, "renamed", Renamed)
    model = bptt.Network.create("renamed", 3, 4, 3, seed=1)
    assert type(model) is bptt.Network and model.cell.name == "renamed"
    x = np.array([[0, 1], [2, 0]])
    np.testing.assert_array_equal(model.forward(x).o, bptt.SimpleRNN(3, 4, 3, seed=1).forward(x).o)


def test_a_workspace_keeps_each_layers_arrays_apart_and_reuses_them():
    work = Workspace()
    a, b = work.scratch(0), work.scratch(1)
    first = a("xu", (2, 3), np.float64)
    assert a("xu", (2, 3), np.float64) is first                      # reused
    assert b("xu", (2, 3), np.float64) is not first                  # another layer's
    assert a("xu", (2, 4), np.float64) is not first                  # another shape: made anew


@pytest.mark.parametrize("cell", CELLS)
def test_a_stepper_writes_two_sets_of_states_in_turn_and_never_the_one_it_reads(cell):
    """What generation relies on: no allocation per step, and the states a step reads left as they are."""
    m = bptt.Network.create(cell, 5, 4, 5, layers=2, seed=0)
    step = stages.stepper(m)
    state0 = m.initial_states(1)
    a = step(np.array([1]), state0)
    b = step(np.array([2]), a)
    c = step(np.array([3]), b)
    assert a is c and a is not b                                     # two sets, in turn
    assert all(not np.shares_memory(s[n], t[n]) for s, t in zip(b, c) for n in m.cell.states)
    again = step(np.array([2]), stages.last_states(m.forward(np.array([[1]])).layers))
    for s, t in zip(again, b):                                       # a state from elsewhere reads the same
        for n in m.cell.states:
            np.testing.assert_allclose(s[n], t[n], rtol=1e-12)
