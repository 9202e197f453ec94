"""Bidirectional networks (Goodfellow et al. 10.3) and padded batches of sequences of their own
lengths, for every cell of tests/cells.py and stacks of it: float64 central differences on every
parameter and initial state; PyTorch's nn.RNN/LSTM/GRU(bidirectional=True) on
pack_padded_sequence(enforce_sorted=False) / pad_packed_sequence, same weights, to 1e-10; the
bridge's round trip bit for bit; checkpoints; bad lengths."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import bptt  # noqa: E402
from bptt.nn.stages import param_name, reverse_steps, split_param_name  # noqa: E402
from cells import CELLS, TORCH_CELLS  # noqa: E402
from torch_reference import run_packed  # noqa: E402
from compare import close  # noqa: E402





def problem(cell, *, bidirectional=True, layers=1, kind="vectors", output="softmax", I=3, H=4, O=3, T=6,
            B=4, lengths=None, seed=0, mask=False):
    rng = np.random.default_rng(seed)
    model = bptt.Network.create(cell, I, H, O, layers=layers, output=output, seed=seed,
                                bidirectional=bidirectional)
    x = rng.integers(0, I, size=(T, B)) if kind == "tokens" else rng.normal(size=(T, B, I))
    y = rng.integers(0, O, size=(T, B)) if output == "softmax" else rng.normal(size=(T, B, O))
    n = layers * model.directions
    shape = (B, H) if n == 1 else (n, B, H)
    state0 = {f"{name}0": rng.uniform(-0.5, 0.5, size=shape) for name in model.cell.states}
    if lengths is None:
        lengths = rng.integers(1, T + 1, size=B)
    lengths = np.asarray(lengths)
    m = None
    if mask:                                   # the loss on each sequence's own steps only
        m = (np.arange(T)[:, None] < lengths).astype(float)
    return model, x, y, state0, m, lengths


def compare(model, x, y, state0, mask, lengths):
    trace = model.forward(x, lengths=lengths, **state0)
    result = model.backward(trace, y, mask=mask, per_step=True)
    ref = run_packed(model, x, y, state0, mask, lengths)
    close(trace.h, ref["h"], "h(t) = [h_forward; h_reverse]")
    close(trace.yhat, ref["yhat"], "yhat(t)")
    close(result.loss, ref["loss"], "loss")
    for k in model.params:
        close(result.grads[k], ref["grads"][k], f"dL/d{k}")
        close(result.per_step[k].sum(axis=0), result.grads[k], f"sum_t per-step d{k}")
    for name in model.cell.states:
        close(getattr(result, f"d{name}0"), ref["d0"][f"{name}0"], f"dL/d{name}0")
        close(trace.final_states()[name], ref["final"][name], f"final {name} (h_n)")
    return trace, result


# ---- names and shapes ------------------------------------------------------------------------
def test_reverse_direction_names_and_shapes():
    model = bptt.GRU(5, 4, 3, layers=2, bidirectional=True, seed=0)
    shapes = model.param_shapes()
    assert list(shapes) == ["U", "W", "b", "b_hn", "U_reverse", "W_reverse", "b_reverse", "b_hn_reverse",
                            "U_l1", "W_l1", "b_l1", "b_hn_l1", "U_l1_reverse", "W_l1_reverse", "b_l1_reverse",
                            "b_hn_l1_reverse", "V", "c"]
    assert shapes["U"] == (12, 5) and shapes["U_l1"] == (12, 8) and shapes["U_l1_reverse"] == (12, 8)
    assert shapes["V"] == (3, 8)
    assert param_name("b_hn", 1, reverse=True) == "b_hn_l1_reverse"
    assert split_param_name("W_l2_reverse") == ("W_reverse", 2) and split_param_name("U_reverse") == ("U_reverse", 0)
    assert "bidirectional=True" in repr(model)
    # the LSTM's forget-gate bias is set in both directions
    lstm = bptt.LSTM(2, 3, 2, bidirectional=True, seed=0)
    assert np.all(lstm.params["b_reverse"][3:6] > 0.4) and np.all(lstm.params["b"][3:6] > 0.4)


def test_reverse_steps_reverse_each_sequence_within_its_length():
    idx = reverse_steps(np.array([3, 1, 4]), 4)
    assert idx.T.tolist() == [[2, 1, 0, 3], [0, 1, 2, 3], [3, 2, 1, 0]]


def test_reverse_direction_starts_at_each_sequences_own_end():
    """Hand check: with W = 0 the reverse direction's h(t) reads x(t) alone, and the padded
    steps after a sequence cannot reach any of its outputs."""
    model, x, y, state0, _, _ = problem("rnn", T=5, B=2, lengths=[5, 3])
    short = model.forward(x[:3, 1:], lengths=[3], h0=state0["h0"][:, 1:]).h
    padded = x.copy()
    padded[3:, 1] = 1e3                                       # garbage after sequence 1's end
    h = model.forward(padded, lengths=[5, 3], **state0).h
    np.testing.assert_array_equal(h[3:, 1], 0)               # zero on padded steps
    close(h[:3, 1], short[:, 0], "a padded sequence = the same sequence alone", rtol=1e-13)


# ---- gradcheck: every entry of every parameter and initial state ----------------------------
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_gradcheck_every_parameter_and_initial_state(cell, layers, bidirectional):
    model, x, y, state0, mask, lengths = problem(cell, bidirectional=bidirectional, layers=layers, H=3, T=5,
                                                 B=3, lengths=[5, 2, 4], seed=layers, mask=layers == 2)
    report = bptt.gradcheck(model, x, y, mask=mask, lengths=lengths, **state0)
    assert {r.name for r in report.rows} == set(model.params) | set(state0)
    assert all(r.checked == r.total for r in report.rows)
    assert report.passed, str(report)


def test_gradcheck_catches_a_reverse_direction_that_starts_at_the_padding(monkeypatch):
    """The planted error: the reverse direction reads the padded batch flipped whole (it starts
    at step T-1 for every sequence) in backward only. The checker must see it."""
    import bptt.nn.stages as stages
    original = stages.backward_directions

    def wrong(model, x, traces, outputs, dh_top, lengths=None):
        return original(model, x, traces, outputs, dh_top, None)

    monkeypatch.setattr(stages, "backward_directions", wrong)
    monkeypatch.setattr(bptt.nn.network, "backward_directions", wrong)
    model, x, y, state0, _, lengths = problem("rnn", H=3, T=5, B=2, lengths=[5, 2])
    report = bptt.gradcheck(model, x, y, lengths=lengths, **state0)
    assert not report.passed
    assert report["U_reverse"].max_rel_error > 1e-3


# ---- PyTorch autograd on packed sequences ---------------------------------------------------
@pytest.mark.parametrize("cell", TORCH_CELLS)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("kind,output,mask", [("tokens", "softmax", False), ("vectors", "identity", True)])
def test_packed_torch_module_agrees(cell, layers, bidirectional, kind, output, mask):
    compare(*problem(cell, bidirectional=bidirectional, layers=layers, kind=kind, output=output, T=7, B=5,
                     lengths=[7, 1, 3, 7, 5], seed=3, mask=mask))


@pytest.mark.parametrize("cell", TORCH_CELLS)
def test_without_lengths_agrees_with_the_plain_module(cell):
    """No lengths: every sequence is T steps, the reverse direction reads x flipped whole."""
    model, x, y, state0, _, _ = problem(cell, layers=2, T=6, B=3, seed=5)
    T, B = x.shape[:2]
    trace = model.forward(x, **state0)
    assert trace.lengths is None
    compare(model, x, y, state0, None, np.full(B, T))
    same = model.forward(x, lengths=np.full(B, T), **state0)
    np.testing.assert_array_equal(trace.h, same.h)


@settings(max_examples=12, deadline=None)
@given(data=st.data(), cell=st.sampled_from(TORCH_CELLS), layers=st.integers(1, 2), bidirectional=st.booleans(),
       T=st.integers(1, 9), B=st.integers(1, 4), I=st.integers(1, 4), H=st.integers(1, 5), O=st.integers(1, 4),
       kind=st.sampled_from(["tokens", "vectors"]), output=st.sampled_from(["softmax", "identity"]),
       mask=st.booleans(), seed=st.integers(0, 2**16))
def test_random_shapes_lengths_and_masks_agree(data, cell, layers, bidirectional, T, B, I, H, O, kind, output,
                                                mask, seed):
    lengths = data.draw(st.lists(st.integers(1, T), min_size=B, max_size=B))
    model, x, y, state0, _, lengths = problem(cell, bidirectional=bidirectional, layers=layers, kind=kind,
                                              output=output, I=I, H=H, O=O, T=T, B=B, lengths=lengths,
                                              seed=seed)
    m = np.random.default_rng(seed).integers(0, 2, size=(T, B)).astype(float) if mask else None
    compare(model, x, y, state0, m, lengths)


def test_unidirectional_lengths_leave_the_full_length_path_unchanged():
    model, x, y, state0, _, _ = problem("lstm", bidirectional=False, layers=2, T=5, B=3, seed=2)
    plain = model.gradients(x, y, **state0)
    full = model.gradients(x, y, lengths=[5, 5, 5], **state0)
    for k in model.params:
        close(full.grads[k], plain.grads[k], f"d{k}", rtol=1e-13)


# ---- the bridge and checkpoints -------------------------------------------------------------
@pytest.mark.parametrize("cell", TORCH_CELLS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bridge_round_trip_bit_for_bit(cell, dtype):
    model = bptt.Network.create(cell, 3, 4, 2, layers=2, bidirectional=True, seed=7, dtype=dtype)
    module, readout = bptt.to_torch(model)
    assert module.bidirectional and readout.in_features == 8 and hasattr(module, "weight_hh_l1_reverse")
    back = bptt.from_torch(module, readout, cell=cell)
    assert back.bidirectional and back.dtype == model.dtype and list(back.params) == list(model.params)
    for k, v in model.params.items():
        np.testing.assert_array_equal(back.params[k], v)


def test_from_torch_takes_a_bidirectional_module_and_checks_the_readout():
    torch.manual_seed(0)
    module = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, dtype=torch.float64)
    model = bptt.from_torch(module, torch.nn.Linear(10, 2, dtype=torch.float64))
    np.testing.assert_array_equal(model.params["W_l1_reverse"], module.weight_hh_l1_reverse.detach().numpy())
    with pytest.raises(ValueError, match=r"readout: expected in_features = 2 \* hidden_size = 10, got 5"):
        bptt.from_torch(module, torch.nn.Linear(5, 2))


def test_checkpoint_round_trip(tmp_path):
    model = bptt.GRU(4, 3, 4, layers=2, bidirectional=True, seed=1)
    bptt.checkpoint.save(tmp_path / "bi.npz", model)
    back = bptt.checkpoint.load(tmp_path / "bi.npz").model
    assert back.bidirectional and back.spec() == model.spec() and model.spec()["bidirectional"] is True
    for k, v in model.params.items():
        np.testing.assert_array_equal(back.params[k], v)
    assert "bidirectional" not in bptt.GRU(4, 3, 4).spec()          # one-direction files as before


# ---- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize("lengths,message", [
    ([3, 0], r"lengths: expected each in \[1, T\] = \[1, 4\], got 0"),
    ([5, 2], r"lengths: expected each in \[1, T\] = \[1, 4\], got 5"),
    ([2.0, 3.0], r"lengths: expected integers as an int array of shape \(B,\) = \(2,\), got a float64 array"),
    ([1, 2, 3], r"lengths: expected integers as an int array of shape \(B,\) = \(2,\), got an? int64 array"),
])
def test_bad_lengths_are_one_line(lengths, message):
    model = bptt.SimpleRNN(3, 2, 3, bidirectional=True, seed=0)
    with pytest.raises(ValueError, match=message):
        model.forward(np.zeros((4, 2), dtype=int), lengths=lengths)


def test_bad_initial_state_and_flag():
    model = bptt.LSTM(3, 2, 3, bidirectional=True, seed=0)
    with pytest.raises(ValueError, match=r"h0: expected a float array of shape \(2L, B, H\) = \(2, 1, 2\)"):
        model.forward(np.zeros((4, 1), dtype=int), h0=np.zeros((1, 2)))
    with pytest.raises(ValueError, match="bidirectional: expected True or False, got 'yes'"):
        bptt.LSTM(3, 2, 3, bidirectional="yes")


def test_streaming_paths_refuse_a_bidirectional_model():
    model = bptt.SimpleRNN(3, 2, 3, bidirectional=True, seed=0)
    x = np.zeros((6, 1), dtype=int)
    with pytest.raises(ValueError, match="model: expected a unidirectional network"):
        next(bptt.truncated_bptt(model, x, x, k1=2, k2=2))
    with pytest.raises(ValueError, match="model: expected a unidirectional network for generation"):
        bptt.nn.stages.stepper(model)


# ---- a task that needs the future -----------------------------------------------------------
def test_lookahead_labels_each_step_with_the_symbol_three_steps_later():
    from bptt.data import tasks
    batch = tasks.lookahead(9, 5, np.random.default_rng(0))
    assert batch.x.shape == batch.y.shape == batch.mask.shape == (9, 5)
    np.testing.assert_array_equal(batch.y[:6], batch.x[3:])
    assert batch.mask[:6].all() and not batch.mask[6:].any()
    task = tasks.TASKS["lookahead"]
    assert task.baseline(9) == 7 / 8 and task.solved(0.01) and not task.solved(0.02)


def test_a_bidirectional_model_solves_lookahead_and_a_unidirectional_one_stays_at_the_baseline(tmp_path):
    import json
    from bptt.train.task import default_config, train
    common = dict(length=10, hidden=32, batch_size=32, steps=200, eval_every=50, eval_size=200)
    uni = train(default_config("lookahead", "rnn", **common, lr=1e-2), tmp_path / "uni")
    bi = train(default_config("lookahead", "rnn", **common, lr=1e-2, bidirectional=True), tmp_path / "bi")
    on_file = json.loads((tmp_path / "bi" / "result.json").read_text())
    assert on_file["solved"] is True and on_file["config"]["bidirectional"] is True and bi["solved"]
    assert on_file["lag_ratio"] is None and not (tmp_path / "bi" / "lag_profile.png").exists()
    uni_file = json.loads((tmp_path / "uni" / "result.json").read_text())
    assert uni_file["solved"] is False and uni_file["metric"] > 0.8 and "bidirectional" not in uni_file["config"]
    assert uni["updates"] == 200
    assert bptt.checkpoint.load(tmp_path / "bi").model.bidirectional


# ---- the commands ----------------------------------------------------------------------------
def one_line(capsys, argv):
    from bptt.cli import main
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("bptt: error: "), err
    return err


def test_text_training_refuses_bidirectional(capsys, tmp_path):
    err = one_line(capsys, ["train", "--bidirectional", "--steps", "2", "--out", str(tmp_path / "run")])
    assert "--bidirectional: expected a unidirectional model for a text language model" in err
    assert not (tmp_path / "run").exists()


def test_diagnose_takes_a_bidirectional_checkpoint(capsys, tmp_path):
    # (bptt explain draws one: tests/explain/test_explain_shapes.py; the per-direction profile is
    # proven in tests/diagnose/test_diagnose_bidirectional.py)
    import json
    from bptt.cli import main
    from bptt.data import Vocab
    model = bptt.SimpleRNN(3, 4, 3, bidirectional=True, seed=0)
    bptt.checkpoint.save(tmp_path / "bi.npz", model, vocab=Vocab("abc"))
    argv = ["diagnose", str(tmp_path / "bi.npz"), "--text", "abcabcabcabc", "--length", "4", "--batch", "2",
            "--out", str(tmp_path / "d")]
    assert main(argv) == 0
    report = json.loads((tmp_path / "d" / "diagnostics.json").read_text())
    assert report["profile"]["direction"] == "forward" and report["profile_reverse"]["direction"] == "reverse"
    x = np.zeros((4, 1), dtype=int)
    assert bptt.lag_profile(model, x, x, direction="reverse").direction == "reverse"
    with pytest.raises(ValueError, match="model: expected a unidirectional network for the radius sweep"):
        bptt.radius_sweep(model, x, x)


def test_the_gradcheck_command_checks_both_directions(capsys):
    from bptt.cli import main
    assert main(["gradcheck", "--cell", "all", "--layers", "2", "--bidirectional", "--steps", "4"]) == 0
    out = capsys.readouterr().out
    n = len(bptt.nn.cells.CELLS)                  # --cell all: every cell of the registry
    assert f"{n}/{n} passed (layers=2, bidirectional," in out
