"""Every proof, for every cell of tests/cells.py and for stacks of it.

float64 central differences on every parameter and initial state (the RNN's relu and linear
too); planted errors in each cell's backward (a wrong tanh derivative, a dropped recurrent term,
transposed W blocks, a dropped first loss) that the checker must catch; PyTorch's own nn.RNN /
nn.LSTM / nn.GRU (+ nn.Linear) autograd on the same weights to 1e-10, the errors of every step
included; truncated BPTT(k2; k1) against autograd of the cut objective and, for k1 = k2, against
the module run from states detached at window edges; recomputing BPTT against the plain path;
the PyTorch bridge both ways.
"""

import dataclasses
import importlib
import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import bptt  # noqa: E402
import bptt.nn.activations  # noqa: E402
import bptt.nn.cells  # noqa: E402
import bptt.nn.losses  # noqa: E402
from bptt.proof.random_cases import random_case  # noqa: E402
from cells import CELLS  # noqa: E402
from torch_reference import (loss_fn, own_extras, run_module, run_module_stepwise, torch_grads,  # noqa: E402
                             torch_inputs, torch_modules)
from compare import close  # noqa: E402

# every proof below on both paths of the gated cells' steps: NumPy's and the compiled kernels (conftest)
pytestmark = pytest.mark.usefixtures("kernels")




def compare(case):
    m = case.model
    trace = m.forward(case.x, **case.state0)
    result = m.backward(trace, case.y, mask=case.mask, per_step=True)
    ref = run_module(m, case.x, case.y, case.state0, case.mask)
    close(trace.h, ref["h"], "h(t)")
    close(trace.yhat, ref["yhat"], "yhat(t)")
    close(result.loss, ref["loss"], "loss")
    for k in m.params:
        close(result.grads[k], ref["grads"][k], f"dL/d{k}")
        close(result.per_step[k].sum(axis=0), result.grads[k], f"sum_t per-step d{k}")
    for name in m.cell.states:
        close(getattr(result, f"d{name}0"), ref["d0"][f"{name}0"], f"dL/d{name}0")
    return result


# ---- gradcheck: every entry of every parameter and initial state ----------------------------
# Every cell, one layer and a stack; the RNN's other nonlinearities (relu, linear) as RNN cases.
KINDS = list(itertools.product(("tokens", "vectors"), ("softmax", "identity"), (False, True)))  # kind, output, mask
NETS = [(cell, layers, None) for cell in CELLS for layers in (1, 2)] + \
       [("rnn", 1, {"nonlinearity": f}) for f in ("relu", "linear")]                 # cell, layers, options


def net_id(net):
    cell, layers, options = net
    return f"{cell}-{layers}" + ("" if options is None else f"-{options['nonlinearity']}")


@pytest.mark.parametrize("cell,layers,options", NETS, ids=map(net_id, NETS))
@pytest.mark.parametrize("kind,output,mask", KINDS)
def test_gradcheck_every_parameter_and_initial_state(cell, layers, options, kind, output, mask):
    case = random_case(cell, kind, output, mask, layers=layers, I=4, H=3, O=3, T=5, B=2, seed=layers - 1,
                       cell_options=options)
    report = bptt.gradcheck(case.model, case.x, case.y, mask=case.mask, **case.state0)
    assert [r.name for r in report.rows] == [*case.model.params, *case.state0]
    if cell == "rnn" and layers == 1:
        assert [r.name for r in report.rows] == ["U", "W", "b", "V", "c", "h0"]
    assert all(r.checked == r.total for r in report.rows)       # every entry of every array
    assert report.passed, str(report)
    assert report.max_rel_error < 1e-6


# ---- the checker must FAIL on a backward with a planted error ---------------------------------
def _wrong_tanh_derivative(h, out=None):
    return np.subtract(1, h, out=out)                           # 1 - h instead of 1 - h^2


