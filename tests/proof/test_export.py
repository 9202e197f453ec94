"""`bptt export RUN --torch FILE.pt`: the modules loaded by the printed lines predict what bptt predicts."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import bptt
from bptt import checkpoint
from bptt.data import Vocab
from bptt.cli import main

torch = pytest.importorskip("torch")

TEXT = "the quick brown fox jumps over the lazy dog. " * 40
TINY = ["--hidden", "12", "--seq-length", "8", "--batch-size", "4", "--eval-every", "10", "--sample-every", "0",
        "--quiet"]
PRIME = "the lazy fox jum"


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT)
    return path


def printed_lines(out):
    return [line[4:] for line in out.splitlines() if line.startswith("    ")]


@pytest.mark.parametrize("dtype,tol", [("float32", 2e-6), ("float64", 1e-12)])
def test_the_exported_modules_give_bptts_next_character_probabilities(tmp_path, text_file, capsys, dtype, tol):
    run, pt = tmp_path / "run", tmp_path / "model.pt"
    assert main(["train", str(text_file), "--steps", "20", "--out", str(run), "--dtype", dtype, *TINY]) == 0
    capsys.readouterr()
    assert main(["export", str(run), "--torch", str(pt)]) == 0
    lines = printed_lines(capsys.readouterr().out)
    assert len(lines) == 3
    scope = {}
    exec("\n".join(lines), scope)                    # exactly what a user would paste
    rnn, readout = scope["rnn"], scope["readout"]
    ck = checkpoint.load(run)
    vocab = json.loads(pt.with_suffix(".vocab.json").read_text())["vocab"]
    assert vocab == ck.vocab.chars
    ids = ck.vocab.encode(PRIME)
    ours = ck.model.forward(ids[:, None]).yhat[:, 0]                          # (T, O)
    x = torch.nn.functional.one_hot(torch.from_numpy(ids.astype(np.int64)), len(vocab)).to(rnn.weight_ih_l0.dtype)
    with torch.no_grad():
        h, _ = rnn(x[:, None])                                                 # (T, 1, H)
        theirs = torch.softmax(readout(h[:, 0]), dim=-1).numpy()              # (T, O)
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=tol)
    assert np.argmax(theirs[-1]) == np.argmax(ours[-1])


def test_without_torch_it_is_one_line(tmp_path, text_file):
    run = tmp_path / "run"
    assert main(["train", str(text_file), "--steps", "10", "--out", str(run), *TINY]) == 0
    blocker = tmp_path / "no-torch"
    blocker.mkdir()
    (blocker / "torch.py").write_text("raise ImportError('No module named torch')\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(blocker), env.get("PYTHONPATH", "")])
    r = subprocess.run([sys.executable, "-m", "bptt", "export", str(run), "--torch", str(tmp_path / "m.pt")],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == "bptt: error: --torch: expected PyTorch to be installed (pip install torch), got no module named torch\n"
    assert not (tmp_path / "m.pt").exists()


def test_bad_targets_are_one_line(tmp_path, capsys):
    assert main(["export", str(tmp_path / "missing"), "--torch", str(tmp_path / "m.pt")]) == 2
    assert main(["export", str(tmp_path), "--torch", str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[0].startswith("bptt: error: RUN: ") and err[1].startswith("bptt: error: --torch: ")


@pytest.mark.parametrize("make", [
    lambda V: bptt.SimpleRNN(V, 5, V, nonlinearity="relu", layers=2, seed=1),
    lambda V: bptt.LSTM(V, 5, V, seed=1),
    lambda V: bptt.GRU(V, 5, V, layers=2, seed=1),
], ids=["rnn-relu-2-layers", "lstm", "gru-2-layers"])
def test_every_cell_and_stack_exports_to_the_modules_the_lines_name(tmp_path, capsys, make):
    vocab = Vocab.from_text(TEXT)
    model = make(len(vocab))
    checkpoint.save(tmp_path / "run" / checkpoint.FILENAME, model, vocab=vocab)
    pt = tmp_path / "m.pt"
    assert main(["export", str(tmp_path / "run"), "--torch", str(pt)]) == 0
    scope = {}
    exec("\n".join(printed_lines(capsys.readouterr().out)), scope)
    ids = vocab.encode(PRIME)
    ours = model.forward(ids[:, None]).yhat[:, 0]
    x = torch.nn.functional.one_hot(torch.from_numpy(ids.astype(np.int64)), len(vocab)).double()
    with torch.no_grad():
        h, _ = scope["rnn"](x[:, None])
        theirs = torch.softmax(scope["readout"](h[:, 0]), dim=-1).numpy()
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=1e-12)


TASK_RUNS = [("adding", "lstm", "float32", 2e-6), ("adding-1997", "rnn", "float64", 1e-12),
             ("temporal-order", "gru", "float64", 1e-12), ("copy", "lstm", "float32", 2e-6)]


@pytest.mark.parametrize("task,cell,dtype,tol", TASK_RUNS, ids=[r[0] for r in TASK_RUNS])
def test_a_task_run_exports_what_it_is_and_the_printed_lines_give_its_outputs(tmp_path, capsys, task, cell,
                                                                              dtype, tol):
    """Not a vocabulary: the task's inputs (real vectors or token ids), its output and loss; the
    printed lines, run as they are, compute what bptt computes on the task's own sequences."""
    from bptt.data import tasks
    run, pt = tmp_path / "run", tmp_path / "model.pt"
    length = tasks.TASKS[task].min_length + 3
    assert main(["task", task, "--cell", cell, "--length", str(length), "--steps", "4", "--eval-every", "2",
                 "--eval-size", "8", "--hidden", "6", "--dtype", dtype, "--quiet", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["export", str(run), "--torch", str(pt)]) == 0
    out = capsys.readouterr().out
    assert not pt.with_suffix(".vocab.json").exists()
    about = json.loads(pt.with_suffix(".model.json").read_text())
    t = tasks.TASKS[task]
    batch = t.generate(length, 3, np.random.default_rng(5))
    tokens = batch.x.dtype.kind in "iu"
    assert about["task"] == task and about["length"] == length and about["criterion"] == t.criterion
    assert about["input_kind"] == ("token ids" if tokens else "vectors")
    assert (about["n_in"], about["n_out"], about["output"]) == (t.n_in, t.n_out, t.output)
    assert about["loss"].startswith("cross-entropy" if t.output == "softmax" else "squared error")
    assert f"the {task} task's model: inputs {about['inputs']}" in out
    lines = printed_lines(out)
    assert len(lines) == 4 and lines[-1].startswith("outputs = lambda x: ")
    scope = {}
    exec("\n".join(lines), scope)                    # exactly what a user would paste
    ck = checkpoint.load(run)
    ours = ck.model.forward(batch.x).yhat                                      # (T, B, O)
    x = torch.from_numpy(batch.x if tokens else batch.x.astype(dtype))
    with torch.no_grad():
        theirs = scope["outputs"](x).numpy()
    assert theirs.shape == ours.shape
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=tol)


