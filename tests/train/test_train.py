"""Training, resuming, sampling: the run folder, bit-exact resume, divergence, bad flags."""

import dataclasses
import json
import math

import numpy as np
import pytest

from bptt import checkpoint
from bptt.cli import main
from bptt.train.text import Diverged, TrainConfig, Trainer
from cells import CELLS

TEXT = ("the quick brown fox jumps over the lazy dog. " * 40
        + "a simple recurrent network shares its parameters across time. " * 20)
SMALL = ["--hidden", "16", "--seq-length", "8", "--batch-size", "4", "--eval-every", "10",
         "--sample-every", "0", "--quiet"]


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT)
    return path


def params_of(run):
    return checkpoint.load(run).model.params


def test_run_folder_holds_checkpoint_metrics_plot_and_samples(tmp_path, text_file):
    out = tmp_path / "run"
    assert main(["train", str(text_file), "--steps", "30", "--out", str(out), *SMALL[:-3],
                 "--sample-every", "15", "--sample-length", "40", "--quiet"]) == 0
    assert {p.name for p in out.iterdir()} >= {"checkpoint.npz", "metrics.jsonl", "loss.png", "samples.txt"}
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [10, 20, 30]
    assert all({"step", "loss", "tokens_per_s", "val_loss"} <= r.keys() for r in rows)
    assert rows[-1]["loss"] < math.log(len(set(TEXT)))          # learnt something
    assert (out / "samples.txt").read_text().count("--- step") == 2
    assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("extra", [[], ["--bptt-depth", "13"], ["--bptt-depth", "3", "--optimizer", "rmsprop"],
                                   ["--optimizer", "sgd", "--momentum", "0.9", "--lr", "0.1"],
                                   ["--dtype", "float64", "--optimizer", "adagrad", "--lr", "0.1"]])
def test_resume_is_bit_for_bit(tmp_path, text_file, extra):
    a, b = tmp_path / "a", tmp_path / "b"
    # 100 updates cross an epoch boundary (the text gives 86 windows per epoch here)
    assert main(["train", str(text_file), "--steps", "100", "--out", str(a), *SMALL, *extra]) == 0
    assert main(["train", str(text_file), "--steps", "25", "--out", str(b), *SMALL, *extra]) == 0
    assert main(["train", "--resume", str(b), "--steps", "100", "--quiet"]) == 0
    pa, pb = params_of(a), params_of(b)
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k])
    assert checkpoint.load(b).meta["step"] == 100


def test_sample_from_a_run(tmp_path, text_file, capsys):
    out = tmp_path / "run"
    main(["train", str(text_file), "--steps", "20", "--out", str(out), *SMALL])
    capsys.readouterr()
    assert main(["sample", str(out), "--prime", "the ", "--length", "50", "--seed", "3"]) == 0
    first = capsys.readouterr().out
    assert first.startswith("the ") and len(first.rstrip("\n")) == 54
    main(["sample", str(out / "checkpoint.npz"), "--prime", "the ", "--length", "50", "--seed", "3"])
    assert capsys.readouterr().out == first                      # seeded: reproducible


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_exploding_run_stops_and_never_saves_non_finite(tmp_path, text_file):
    config = TrainConfig(hidden=16, seq_length=8, batch_size=4, steps=200, lr=1e6, optimizer="sgd",
                         clip=None, nonlinearity="relu", eval_every=1, sample_every=0)
    trainer = Trainer(config, TEXT, tmp_path / "run")
    with pytest.raises(Diverged, match="Try a lower --lr"):
        trainer.run()
    assert trainer.skipped >= 5                                  # counted, not applied
    ck = checkpoint.load(tmp_path / "run")
    assert all(np.all(np.isfinite(v)) for v in ck.model.params.values())
    assert all(np.all(np.isfinite(v)) for v in ck.state.values() if v.dtype.kind == "f")