def plant(monkeypatch, cell, bug):
    """Plant ``bug`` in the backward of ``cell``:

    derivative     tanh's derivative 1 - h instead of 1 - h^2 wherever backward reads it
                   (the RNN's f', the LSTM's g and tanh(s), the GRU's candidate n)
    no_recurrence  every step forgets what it sends back to the previous states (W^T dL/da(t),
                   and the LSTM's f(t) dL/ds(t), the GRU's z dL/dh(t))
    transposed_W   the recurrent product uses each H x H block of W transposed (W instead of
                   W^T for the RNN)
    """
    cls = bptt.nn.cells.CELLS[cell]
    original = cls.step_backward
    n_states = len(cls.states)
    if bug == "derivative":
        monkeypatch.setitem(bptt.nn.activations.DERIVATIVES, "tanh", _wrong_tanh_derivative)
        for kind in bptt.nn.cells.CELLS.values():          # every cell module that reads tanh's derivative
            module = importlib.import_module(kind.__module__)
            if hasattr(module, "tanh_derivative"):
                monkeypatch.setattr(module, "tanh_derivative", _wrong_tanh_derivative)
        plant_compiled_derivative(monkeypatch)
        return

    def forgetful(self, P, *args):
        original(self, P, *args)
        for carry in args[:n_states]:
            carry[...] = 0

    def transposed(self, P, *args):
        original(self, P, *args)
        carry_h, e = args[0], args[-1]              # e: the recurrent side's error (B, G*H)
        H = P.W.shape[1]
        blocks_T = np.concatenate([P.W[k * H:(k + 1) * H].T for k in range(cls.gates)])
        carry_h += e @ (blocks_T - P.W)             # e W_blocks^T where the step computed e W

    monkeypatch.setattr(cls, "step_backward", {"no_recurrence": forgetful, "transposed_W": transposed}[bug])


def plant_compiled_derivative(monkeypatch):
    """The same wrong tanh derivative in the compiled path's backward_locals (which computes 1 - h^2
    inside its loops): the LSTM's g and tanh(s) terms and the GRU's n term, rewritten after it."""
    fast_lstm = importlib.import_module("bptt.nn.cells._fast_lstm")
    fast_gru = importlib.import_module("bptt.nn.cells._fast_gru")
    lstm_locals, gru_locals = fast_lstm.backward_locals, fast_gru.backward_locals

    def lstm(gates, tanh_s, s_prev, A, D):
        lstm_locals(gates, tanh_s, s_prev, A, D)
        H = A.shape[-1]
        i, g, o = gates[..., :H], gates[..., 2 * H:3 * H], gates[..., 3 * H:]
        D[..., 2 * H:3 * H] = _wrong_tanh_derivative(g) * i
        A[...] = _wrong_tanh_derivative(tanh_s) * o

    def gru(gates, hn, h_prev, N, Dz, R):
        gru_locals(gates, hn, h_prev, N, Dz, R)
        H = N.shape[-1]
        N[...] = _wrong_tanh_derivative(gates[..., 2 * H:]) * (1 - gates[..., H:2 * H])
    monkeypatch.setattr(fast_lstm, "backward_locals", lstm)
    monkeypatch.setattr(fast_gru, "backward_locals", gru)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bug", ["derivative", "no_recurrence", "transposed_W"])
def test_gradcheck_fails_on_a_planted_error(cell, bug, monkeypatch):
    case = random_case(cell, "vectors", "softmax", I=4, H=3, O=3, T=6, B=2, seed=4)
    plant(monkeypatch, cell, bug)
    report = bptt.gradcheck(case.model, case.x, case.y, **case.state0)
    assert not report.passed
    assert report["W"].max_rel_error > 1e-3               # not a near miss: a clear failure
    assert report["V"].passed and report["c"].passed      # the readout is untouched by the plant


@pytest.mark.parametrize("cell", CELLS)
def test_gradcheck_fails_on_a_one_off_dropped_step(cell, monkeypatch):
    """A subtler plant: the loss of the first step is left out of backward only."""
    case = random_case(cell, "tokens", "softmax", seed=5)
    original = bptt.nn.losses.LOSSES["softmax"]

    def drop_first(o, yhat, y, mask, out=None):
        loss, do, l = original(o, yhat, y, mask, out=out)
        do = do.copy()
        do[0] = 0
        return loss, do, l

    monkeypatch.setitem(bptt.nn.losses.LOSSES, "softmax", drop_first)
    assert not bptt.gradcheck(case.model, case.x, case.y, **case.state0).passed


