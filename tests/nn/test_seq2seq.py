"""bptt.Seq2Seq: central differences for every parameter, PyTorch autograd on the same weights
(nn.LSTM/GRU/RNN encoder and decoder + nn.Linear, one-hot inputs, pack_padded_sequence for
x_lengths) to 1e-10, free-running decoding, the bridge's round trip and its refusals."""

import numpy as np
import bptt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cells import CELLS, TORCH_CELLS
from compare import close

torch = pytest.importorskip("torch")

from bptt.nn.stages import param_name  # noqa: E402



def problem(cell, Tx, Ty, B, I, H, O, layers, seed, lengths=True, mask=True):
    """A model and a batch: x (Tx, B), y_in (start O-1, then y shifted), y (Ty, B), a mask, x_lengths."""
    rng = np.random.default_rng(seed)
    model = bptt.Seq2Seq(I, H, O, cell=cell, layers=layers, seed=seed)
    x = rng.integers(0, I, size=(Tx, B))
    y = rng.integers(0, O, size=(Ty, B))
    y_in = np.concatenate([np.full((1, B), O - 1), y[:-1]])
    m = (rng.random((Ty, B)) < 0.7).astype(float) if mask else None
    x_lengths = rng.integers(1, Tx + 1, size=B) if lengths else None
    return model, x, y_in, y, m, x_lengths


def central_differences(model, x, y_in, y, mask, x_lengths, eps=1e-6):
    num = {}
    for name, v in model.params.items():
        g = np.zeros_like(v)
        for i in np.ndindex(v.shape):
            old = v[i]
            v[i] = old + eps
            up = model.loss(x, y_in, y, mask, x_lengths)
            v[i] = old - eps
            down = model.loss(x, y_in, y, mask, x_lengths)
            v[i] = old
            g[i] = (up - down) / (2 * eps)
        num[name] = g
    return num


def worst(grads, num):
    """The largest absolute difference (the loss is O(1); eps = 1e-6 leaves about 1e-10)."""
    return max(np.abs(grads[k] - num[k]).max() for k in num)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
def test_central_differences_every_parameter(cell, layers):
    model, x, y_in, y, mask, x_lengths = problem(cell, 5, 4, 3, 4, 3, 5, layers, seed=layers)
    result = model.gradients(x, y_in, y, mask, x_lengths)
    assert set(result.grads) == set(model.params)
    assert any(k.startswith("enc_") for k in model.params) and "dec_U" in model.params
    num = central_differences(model, x, y_in, y, mask, x_lengths)
    assert worst(result.grads, num) < 1e-8


def test_a_wrong_gradient_fails_the_check():
    """The context error taken at the last padded step instead of each sequence's own end: the
    encoder's gradients are then wrong, and the same check says so."""
    model, x, y_in, y, mask, x_lengths = problem("lstm", 5, 4, 3, 4, 3, 5, 1, seed=3)
    x_lengths = np.array([2, 5, 3])
    num = central_differences(model, x, y_in, y, mask, x_lengths)
    wrong = model.gradients(x, y_in, y, mask, None).grads
    assert worst(wrong, num) > 1e-3
    assert worst(model.gradients(x, y_in, y, mask, x_lengths).grads, num) < 1e-8


# ------------------------------------------------------------------------- PyTorch autograd
def torch_reference(model, x, y_in, y, mask, x_lengths):
    """The same network in torch: loss, grads under bptt's names, dL/dh_n (and dL/dc_n)."""
    encoder, decoder, readout = bptt.to_torch(model)
    one_hot = torch.nn.functional.one_hot
    xs = one_hot(torch.from_numpy(x).long(), model.n_in).double()
    if x_lengths is None:
        _, state = encoder(xs)
    else:
        packed = torch.nn.utils.rnn.pack_padded_sequence(xs, torch.from_numpy(x_lengths), enforce_sorted=False)
        _, state = encoder(packed)
    state = state if isinstance(state, tuple) else (state,)
    for s in state:
        s.retain_grad()
    out, _ = decoder(one_hot(torch.from_numpy(y_in).long(), model.n_out).double(),
                     state if len(state) == 2 else state[0])
    o = readout(out)
    Ty, B = y.shape
    loss = torch.nn.functional.cross_entropy(o.reshape(-1, model.n_out), torch.from_numpy(y).reshape(-1).long(),
                                             reduction="none").reshape(Ty, B)
    if mask is not None:
        loss = loss * torch.from_numpy(mask)
    L = loss.sum() / B
    L.backward()
    grads = {"V": readout.weight.grad.numpy(), "c": readout.bias.grad.numpy()}
    for prefix, module in (("enc_", encoder), ("dec_", decoder)):
        for layer in range(model.layers):
            k = f"_l{layer}"
            g = {"U": getattr(module, "weight_ih" + k).grad.numpy(), "W": getattr(module, "weight_hh" + k).grad.numpy(),
                 **model.cell.torch_bias_grads(getattr(module, "bias_ih" + k).grad.numpy(),
                                               getattr(module, "bias_hh" + k).grad.numpy())}
            grads.update({prefix + param_name(n, layer): v for n, v in g.items()})
    dstate = [s.grad.numpy() if model.layers > 1 else s.grad.numpy()[0] for s in state]
    return float(L.detach()), grads, o.detach().numpy(), dstate