def test_diagnose_every_records_gradient_diagnostics_that_diagnose_plots(tmp_path, text_file, capsys):
    out = tmp_path / "run"
    assert main(["train", str(text_file), "--steps", "20", "--out", str(out), *SMALL, "--diagnose-every", "5"]) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    diag = [r for r in rows if "radius_W" in r]
    assert [r["step"] for r in diag] == [5, 10, 15, 20]
    for r in diag:
        assert 0 <= r["clipped_fraction"] <= 1 and r["grad_norm"] > 0 and r["ratio_lag_1"] > 0
        assert r["ratio_lag_10"] is None                           # lag 10 >= k1 = 8
    assert main(["diagnose", str(out), "--out", str(tmp_path / "diag"), "--length", "20"]) == 0
    assert (tmp_path / "diag" / "training.png").is_file()


def test_every_epoch_is_reported_with_its_validation_loss(tmp_path, text_file):
    out = tmp_path / "run"
    assert main(["train", str(text_file), "--steps", "180", "--out", str(out), *SMALL]) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    ends = [r for r in rows if "epochs_completed" in r]
    n_train = len(TEXT) - round(len(TEXT) * 0.1)
    per_epoch = -(-((n_train - 1) // 4) // 8)                  # B = 4 streams, k1 = 8
    assert per_epoch == 86
    assert [(r["epochs_completed"], r["step"]) for r in ends] == [(1, 86), (2, 172)]
    assert all("val_loss" in r for r in ends)


@pytest.mark.parametrize("cell", CELLS)
def test_token_inputs_are_drawn_at_the_configured_scale_and_nothing_else_moves(cell, tmp_path):
    from bptt.nn.network import Network
    from bptt.train.text import INPUT_INIT_STD, build_model
    config = TrainConfig(cell=cell, layers=2, hidden=32, seq_length=8, batch_size=4, sample_every=0, steps=1,
                         dtype="float64")
    trainer = Trainer(config, TEXT, tmp_path / "run")
    constructed = build_model(config, len(trainer.vocab)).params      # the constructor's (PyTorch's) draws
    U = trainer.model.params["U"]                                      # (G*H, V)
    assert U.shape == constructed["U"].shape and abs(U.std() - INPUT_INIT_STD) < 0.1 * INPUT_INIT_STD
    assert abs(constructed["U"]).max() <= 1 / np.sqrt(32)
    for name, value in constructed.items():
        if name != "U":                                                # W, b, the deeper layer's U_l1, V, c
            np.testing.assert_array_equal(trainer.model.params[name], value)
    assert isinstance(trainer.model, Network)
    pytorch = Trainer(dataclasses.replace(config, input_init_std=None), TEXT, tmp_path / "run2").model.params
    np.testing.assert_array_equal(pytorch["U"], constructed["U"])
    trainer.run()
    assert checkpoint.load(tmp_path / "run").meta["config"]["input_init_std"] == INPUT_INIT_STD


def test_help_says_what_train_trains(capsys):
    """Any cell, not "a SimpleRNN": the description names every cell of the registry."""
    from bptt.nn.cells import CELLS as REGISTRY
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    description = text.split("Train ", 1)[1].split(" options:")[0]
    assert "SimpleRNN" not in text and "language model" in description
    assert all(name in description for name in REGISTRY), description


def test_clip_0_turns_clipping_off(tmp_path):
    """--clip 0 is off: from Python, clip=0 trains exactly as clip=None (it used to be refused)."""
    runs = []
    for clip in (0.0, None):
        trainer = Trainer(TrainConfig(hidden=8, seq_length=4, batch_size=2, steps=5, eval_every=5, sample_every=0,
                                      clip=clip, lr=0.5, optimizer="sgd"), TEXT, tmp_path / str(clip))
        trainer.run()
        runs.append(trainer.model.params)
    for k in runs[0]:
        np.testing.assert_array_equal(runs[0][k], runs[1][k])
