"""--dropout p in runs: resume bit for bit, off at evaluation and sampling, bad values refused."""

import json

import numpy as np
import pytest

from bptt import checkpoint
from bptt.cli import main
from bptt.nn.dropout import dropout_masks
from bptt.train.sample import sample
from bptt.train.text import TrainConfig, Trainer, evaluate

TEXT = ("the quick brown fox jumps over the lazy dog. " * 40
        + "a simple recurrent network shares its parameters across time. " * 20)
SMALL = ["--hidden", "16", "--seq-length", "8", "--batch-size", "4", "--eval-every", "10",
         "--sample-every", "0", "--quiet"]


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT)
    return path


def arrays(run):
    ck = checkpoint.load(run)
    return {**{f"param/{k}": v for k, v in ck.model.params.items()}, **{f"state/{k}": v for k, v in ck.state.items()}}


@pytest.mark.parametrize("extra", [["--dropout", "0.5"],
                                   pytest.param(["--dropout", "0.3", "--layers", "2", "--cell", "lstm",
                                                 "--bptt-depth", "13"], marks=pytest.mark.slow),
                                   ["--dropout", "0.3", "--cell", "leaky", "--layers", "2"]])
def test_resume_with_dropout_is_bit_for_bit(tmp_path, text_file, extra):
    a, b, off = tmp_path / "a", tmp_path / "b", tmp_path / "off"
    # 100 updates cross an epoch boundary (86 windows per epoch here): the new epoch's masks too
    assert main(["train", str(text_file), "--steps", "100", "--out", str(a), *SMALL, *extra]) == 0
    assert main(["train", str(text_file), "--steps", "25", "--out", str(b), *SMALL, *extra]) == 0
    assert main(["train", "--resume", str(b), "--steps", "100", "--quiet"]) == 0
    ra, rb = arrays(a), arrays(b)
    assert ra.keys() == rb.keys()
    for k in ra:
        np.testing.assert_array_equal(ra[k], rb[k], err_msg=k)
    assert checkpoint.load(b).meta["config"]["dropout"] == float(extra[1])
    # and dropout did change the run: without it the weights differ
    no_drop = [e for i, e in enumerate(extra) if i > 1]
    assert main(["train", str(text_file), "--steps", "100", "--out", str(off), *SMALL, *no_drop]) == 0
    assert not np.array_equal(checkpoint.load(off).model.params["V"], checkpoint.load(a).model.params["V"])
    assert "dropout" not in checkpoint.load(off).meta["config"]      # runs without it write what they wrote


def test_dropout_changes_a_one_layer_model_before_the_readout(tmp_path, text_file):
    """One layer: nothing between layers, the mask is on what the readout reads."""
    config = TrainConfig(hidden=16, seq_length=8, batch_size=4, steps=1, eval_every=1, sample_every=0, dropout=0.5)
    trainer = Trainer(config, TEXT, tmp_path / "run")
    update = trainer.walk.next_update()
    plain = Trainer(TrainConfig(**{**config.__dict__, "dropout": 0.0}), TEXT, tmp_path / "plain").walk.next_update()
    assert update.loss != pytest.approx(plain.loss, rel=1e-3)
    m = trainer.model
    masks = dropout_masks(0.5, (0, 3, 0), 0, 8, 1, 4, 16, m.dtype)
    x, y = trainer.walk.x[0:8], trainer.walk.y[0:8]
    ref = m.backward(m.forward(np.asarray(x), dropout=masks), np.asarray(y))
    assert update.loss == pytest.approx(ref.loss, rel=1e-6)


def test_validation_and_sampling_run_without_dropout(tmp_path, text_file):
    out = tmp_path / "run"
    config = TrainConfig(hidden=16, layers=2, cell="lstm", seq_length=8, batch_size=4, steps=30, eval_every=30,
                         sample_every=0, dropout=0.5)
    trainer = Trainer(config, TEXT, out)
    trainer.run()
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    recorded = rows[-1]["val_loss"]
    ck = checkpoint.load(out)
    m = ck.model
    assert recorded == pytest.approx(evaluate(m, *trainer.val), rel=1e-6)          # the model without masks
    vx, vy = (np.asarray(a[0:len(a)]) for a in trainer.val)
    T, B = vx.shape[:2]
    masked = m.loss(vx, vy, dropout=dropout_masks(0.5, (1, 2), 0, T, 2, B, 16, m.dtype)) / T
    assert recorded != pytest.approx(masked, rel=1e-3)
    # greedy sampling: each character is the argmax of the full model's forward, no masks
    prime = "the qu"
    text = sample(m, ck.vocab, prime=prime, length=40, temperature=0)
    ids = ck.vocab.encode(prime + text)
    yhat = m.forward(ids[:-1, None]).yhat[:, 0]                                      # (T, O)
    np.testing.assert_array_equal(np.argmax(yhat[len(prime) - 1:], axis=-1), ids[len(prime):])


@pytest.mark.parametrize("value", ["1.5", "-0.1", "1", "nan"])
@pytest.mark.parametrize("command", ["train", "task"])
def test_a_dropout_outside_0_1_is_one_line_and_exit_2(tmp_path, capsys, command, value):
    argv = (["train", "--steps", "1", "--quiet", "--out", str(tmp_path / "never")] if command == "train"
            else ["task", "adding", "--steps", "1", "--out", str(tmp_path / "never")])
    assert main([*argv, f"--dropout={value}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"bptt: error: --dropout: expected a finite number in [0, 1), got {value}")
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize("argv,other", [(["train", "--gradient", "uoro"], "--gradient uoro"),
                                        (["task", "adding", "--gradient", "rtrl"], "--gradient rtrl"),
                                        (["task", "adding", "--bidirectional"], "--bidirectional"),
                                        (["task", "reverse"], "--model seq2seq")])
def test_dropout_where_its_masks_cannot_apply_is_one_line(tmp_path, capsys, argv, other):
    assert main([*argv, "--dropout", "0.2", "--steps", "1", "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bptt: error: --dropout: expected only ")
    assert f"got 0.2 with {other}" in err


def test_task_dropout_trains_and_records_it(tmp_path):
    out = tmp_path / "t"
    assert main(["task", "adding", "--length", "10", "--hidden", "8", "--layers", "2", "--steps", "6",
                 "--eval-every", "3", "--eval-size", "20", "--batch-size", "5", "--dropout", "0.3",
                 "--out", str(out), "--quiet"]) == 0
    result = json.loads((out / "result.json").read_text())
    assert result["config"]["dropout"] == 0.3
    ck = checkpoint.load(out)
    again = tmp_path / "t2"
    assert main(["task", "adding", "--length", "10", "--hidden", "8", "--layers", "2", "--steps", "6",
                 "--eval-every", "3", "--eval-size", "20", "--batch-size", "5", "--dropout", "0.3",
                 "--out", str(again), "--quiet"]) == 0
    for k, v in ck.model.params.items():                      # the masks come from the seed: reproducible
        np.testing.assert_array_equal(checkpoint.load(again).model.params[k], v)