# ---- PyTorch's own modules on the same weights ---------------------------------------------
SHAPES = [(1, 1, 1, 1, 1), (1, 3, 4, 5, 2), (7, 1, 3, 1, 4), (5, 4, 6, 8, 6), (200, 2, 5, 6, 5),
          (13, 3, 2, 16, 3)]                                                            # T, B, I, H, O
MODULES = [(cell, None) for cell in CELLS if bptt.nn.cells.CELLS[cell].torch] + \
          [("rnn", {"nonlinearity": "relu"})]       # cell, options: the cells torch.nn has modules for


def module_id(net):
    cell, options = net
    return cell + ("" if options is None else f"-{options['nonlinearity']}")


@pytest.mark.parametrize("cell,options", MODULES, ids=map(module_id, MODULES))
@pytest.mark.parametrize("T,B,I,H,O", SHAPES)
@pytest.mark.parametrize("kind", ["tokens", "vectors"])
@pytest.mark.parametrize("output", ["softmax", "identity"])
def test_torch_module_agrees(cell, options, T, B, I, H, O, kind, output):
    compare(random_case(cell, kind, output, I=I, H=H, O=O, T=T, B=B, seed=T * 7 + H, cell_options=options))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [2, 3])
@pytest.mark.parametrize("kind,output", [("tokens", "softmax"), ("vectors", "identity")])
def test_stacks_agree_with_num_layers(cell, layers, kind, output):
    compare(random_case(cell, kind, output, layers=layers, I=5, H=6, O=4, T=9, B=3, seed=layers))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("kind", ["tokens", "vectors"])
@pytest.mark.parametrize("output", ["softmax", "identity"])
def test_masks_agree(cell, kind, output):
    case = random_case(cell, kind, output, True, T=9, B=4, seed=2)
    result = compare(case)
    assert np.all(result.errors["o"][:-1] == 0)                 # no loss before the last step
    mixed = np.random.default_rng(0).integers(0, 2, size=(9, 4))
    compare(dataclasses.replace(case, mask=mixed))


# the kernels fixture sets a switch once for all the examples, which is what it should do
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(net=st.sampled_from(MODULES), T=st.integers(1, 30), B=st.integers(1, 5), I=st.integers(1, 7),
       H=st.integers(1, 12), O=st.integers(1, 7), layers=st.integers(1, 3), seed=st.integers(0, 2**16),
       kind=st.sampled_from(["tokens", "vectors"]), output=st.sampled_from(["softmax", "identity"]),
       mask=st.booleans())
def test_random_shapes_agree(net, T, B, I, H, O, layers, seed, kind, output, mask):
    cell, options = net
    compare(random_case(cell, kind, output, mask, layers=layers, I=I, H=H, O=O, T=T, B=B, seed=seed,
                        cell_options=options))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
def test_every_steps_errors_equal_autograd(cell, layers):
    """dL/dh(t) of every layer at every step against the module run step by step and layer by
    layer; for the LSTM, what each step sends back to s(t), f(t+1) dL/ds(t+1), against the
    gradient of the cell state that step returned."""
    case = random_case(cell, "tokens", "softmax", layers=layers, I=5, H=6, O=5, T=11, B=3, seed=9)
    m = case.model
    trace = m.forward(case.x, **case.state0)
    result = m.backward(trace, case.y)
    ref = run_module_stepwise(m, case.x, case.y, case.state0, None)
    H = m.n_hidden
    for layer in range(layers):
        close(result.layer_errors[layer]["h"], ref["errors"]["h"][layer], f"layer {layer} dL/dh(t)")
        if "s" in m.cell.states:
            f_next = trace.layers[layer].keeps["gates"][1:, :, H:2 * H]            # f(t+1)
            sent = np.zeros_like(result.layer_errors[layer]["s"])
            sent[:-1] = f_next * result.layer_errors[layer]["s"][1:]
            close(sent, ref["errors"]["s"][layer], f"layer {layer} f(t+1) dL/ds(t+1)")


