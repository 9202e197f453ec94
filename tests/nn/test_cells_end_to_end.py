"""Every feature on every cell of tests/cells.py, on stacks: train, resume bit for bit, sample,
diagnose, checkpoints (and the old single-RNN checkpoints), the CLI's cell flags."""

import json

import numpy as np
import pytest

import bptt
from bptt import checkpoint
from bptt.cli import main
from bptt.data import Vocab
from bptt.proof.random_cases import random_case
from bptt.train.sample import sample
from cells import CELLS

TEXT = ("the quick brown fox jumps over the lazy dog. " * 30
        + "a recurrent network shares its parameters across time. " * 15)
SMALL = ["--hidden", "12", "--seq-length", "8", "--batch-size", "4", "--eval-every", "10",
         "--sample-every", "0", "--quiet"]


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT)
    return path


@pytest.mark.parametrize("cell", CELLS)
def test_train_and_resume_bit_for_bit_on_a_stack(tmp_path, text_file, cell):
    a, b = tmp_path / "a", tmp_path / "b"
    flags = [*SMALL, "--cell", cell, "--layers", "2", "--bptt-depth", "11"]
    assert main(["train", str(text_file), "--steps", "40", "--out", str(a), *flags]) == 0
    assert main(["train", str(text_file), "--steps", "15", "--out", str(b), *flags]) == 0
    assert main(["train", "--resume", str(b), "--steps", "40", "--quiet"]) == 0
    ca, cb = checkpoint.load(a), checkpoint.load(b)
    assert ca.model.cell.name == cell and ca.model.layers == 2
    for k in ca.model.params:
        np.testing.assert_array_equal(ca.model.params[k], cb.model.params[k])
    rows = [json.loads(line) for line in (a / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["loss"] < np.log(len(set(TEXT)))        # learnt something


@pytest.mark.parametrize("cell", CELLS)
def test_sample_continues_the_state_of_every_layer(cell):
    """Sampling one character at a time equals the forward pass over the same characters."""
    vocab = Vocab("abcdefgh")
    model = bptt.Network.create(cell, 8, 6, 8, layers=2, seed=1)
    text = sample(model, vocab, prime="abc", length=30, temperature=1.0, seed=3)
    assert len(text) == 30 and set(text) <= set(vocab.chars)
    # The same draw, computed with the unrolled forward pass over prime + sample
    ids = vocab.encode("abc" + text)
    trace = model.forward(ids[:-1, None])
    rng = np.random.default_rng(3)
    for t in range(2, len(ids) - 1):
        probs = trace.yhat[t, 0].astype(np.float64)
        probs /= probs.sum()
        assert int(rng.choice(len(probs), p=probs)) == ids[t + 1]


@pytest.mark.parametrize("cell", CELLS)
def test_lag_profile_and_training_metrics_work_for_every_cell(cell):
    case = random_case(cell, layers=2, I=5, H=4, O=5, T=8, B=2, seed=1)
    profile = bptt.lag_profile(case.model, case.x, case.y, **case.state0)
    assert profile.norms.shape == (8, 8) and np.all(np.isfinite(np.diag(profile.norms)))
    applies = cell == "rnn"
    assert (profile.radius is not None) == applies and (profile.vanishing_bound is not None) == applies
    json.dumps(profile.to_dict())
    if not applies:
        with pytest.raises(ValueError, match="radius sweep is not applicable"):
            bptt.radius_sweep(case.model, case.x, case.y)


@pytest.mark.parametrize("cell", CELLS)
def test_diagnose_cli_on_a_gated_cell_draws_it_beside_the_rnn(tmp_path, cell):
    out = tmp_path / "diag"
    assert main(["diagnose", "--cell", cell, "--hidden", "8", "--length", "12", "--batch", "2",
                 "--out", str(out)]) == 0
    report = json.loads((out / "diagnostics.json").read_text())
    assert report["model"]["cell"] == cell
    assert (report["sweep"] is None) == (cell != "rnn")
    assert (out / "beside.png").exists() == (cell != "rnn")


@pytest.mark.parametrize("cell", CELLS)
def test_checkpoint_round_trip_and_contradicting_arrays(tmp_path, cell):
    model = bptt.Network.create(cell, 4, 3, 4, layers=2, seed=0)
    path = checkpoint.save(tmp_path / "checkpoint.npz", model, vocab=Vocab("abcd"))
    back = checkpoint.load(path).model
    assert type(back) is type(model) and back.layers == 2 and back.cell == model.cell
    for k in model.params:
        np.testing.assert_array_equal(back.params[k], model.params[k])
    one = bptt.Network.create(cell, 4, 3, 4, layers=1, seed=0)
    arrays = {f"params/{k}": v for k, v in one.params.items()}
    header = {"format": checkpoint.FORMAT, "version": 1, "model": model.spec(), "vocab": "abcd", "meta": {}}
    arrays["meta.json"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=f"expected the arrays of a 2-layer {cell}"):
        checkpoint.load(tmp_path / "bad.npz")


def test_a_checkpoint_from_before_cells_loads_as_a_one_layer_rnn(tmp_path):
    model = bptt.SimpleRNN(4, 3, 4, seed=0, nonlinearity="relu")
    old_spec = {"n_in": 4, "n_hidden": 3, "n_out": 4, "nonlinearity": "relu", "output": "softmax",
                "dtype": "float64"}                                   # the header bptt 0.1 wrote
    arrays = {f"params/{k}": v for k, v in model.params.items()}
    header = {"format": checkpoint.FORMAT, "version": 1, "model": old_spec, "vocab": "abcd", "meta": {}}
    arrays["meta.json"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(tmp_path / "old.npz", **arrays)
    back = checkpoint.load(tmp_path / "old.npz").model
    assert type(back) is bptt.SimpleRNN and back.layers == 1 and back.nonlinearity == "relu"


@pytest.mark.parametrize("argv,words", [
    (["train", "--cell", "transformer"], ["--cell", "rnn", "'transformer'"]),
    (["train", "--layers", "0"], ["--layers", "positive", "0"]),
    (["train", "--layers", "two"], ["--layers", "'two'"]),
    (["train", "--forget-bias", "nan"], ["--forget-bias", "nan"]),
    (["gradcheck", "--cell", "cnn"], ["--cell", "'cnn'"]),
    (["diagnose", "--cell", "cnn", "--out", "x"], ["--cell", "'cnn'"]),
])
def test_bad_cell_flags_are_one_line(tmp_path, capsys, monkeypatch, argv, words):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    for w in words:
        assert w in err, (w, err)
    assert not (tmp_path / "runs").exists() and not (tmp_path / "x").exists()