def test_a_checkpoint_of_neither_kind_says_its_inputs_may_be_either(tmp_path, capsys):
    model = bptt.GRU(3, 4, 2, output="identity", seed=0)
    checkpoint.save(tmp_path / "run" / checkpoint.FILENAME, model)
    pt = tmp_path / "m.pt"
    assert main(["export", str(tmp_path / "run"), "--torch", str(pt)]) == 0
    about = json.loads(pt.with_suffix(".model.json").read_text())
    assert about["task"] is None and about["input_kind"] == "token ids or vectors"
    scope = {}
    exec("\n".join(printed_lines(capsys.readouterr().out)), scope)
    x = np.random.default_rng(0).normal(size=(5, 2, 3))
    with torch.no_grad():
        theirs = scope["outputs"](torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(theirs, model.forward(x).yhat, rtol=0, atol=1e-12)


def _exported(run, pt, capsys):
    """The printed lines of `bptt export RUN --torch PT`, run as a user would paste them."""
    capsys.readouterr()
    assert main(["export", str(run), "--torch", str(pt)]) == 0
    out = capsys.readouterr().out
    lines = printed_lines(out)
    scope = {}
    exec("\n".join(lines), scope)
    return out, scope


@pytest.mark.parametrize("source,dtype,tol", [("run", "float32", 1e-6), ("gru-2-layers", "float64", 1e-12)])
def test_an_encoder_decoder_exports_its_three_modules_and_the_lines_give_its_logits_and_loss(
        tmp_path, capsys, source, dtype, tol):
    """A `bptt task reverse` run (float32), and a 2-layer GRU Seq2Seq saved as a checkpoint (float64):
    torch's logits and loss on a batch of reversals of several lengths are bptt's."""
    from bptt import tasks
    run, pt = tmp_path / "run", tmp_path / "s2s.pt"
    if source == "run":
        assert main(["task", "reverse", "--length", "5", "--hidden", "12", "--batch-size", "16", "--steps", "10",
                     "--eval-every", "10", "--eval-size", "20", "--quiet", "--out", str(run)]) == 0
    else:
        model = bptt.Seq2Seq(8, 7, 10, cell="gru", layers=2, seed=4, dtype=np.float64)
        checkpoint.save(run / "checkpoint.npz", model)
    out, scope = _exported(run, pt, capsys)
    ck = checkpoint.load(run)
    model = ck.model
    assert model.dtype == np.dtype(dtype)
    about = json.loads(pt.with_suffix(".model.json").read_text())
    assert about["model"] == "seq2seq" and about["n_in"] == 8 and about["n_out"] == 10
    assert about["task"] == ("reverse" if source == "run" else None)
    assert set(torch.load(pt)) == {f"{half}.{k}" for half, mod in (("encoder", scope["encoder"]),
                                   ("decoder", scope["decoder"]), ("readout", scope["readout"]))
                                   for k in mod.state_dict()}
    assert out.splitlines()[0].startswith(f"wrote {pt} (state_dict of the encoder torch.nn.")
    batch = tasks.TASKS["reverse"].generate(5, 9, np.random.default_rng(3))
    assert len(set(batch.x_lengths.tolist())) > 1            # the context is read at each one's own length
    ours = model.forward(batch.x, batch.y_in, batch.x_lengths)
    t = {k: torch.from_numpy(np.asarray(getattr(batch, k))) for k in ("x", "y_in", "y", "x_lengths")}
    mask = torch.from_numpy(batch.mask.astype(dtype))
    with torch.no_grad():
        theirs = scope["logits"](t["x"], t["y_in"], t["x_lengths"])
        loss = scope["loss"](t["x"], t["y_in"], t["y"], mask, t["x_lengths"])
    assert theirs.dtype == getattr(torch, dtype) and theirs.shape == ours.o.shape
    np.testing.assert_allclose(theirs.numpy(), ours.o, rtol=0, atol=tol)
    want = model.trace_loss(ours, batch.y, batch.mask)
    assert abs(float(loss) - want) <= tol * max(1.0, abs(want)), (float(loss), want)
    # a deliberately wrong export fails: the loss without the context is not bptt's
    with torch.no_grad():
        x = torch.nn.functional.one_hot(t["y_in"], 10).to(getattr(torch, dtype))
        wrong = scope["readout"](scope["decoder"](x)[0])
    assert np.abs(wrong.numpy() - ours.o).max() > 1e3 * tol