# ---- truncated BPTT against autograd of the cut objective -----------------------------------
def truncated_reference(model, x, y, state0, k1, k2):
    """For the update ending at `stop`: the states at stop - k2 come from a full forward and are
    detached; steps before the cut see only detached states, so their losses reach V and c alone.
    Each update's loss, gradients and the states after step stop - 1 (as ``forward`` takes them)."""
    module, readout = torch_modules(model)
    xt = torch_inputs(x, model.n_in)
    T, B = x.shape[:2]
    lstm = model.cell.name == "lstm"

    def to_t(v):
        return torch.tensor(v if model.layers > 1 else v[None])

    def to_np(v):
        return v.numpy() if model.layers > 1 else v.numpy()[0]

    state = (to_t(state0["h0"]), to_t(state0["s0"])) if lstm else to_t(state0["h0"])
    full, tops = [state], []
    with torch.no_grad():
        for t in range(T):
            out, state = module(xt[t:t + 1], state)
            full.append(state)
            tops.append(out[0])
    results = []
    for start in range(0, T, k1):
        stop = min(start + k1, T)
        module.zero_grad(), readout.zero_grad()
        c0 = max(stop - k2, 0)
        s = tuple(v.detach() for v in full[c0]) if lstm else full[c0].detach()
        live = {}
        for t in range(c0, stop):
            out, s = module(xt[t:t + 1], s)
            live[t] = out[0]
        h = torch.stack([live.get(t, tops[t]) for t in range(start, stop)])
        o = readout(h)
        loss = loss_fn(o, torch.from_numpy(y[start:stop]), model.output, None)
        loss.backward()
        grads = {}
        for layer in range(model.layers):
            sfx, k = ("" if layer == 0 else f"_l{layer}"), f"_l{layer}"
            for name, attr in (("U", "weight_ih"), ("W", "weight_hh")):
                g = getattr(module, attr + k).grad
                grads[name + sfx] = np.zeros_like(model.params[name + sfx]) if g is None else g.numpy().copy()
            g_ih, g_hh = getattr(module, "bias_ih" + k).grad, getattr(module, "bias_hh" + k).grad
            if g_ih is None:
                g_ih = g_hh = torch.zeros_like(getattr(module, "bias_ih" + k))
            grads.update({n + sfx: v.numpy().copy() for n, v in model.cell.torch_bias_grads(g_ih, g_hh).items()})
            for n in own_extras(model, module):
                g = getattr(module, n + k).grad
                grads[n + sfx] = np.zeros_like(model.params[n + sfx]) if g is None else g.numpy().copy()
        grads["V"], grads["c"] = readout.weight.grad.numpy().copy(), readout.bias.grad.numpy().copy()
        after = dict(zip(("h0", "s0"), full[stop])) if lstm else {"h0": full[stop]}
        results.append((loss.item(), grads, {k: to_np(v) for k, v in after.items()}))
    return results


# (k1, k2, layers): every pair on one layer, the first six on a stack too
WINDOWS = [(k1, k2, 1) for k1, k2 in ((5, 5), (4, 9), (7, 3), (1, 1), (23, 23), (8, 30), (3, 7), (6, 1), (10, 4))] + \
          [(k1, k2, 2) for k1, k2 in ((5, 5), (4, 9), (7, 3), (1, 1), (23, 23), (8, 30))]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("k1,k2,layers", WINDOWS)