def agree(model, x, y_in, y, mask, x_lengths):
    trace = model.forward(x, y_in, x_lengths)
    result = model.backward(trace, y, mask)
    L, grads, o, dstate = torch_reference(model, x, y_in, y, mask, x_lengths)
    close(trace.o, o, "o(t)")
    close(result.loss, L, "loss")
    for name in model.params:
        close(result.grads[name], grads[name], name)
    close(result.dh_context, dstate[0], "dL/dh(context)")
    if model.cell.name == "lstm":
        close(result.ds_context, dstate[1], "dL/ds(context)")


@pytest.mark.parametrize("cell", TORCH_CELLS)
@pytest.mark.parametrize("layers,lengths,mask", [(1, False, False), (1, True, True), (2, True, False)])
def test_autograd_fixed_shapes(cell, layers, lengths, mask):
    agree(*problem(cell, 7, 5, 4, 5, 6, 7, layers, seed=11, lengths=lengths, mask=mask))


@settings(max_examples=15, deadline=None)
@given(cell=st.sampled_from(TORCH_CELLS), Tx=st.integers(1, 9), Ty=st.integers(1, 8), B=st.integers(1, 5),
       I=st.integers(1, 6), H=st.integers(1, 7), O=st.integers(1, 6), layers=st.integers(1, 3),
       seed=st.integers(0, 2**16), lengths=st.booleans(), mask=st.booleans())
def test_autograd_drawn_shapes(cell, Tx, Ty, B, I, H, O, layers, seed, lengths, mask):
    agree(*problem(cell, Tx, Ty, B, I, H, O, layers, seed, lengths=lengths, mask=mask))


# ------------------------------------------------------------------------- decoding
@pytest.mark.parametrize("cell", CELLS)
def test_generate_is_teacher_forcing_on_its_own_outputs(cell):
    """Row t is the argmax at step t, fed back: teacher-forcing the decoder with [start, g[:-1]]
    gives the same argmaxes; start is not in the output."""
    model, x, _, _, _, x_lengths = problem(cell, 6, 4, 5, 4, 8, 6, 2, seed=5)
    g = model.generate(x, start=5, length=7, x_lengths=x_lengths)
    assert g.shape == (7, 5) and g.dtype.kind == "i"
    y_in = np.concatenate([np.full((1, 5), 5), g[:-1]])
    np.testing.assert_array_equal(model.forward(x, y_in, x_lengths).o.argmax(-1), g)


def test_lengths_make_the_context_each_sequences_own():
    """Padding after a sequence's end changes nothing when x_lengths says where it ends."""
    model, x, y_in, y, _, _ = problem("gru", 6, 3, 2, 4, 5, 5, 1, seed=2)
    other = x.copy()
    other[3:, 0] = (x[3:, 0] + 1) % 4
    lengths = np.array([3, 6])
    a, b = model.forward(x, y_in, lengths), model.forward(other, y_in, lengths)
    np.testing.assert_array_equal(a.o, b.o)
    assert not np.array_equal(model.forward(x, y_in).o, model.forward(other, y_in).o)