def test_truncated_updates_equal_autograd_of_the_cut_objective(cell, k1, k2, layers):
    case = random_case(cell, "tokens", "softmax", layers=layers, I=6, H=5, O=6, T=23, B=3, seed=k1 + k2)
    updates = list(bptt.truncated_bptt(case.model, case.x, case.y, k1, k2, **case.state0))
    ref = truncated_reference(case.model, case.x, case.y, case.state0, k1, k2)
    assert len(updates) == len(ref) == -(-23 // k1)             # the last window is shorter
    for u, (loss, grads, after) in zip(updates, ref):
        assert u.loss == pytest.approx(loss, rel=1e-12)
        for k in case.model.params:
            close(u.grads[k], grads[k], f"update [{u.start}, {u.stop}) d{k}")
        assert u.state.keys() == after.keys()
        for k in after:
            close(u.state[k], after[k], f"carried state {k} after [{u.start}, {u.stop})")
    assert updates[-1].n_steps == 23 - k1 * (len(updates) - 1)


@pytest.mark.parametrize("cell,options", [("rnn", {"nonlinearity": "relu"}), ("lstm", None), ("gru", None)],
                         ids=["rnn-relu", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_equal_k1_k2_equals_the_torch_module_with_the_state_detached_at_window_edges(cell, options, layers):
    """k1 = k2 = 5: each window is nn.RNN / nn.LSTM / nn.GRU run from the last window's final
    states (h, and the LSTM's c) detached, its own loss backpropagated."""
    case = random_case(cell, "tokens", "softmax", layers=layers, I=6, H=5, O=6, T=20, B=3, seed=3,
                       cell_options=options)
    m = case.model
    module, readout = bptt.to_torch(m)
    xt = torch_inputs(case.x, m.n_in)
    state = tuple(torch.tensor(case.state0[f"{n}0"] if layers > 1 else case.state0[f"{n}0"][None])
                  for n in m.cell.states)
    for u, start in zip(bptt.truncated_bptt(m, case.x, case.y, 5, 5, **case.state0), range(0, 20, 5)):
        module.zero_grad()
        readout.zero_grad()
        detached = tuple(v.detach() for v in state)
        out, state = module(xt[start:start + 5], detached if len(detached) > 1 else detached[0])
        state = state if isinstance(state, tuple) else (state,)
        loss = loss_fn(readout(out), torch.from_numpy(case.y[start:start + 5]), m.output, None)
        loss.backward()
        assert u.loss == pytest.approx(loss.item(), rel=1e-12)
        grads = torch_grads(m, module, readout)
        for k in m.params:
            close(u.grads[k], grads[k], f"window [{start}, {start + 5}) d{k}")


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("kind,k1", [("vectors", 1), ("vectors", 4), ("vectors", 7), ("vectors", 20), ("tokens", 20)])
def test_truncated_with_k2_covering_everything_sums_to_full_bptt(cell, layers, kind, k1):
    case = random_case(cell, kind, "softmax", layers=layers, I=6, H=5, O=6, T=20, B=2, seed=3)
    full = case.model.gradients(case.x, case.y, **case.state0)
    updates = list(bptt.truncated_bptt(case.model, case.x, case.y, k1, 20, **case.state0))
    assert sum(u.loss for u in updates) == pytest.approx(full.loss, rel=1e-12)
    for k in case.model.params:
        close(sum(u.grads[k] for u in updates), full.grads[k], f"sum of d{k}")
    if k1 == 20:
        assert len(updates) == 1
        for k in case.model.params:
            close(updates[0].grads[k], full.grads[k], f"d{k}", rtol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers,k1,k2,given", [(1, 3, 8, True), (2, 4, 9, False)])
def test_truncated_walk_resumes_bit_for_bit(cell, layers, k1, k2, given):
    """A walk restored from state() after four updates, into a walk made with the initial states
    or without them (restore sets them), continues as the interrupted walk and as the whole one."""
    case = random_case(cell, "tokens", "softmax", layers=layers, I=6, H=5, O=6, T=30, B=2, seed=5)
    whole = list(bptt.truncated_bptt(case.model, case.x, case.y, k1, k2, **case.state0))
    a = bptt.TruncatedBPTT(case.model, case.x, case.y, k1, k2, **case.state0)
    first = [a.next_update() for _ in range(4)]
    saved = {k: np.array(v, copy=True) for k, v in a.state().items()}
    rest = list(iter(a.next_update, None))
    b = bptt.TruncatedBPTT(case.model, case.x, case.y, k1, k2, **(case.state0 if given else {}))
    b.restore(saved)
    again = list(iter(b.next_update, None))
    assert first[-1].stop == again[0].start
    assert len(rest) == len(again) == len(whole) - 4
    for u, v, w in zip(rest, again, whole[4:]):
        assert u.loss == v.loss == w.loss
        for k in u.grads:
            np.testing.assert_array_equal(u.grads[k], v.grads[k])
            np.testing.assert_array_equal(w.grads[k], v.grads[k])


# ---- recomputing BPTT ------------------------------------------------------------------------
# (layers, kind, output, mask, segment): one layer for every kind of data and segment (1, a few,
# one not dividing T, T itself, sqrt(T)); a stack for some
RECOMPUTE = [(1, kind, output, mask, segment) for kind, output, mask in KINDS for segment in (1, 4, 13, 60, None)] + \
            [(2, "vectors", "identity", True, segment) for segment in (None, 1, 7)]
SIZES = {1: dict(I=5, H=7, O=5, T=60, B=3, seed=2), 2: dict(I=3, H=5, O=2, T=40, B=2, seed=6)}


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers,kind,output,mask,segment", RECOMPUTE)
def test_recomputing_bptt_equals_the_plain_path(cell, layers, kind, output, mask, segment):
    case = random_case(cell, kind, output, mask, layers=layers, **SIZES[layers])
    plain = case.model.gradients(case.x, case.y, mask=case.mask, **case.state0)
    low = bptt.low_memory_gradients(case.model, case.x, case.y, mask=case.mask, segment=segment, **case.state0)
    assert low.loss == pytest.approx(plain.loss, rel=1e-12)
    for k in case.model.params:
        close(low.grads[k], plain.grads[k], f"d{k}", rtol=1e-12)
    for name in case.model.cell.states:
        close(getattr(low, f"d{name}0"), getattr(plain, f"d{name}0"), f"d{name}0", rtol=1e-12)
    np.testing.assert_allclose(low.losses, plain.losses, rtol=1e-12)
    assert low.errors is None


# ---- the bridge ------------------------------------------------------------------------------
def merged_blocks(cell, H):
    """The rows of b that are bias_ih + bias_hh (all of them, but for the GRU's n block)."""
    return slice(0, 2 * H) if cell == "gru" else slice(None)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 3])
def test_bridge_round_trip_and_bias_split(cell, layers):
    case = random_case(cell, layers=layers, I=4, H=5, O=3, seed=1)
    model, H = case.model, 5
    if model.cell.torch is None:                 # torch.nn has no such module: refused in one line
        with pytest.raises(ValueError, match=f"^model: torch.nn has no module for the {cell} cell"):
            bptt.to_torch(model)
        return
    module, readout = bptt.to_torch(model)
    assert module.num_layers == layers
    back = bptt.from_torch(module, readout)
    assert type(back) is type(model) and back.layers == layers and back.cell == model.cell
    assert back.dtype == np.float64
    if cell == "rnn":
        assert back.nonlinearity == "tanh"
    for k, v in model.params.items():
        np.testing.assert_array_equal(back.params[k], v)
    # to_torch puts every merged bias in bias_ih; a module with both biases set maps back to their sum
    merged = merged_blocks(cell, H)
    for layer in range(layers):
        assert torch.all(getattr(module, f"bias_hh_l{layer}")[merged] == 0)
    with torch.no_grad():
        for layer in range(layers):
            getattr(module, f"bias_hh_l{layer}").uniform_(-1, 1)
    back = bptt.from_torch(module, readout)
    for layer in range(layers):
        sfx = "" if layer == 0 else f"_l{layer}"
        b_ih = getattr(module, f"bias_ih_l{layer}").detach().numpy()
        b_hh = getattr(module, f"bias_hh_l{layer}").detach().numpy()
        np.testing.assert_allclose(back.params["b" + sfx][merged], (b_ih + b_hh)[merged], rtol=0, atol=0)
        if cell == "gru":                                   # r multiplies W_n h + b_hn: b_hn kept apart
            np.testing.assert_array_equal(back.params["b" + sfx][2 * H:], b_ih[2 * H:])
            np.testing.assert_array_equal(back.params["b_hn" + sfx], b_hh[2 * H:])
        for k in ("U", "W"):
            np.testing.assert_array_equal(back.params[k + sfx], model.params[k + sfx])
    for k in ("V", "c"):
        np.testing.assert_array_equal(back.params[k], model.params[k])


@pytest.mark.parametrize("cell,options", MODULES, ids=map(module_id, MODULES))
def test_from_torch_keeps_float32_and_the_cells_options(cell, options):
    torch.manual_seed(0)
    kind = getattr(torch.nn, bptt.nn.cells.CELLS[cell].torch)
    module = kind(3, 5, **(options or {}))
    model = bptt.from_torch(module, torch.nn.Linear(5, 2), cell=cell)
    assert model.dtype == np.float32
    assert all(v.dtype == np.float32 for v in model.params.values())
    if options is not None:
        assert model.nonlinearity == options["nonlinearity"]


@pytest.mark.parametrize("cell", CELLS)
def test_from_torch_refuses_what_it_cannot_map(cell):
    cls = type(random_case(cell).model)
    if bptt.nn.cells.CELLS[cell].torch is None:
        with pytest.raises(ValueError, match=f"^cell: torch.nn has no module for the {cell} cell"):
            bptt.from_torch(torch.nn.RNN(2, 3), torch.nn.Linear(3, 2), cell=cell)
        return
    kind = getattr(torch.nn, bptt.nn.cells.CELLS[cell].torch)
    for options, match in (({"batch_first": True}, "batch_first=False"),):
        with pytest.raises(ValueError, match=f"{cell}: expected {match}"):
            bptt.from_torch(kind(2, 3, **options), torch.nn.Linear(3, 2), cell=cls.CELL)
    # bidirectional modules are mapped now (tests/test_bidirectional.py); their readout must read 2H
    with pytest.raises(ValueError, match=r"readout: expected in_features = 2 \* hidden_size = 6, got 3"):
        bptt.from_torch(kind(2, 3, bidirectional=True), torch.nn.Linear(3, 2), cell=cls.CELL)
    with pytest.raises(ValueError, match="readout: expected in_features = hidden_size = 3, got 4"):
        bptt.from_torch(kind(2, 3), torch.nn.Linear(4, 2), cell=cls.CELL)
    for other in (torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU):
        if other is not kind:
            with pytest.raises(ValueError, match=f"{cell}: expected a torch.nn.{kind.__name__}, got {other.__name__}"):
                bptt.from_torch(other(2, 3), torch.nn.Linear(3, 2), cell=cls.CELL)
    if cell == "lstm":
        with pytest.raises(ValueError, match="proj_size"):
            bptt.from_torch(torch.nn.LSTM(2, 4, proj_size=3), torch.nn.Linear(3, 2), cell=cls.CELL)
    if cell == "rnn":
        with pytest.raises(ValueError, match="nonlinearity: torch.nn.RNN supports"):
            bptt.to_torch(bptt.SimpleRNN(2, 3, 2, nonlinearity="linear"))


def test_forget_bias_is_added_at_initialisation_only():
    a = bptt.LSTM(3, 4, 2, seed=0, forget_bias=0.0)
    b = bptt.LSTM(3, 4, 2, seed=0)
    np.testing.assert_allclose(b.params["b"][4:8] - a.params["b"][4:8], 1.0, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(b.params["b"][:4], a.params["b"][:4])
    module, readout = bptt.to_torch(b)
    with torch.no_grad():
        module.bias_ih_l0[4:8] = -3.0
    assert np.all(bptt.from_torch(module, readout).params["b"][4:8] == -3.0)


@pytest.mark.parametrize("cell", CELLS)
def test_float32_agrees_with_float64(cell):
    case = random_case(cell, I=20, H=32, O=20, T=50, B=8, layers=2, seed=3)
    m32 = case.model.copy(np.float32)
    r64 = case.model.gradients(case.x, case.y, **case.state0)
    r32 = m32.gradients(case.x, case.y, **case.state0)
    assert r32.loss == pytest.approx(r64.loss, rel=1e-5)
    for k in case.model.params:
        assert r32.grads[k].dtype == np.float32
        err = np.abs(r32.grads[k] - r64.grads[k]).max() / np.abs(r64.grads[k]).max()
        assert err < 1e-4, (k, err)
    t32 = m32.forward(case.x, **case.state0)
    kept = [v for lt in t32.layers for part in (lt.states, lt.keeps) for v in part.values()]
    starts = [getattr(r32, f"d{name}0") for name in m32.cell.states]
    for arr in (t32.o, t32.yhat, *kept, *starts, *r32.errors.values()):
        assert arr.dtype == np.float32