# ------------------------------------------------------------------------- the bridge
@pytest.mark.parametrize("cell", TORCH_CELLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_bit_for_bit(cell, dtype):
    model = bptt.Seq2Seq(5, 6, 7, cell=cell, layers=2, seed=1, dtype=dtype)
    modules = bptt.to_torch(model)
    assert [type(m).__name__ for m in modules] == [model.cell.torch, model.cell.torch, "Linear"]
    assert modules[1].input_size == 7 and modules[0].input_size == 5
    back = bptt.from_torch(*modules)
    assert isinstance(back, bptt.Seq2Seq) and back.dtype == model.dtype and list(back.params) == list(model.params)
    for name, v in model.params.items():
        assert back.params[name].tobytes() == v.tobytes(), name


@pytest.mark.parametrize("change,message", [
    (lambda e, d, r: (e, torch.nn.LSTM(7, 5, num_layers=2, dtype=torch.float64), r),
     "decoder: expected hidden_size = the encoder's 6, got 5"),
    (lambda e, d, r: (e, torch.nn.LSTM(7, 6, dtype=torch.float64), r),
     "decoder: expected num_layers = the encoder's 2, got 1"),
    (lambda e, d, r: (e, torch.nn.GRU(7, 6, num_layers=2, dtype=torch.float64), r),
     "decoder: expected a torch.nn.LSTM, got GRU"),
    (lambda e, d, r: (e, torch.nn.LSTM(4, 6, num_layers=2, dtype=torch.float64), r),
     "decoder: expected input_size = the readout's out_features = 7 (the decoder reads the output symbols), "
     "got 4"),
    (lambda e, d, r: (e, d, torch.nn.Linear(5, 7, dtype=torch.float64)),
     "readout: expected in_features = hidden_size = 6, got 5"),
])
def test_from_torch_refuses_halves_that_disagree(change, message):
    modules = change(*bptt.to_torch(bptt.Seq2Seq(5, 6, 7, layers=2, seed=0)))
    with pytest.raises(ValueError) as err:
        bptt.from_torch(*modules)
    assert str(err.value) == message


@pytest.mark.parametrize("call,start", [
    (lambda m: m.forward(np.zeros((3, 2), int), np.zeros((2, 2), int), x_lengths=np.array([0, 3])), "x_lengths: "),
    (lambda m: m.forward(np.zeros((3, 2), int), np.zeros((2, 2), int), x_lengths=np.array([1.0, 3.0])),
     "x_lengths: "),
    (lambda m: m.forward(np.zeros((3, 2), int), np.zeros((2, 3), int)), "y_in: expected the batch of x"),
    (lambda m: m.forward(np.zeros((3, 2), int), np.full((2, 2), 9)), "y_in: "),
    (lambda m: m.generate(np.zeros((3, 2), int), start=9, length=2), "start: "),
    (lambda m: bptt.Seq2Seq(3, 4, 5, cell="lsmt"), "cell: "),
])
def test_bad_input_one_line_naming_the_argument(call, start):
    with pytest.raises(ValueError) as err:
        call(bptt.Seq2Seq(4, 3, 5, seed=0))
    assert str(err.value).startswith(start) and "\n" not in str(err.value)


# ------------------------------------------------------------------------- the tasks
@pytest.mark.parametrize("name,answer", [("reverse", lambda s: s[::-1]), ("sort", np.sort)])
def test_pair_tasks_definition(name, answer):
    from bptt.data import tasks
    task = tasks.get(name)
    batch = task.generate(20, 64, np.random.default_rng(0))
    again = task.generate(20, 64, np.random.default_rng(0))
    np.testing.assert_array_equal(batch.y, again.y)                      # seeded
    n = batch.x_lengths
    assert n.min() >= 1 and n.max() <= 20 and len(set(n.tolist())) > 5  # variable lengths
    for b in range(64):
        np.testing.assert_array_equal(batch.y[:n[b], b], answer(batch.x[:n[b], b]))
        assert batch.y[n[b], b] == tasks.PAIR_END and batch.mask[:, b].sum() == n[b] + 1
    np.testing.assert_array_equal(batch.y_in[1:][batch.mask[1:] != 0], batch.y[:-1][batch.mask[1:] != 0])
    assert (batch.y_in[0] == task.start).all()
    assert task.metric(batch.y, batch) == 0.0 and task.metric(batch.y_in, batch) == 1.0
    assert 0.99 < task.baseline(20) < 1.0 and task.criterion == "at least 99% of sequences returned whole (free-running)"


def test_greedy_sequence_scores_agree_and_the_losses_do_not():
    """A sequence is right whole free-running exactly when it is teacher-forced; the losses differ."""
    from bptt.data import tasks
    from bptt.train.pairs import score
    task = tasks.get("reverse")
    batch = task.generate(4, 200, np.random.default_rng(1))
    model = bptt.Seq2Seq(task.n_in, 16, task.n_out, seed=0)
    s = score(model, task, batch, chunk=64)
    assert s["forced_wrong"] == s["free_wrong"] and s["free_loss"] != s["loss"]
    assert 0 < s["forced_token_wrong"] < 1 and 0 < s["free_token_wrong"] < 1


def test_task_cli_trains_a_seq2seq(tmp_path):
    import json
    from bptt.cli import main
    out = tmp_path / "run"
    assert main(["task", "reverse", "--model", "seq2seq", "--steps", "30", "--eval-every", "15", "--eval-size", "50",
                 "--length", "4", "--hidden", "16", "--out", str(out), "--quiet"]) == 0
    result = json.loads((out / "result.json").read_text())
    assert result["model"] == "seq2seq" and result["updates"] == 30 and result["cell"] == "lstm"
    assert set(result["scores"]) >= {"loss", "free_loss", "forced_wrong", "free_wrong"}
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines if "free_loss" in r] == [15, 30]
    assert (out / "checkpoint.npz").exists() and (out / "learning_curve.png").exists()


@pytest.mark.parametrize("argv,line", [
    (["task", "adding", "--model", "seq2seq"], "bptt: error: --model: expected network for adding, got seq2seq"),
    (["task", "reverse", "--model", "network"], "bptt: error: --model: expected seq2seq for reverse, got network"),
    (["task", "sort", "--cell", "irnn"], "bptt: error: --cell: expected rnn, lstm or gru for --model seq2seq, got irnn"),
])
def test_task_cli_bad_model_one_line_exit_2(argv, line, capsys):
    from bptt.cli import main
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.strip() == line
