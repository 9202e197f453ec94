"""Resume and fine-tuning do what they say: a resumed run applies the flags that can change and
refuses the rest with the reason; it trains on its own text (found where it moved, refused when
another); --init-from carries a run's weights to a new text character by character."""

import json

import numpy as np
import pytest

from bptt import checkpoint
from bptt.cli import main
from bptt.data import Vocab
from bptt.train.text import TrainConfig, Trainer
from cells import CELLS

TEXT = ("the quick brown fox jumps over the lazy dog. " * 40
        + "a simple recurrent network shares its parameters across time. " * 20)
OTHER = ("THE QUICK BROWN FOX! " * 60 + "jumps over the lazy dog; " * 40)
SMALL = ["--hidden", "16", "--seq-length", "8", "--batch-size", "4", "--eval-every", "10", "--sample-every", "0"]


def records(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture
def run(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(TEXT)
    out = tmp_path / "A"
    assert main(["train", str(path), "--steps", "20", "--out", str(out), *SMALL, "--quiet"]) == 0
    return out


@pytest.mark.parametrize("flag,value,reason", [
    ("--hidden", "32", "its weights have that shape"),
    ("--seq-length", "4", "walk's position"),
    ("--batch-size", "2", "walk's position"),
    ("--bptt-depth", "3", "walk's carried history"),
    ("--optimizer", "sgd", "optimiser state"),
    ("--seed", "3", "its weights were drawn from it"),
    ("--dtype", "float64", "stored in it"),
    ("--nonlinearity", "relu", "trained with it"),
    ("--val-fraction", "0.2", "validation parts"),
    ("--input-init-std", "0.5", "drawn with it"),
])
def test_a_flag_the_checkpoint_fixes_is_refused_with_the_reason(run, capsys, flag, value, reason):
    capsys.readouterr()
    before = (run / "checkpoint.npz").read_bytes()
    assert main(["train", "--resume", str(run), "--steps", "30", flag, value, "--quiet"]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and line.startswith(f"bptt: error: {flag}: expected the run's own {flag}")
    assert reason in line and f"got {value}" in line and "--init-from" in line
    assert (run / "checkpoint.npz").read_bytes() == before


def test_the_runs_own_value_of_a_fixed_flag_is_accepted(run):
    assert main(["train", "--resume", str(run), "--steps", "25", "--hidden", "16", "--batch-size", "4",
                 "--quiet"]) == 0
    assert checkpoint.load(run).meta["step"] == 25


def test_a_resume_that_trains_nothing_records_no_change(run, capsys):
    before = (run / "metrics.jsonl").read_text()
    assert main(["train", "--resume", str(run), "--steps", "10", "--lr", "0.001", "--quiet"]) == 0
    assert "already at step 20" in capsys.readouterr().out
    assert (run / "metrics.jsonl").read_text() == before
    assert checkpoint.load(run).meta["config"]["lr"] == 0.003


def test_flags_that_can_change_apply_and_are_recorded(run):
    assert main(["train", "--resume", str(run), "--steps", "30", "--lr", "0.001", "--clip", "1", "--eval-every", "5",
                 "--lr-decay", "0.5", "--lr-decay-every", "3", "--sample-every", "5", "--quiet"]) == 0
    rows = records(run)
    resumed = [r for r in rows if "resumed" in r]
    assert len(resumed) == 1 and resumed[0]["step"] == 20
    assert resumed[0]["resumed"] == {"steps": {"from": 20, "to": 30}, "lr": {"from": 0.003, "to": 0.001},
                                     "clip": {"from": 5.0, "to": 1.0}, "eval_every": {"from": 10, "to": 5},
                                     "lr_decay": {"from": 1.0, "to": 0.5}, "lr_decay_every": {"from": 1000, "to": 3},
                                     "sample_every": {"from": 0, "to": 5}}
    assert [r["step"] for r in rows if "val_loss" in r] == [10, 20, 25, 30]      # --eval-every 5 from step 20
    assert (run / "samples.txt").read_text().count("--- step") == 2               # --sample-every 5
    config = checkpoint.load(run).meta["config"]
    assert (config["lr"], config["clip"], config["eval_every"]) == (0.001, 1.0, 5)


def test_a_change_on_resume_is_said_on_the_screen_and_marked_on_loss_png(run, capsys):
    from bptt.train.plots import loss_figure, read_metrics
    capsys.readouterr()
    picture = (run / "loss.png").read_bytes()
    assert main(["train", "--resume", str(run), "--steps", "30", "--lr", "0.001", "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "resumed at step 20 with changed settings: --steps 20 -> 30, --lr 0.003 -> 0.001" in out, out
    # loss.png is drawn from metrics.jsonl by loss_figure: a vertical line at step 20 names the change
    marks = [line for line in loss_figure(read_metrics(run / "metrics.jsonl")).axes[0].lines
             if "resumed" in line.get_label()]
    assert len(marks) == 1 and list(marks[0].get_xdata()) == [20, 20]
    assert marks[0].get_label() == "resumed at step 20: --steps 20 -> 30, --lr 0.003 -> 0.001"
    assert (run / "loss.png").read_bytes() != picture                  # drawn again, with the mark


def test_an_old_run_with_another_cells_option_still_resumes(tmp_path):
    """Before a cell's option was refused for other cells, `--cell lstm --nonlinearity relu` ran (the
    flag changed nothing): such a run resumes, with the option at its default."""
    Trainer(TrainConfig(cell="lstm", hidden=8, seq_length=4, batch_size=2, steps=2, eval_every=1, sample_every=0),
            TEXT, tmp_path / "run").run()
    ck = checkpoint.load(tmp_path / "run")
    meta = {**ck.meta, "config": {**ck.meta["config"], "nonlinearity": "relu"}}
    checkpoint.save(ck.path, ck.model, vocab=ck.vocab, meta=meta, state=ck.state)
    trainer = Trainer.resume(tmp_path / "run", TEXT, 3)
    assert trainer.config.nonlinearity == "tanh" and trainer.config.cell == "lstm"
    trainer.run()
    assert checkpoint.load(tmp_path / "run").meta["step"] == 3


def test_a_new_learning_rate_is_the_one_the_updates_use(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(TEXT)
    runs = {}
    for name, extra in (("same", []), ("tiny", ["--lr", "1e-12"])):
        out = tmp_path / name
        assert main(["train", str(path), "--steps", "10", "--out", str(out), *SMALL, "--optimizer", "sgd",
                     "--lr", "0.5", "--quiet"]) == 0
        start = checkpoint.load(out).model.params
        assert main(["train", "--resume", str(out), "--steps", "20", *extra, "--quiet"]) == 0
        end = checkpoint.load(out).model.params
        runs[name] = max(float(np.abs(end[k] - start[k]).max()) for k in start)
    assert runs["same"] > 1e-3 and runs["tiny"] < 1e-9


def test_epochs_on_resume_count_passes_from_the_start(run):
    assert main(["train", "--resume", str(run), "--epochs", "2", "--quiet"]) == 0
    assert checkpoint.load(run).meta["step"] == 172                               # 86 windows per epoch


def test_out_and_init_from_are_refused_with_resume(run, tmp_path, capsys):
    assert main(["train", "--resume", str(run), "--out", str(tmp_path / "elsewhere"), "--quiet"]) == 2
    assert "a resumed run stays in its folder" in capsys.readouterr().err
    assert main(["train", "--resume", str(run), "--init-from", str(run), "--quiet"]) == 2
    assert "either --resume" in capsys.readouterr().err


def test_the_runs_text_is_found_where_it_moved_and_another_text_is_refused(run, tmp_path, capsys):
    source = json.loads((run / "source.json").read_text())
    assert source["length"] == len(TEXT) and len(source["sha256"]) == 64
    assert checkpoint.load(run).meta["text"] == {"length": len(TEXT), "sha256": source["sha256"]}
    moved = tmp_path / "moved" / "renamed.txt"
    moved.parent.mkdir()
    (tmp_path / "a.txt").rename(moved)
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--steps", "25", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "does not exist (moved?)" in err and "give the text as FILE" in err
    assert main(["train", str(moved), "--resume", str(run), "--steps", "25", "--quiet"]) == 0
    assert json.loads((run / "source.json").read_text())["file"] == str(moved.resolve())
    assert main(["train", "--resume", str(run), "--steps", "30", "--quiet"]) == 0    # and a later resume finds it
    # another text: refused, and the error says how it differs
    changed = tmp_path / "changed.txt"
    for content, words in ((TEXT[:-1] + "x", ["same length and characters but other content"]),
                           (TEXT + " and more", ["characters instead of"]),
                           (TEXT + "§", ["1 characters the run's vocabulary lacks ('§')"]),
                           (OTHER, ["the run's characters missing", "vocabulary lacks"])):
        changed.write_text(content)
        capsys.readouterr()
        assert main(["train", str(changed), "--resume", str(run), "--steps", "40", "--quiet"]) == 2
        line = capsys.readouterr().err.strip()
        assert "\n" not in line and "changed.txt" in line and "expected the text of the run" in line
        for word in words:
            assert word in line, (word, line)
    assert checkpoint.load(run).meta["step"] == 30


def test_a_run_from_before_text_identities_still_resumes(run):
    """Old checkpoints record no text identity: the vocabulary is all there is to check."""
    ck = checkpoint.load(run)
    meta = {k: v for k, v in ck.meta.items() if k != "text"}
    meta["config"] = {k: v for k, v in meta["config"].items() if k != "input_init_std"}
    checkpoint.save(run / checkpoint.FILENAME, ck.model, vocab=ck.vocab, meta=meta, state=ck.state)
    trainer = Trainer.resume(run, TEXT, 25)
    assert trainer.config.input_init_std is None     # such runs drew U as PyTorch does
    trainer.run()


# ---- fine-tuning ------------------------------------------------------------------------------
def test_init_from_carries_weights_character_by_character(run, tmp_path):
    other = tmp_path / "b.txt"
    other.write_text(OTHER)
    out = tmp_path / "B"
    assert main(["train", str(other), "--init-from", str(run), "--steps", "1", "--out", str(out), "--lr", "1e-30",
                 "--seq-length", "8", "--batch-size", "4", "--sample-every", "0", "--seed", "7", "--quiet"]) == 0
    a, b = checkpoint.load(run), checkpoint.load(out)
    va, vb = a.vocab.chars, b.vocab.chars
    shared = [ch for ch in vb if ch in va]
    counts = {"shared": len(shared), "new": len(vb) - len(shared), "dropped": len(va) - len(shared)}
    assert counts["shared"] > 5 and counts["new"] > 5 and counts["dropped"] > 5
    assert records(out)[0] == {"step": 0, "init_from": {"run": str(run.resolve()), **counts}}
    assert b.meta["init_from"]["shared"] == counts["shared"]
    assert json.loads((out / "summary.json").read_text())["init_from"] == {"run": str(run.resolve()), **counts}
    pa, pb = a.model.params, b.model.params
    # A fresh model of the new run's config: the values new characters must hold.
    fresh = Trainer(TrainConfig(hidden=16, seq_length=8, batch_size=4, seed=7, sample_every=0), OTHER,
                    tmp_path / "unused").model.params
    for ch in vb:
        j = vb.index(ch)
        src, i = (pa, va.index(ch)) if ch in va else (fresh, j)
        np.testing.assert_allclose(pb["U"][:, j], src["U"][:, i], atol=1e-6)       # one update at lr 1e-30
        np.testing.assert_allclose(pb["V"][j], src["V"][i], atol=1e-6)
        np.testing.assert_allclose(pb["c"][j], src["c"][i], atol=1e-6)
    for k in ("W", "b"):
        np.testing.assert_allclose(pb[k], pa[k], atol=1e-6)
    assert int(b.state["opt/t"]) == 1                       # the optimiser started fresh
    assert b.meta["config"]["hidden"] == 16                 # from the run, not the default 128


def test_init_from_refuses_a_contradicting_model_flag(run, tmp_path, capsys):
    capsys.readouterr()
    assert main(["train", str(run / ".." / "a.txt"), "--init-from", str(run), "--hidden", "32",
                 "--out", str(tmp_path / "B"), "--quiet"]) == 2
    line = capsys.readouterr().err.strip()
    assert line.startswith("bptt: error: --hidden: expected the model of --init-from") and "got 32" in line
    assert not (tmp_path / "B" / "checkpoint.npz").exists()


@pytest.mark.parametrize("cell", CELLS)
def test_carry_over_works_from_parameter_names_on_every_cell(cell):
    from bptt.train.finetune import carry_over
    from bptt.nn.network import Network
    a = Network.create(cell, 3, 4, 3, layers=2, seed=0)
    b = Network.create(cell, 4, 4, 4, layers=2, seed=1)
    before = {k: v.copy() for k, v in b.params.items()}
    counts = carry_over(a, Vocab("abc"), b, Vocab("bcde"))
    assert counts == {"shared": 2, "new": 2, "dropped": 1}
    np.testing.assert_array_equal(b.params["U"][:, :2], a.params["U"][:, 1:])       # b, c: every gate's column
    np.testing.assert_array_equal(b.params["U"][:, 2:], before["U"][:, 2:])         # d, e fresh
    np.testing.assert_array_equal(b.params["V"][:2], a.params["V"][1:])
    np.testing.assert_array_equal(b.params["V"][2:], before["V"][2:])
    np.testing.assert_array_equal(b.params["c"][:2], a.params["c"][1:])
    for name in set(a.params) - {"U", "V", "c"}:                                    # W, b, U_l1, ... (b_hn)
        np.testing.assert_array_equal(b.params[name], a.params[name])


def test_init_from_a_two_layer_lstm_keeps_its_model(run, tmp_path):
    text = tmp_path / "a.txt"
    lstm = tmp_path / "L"
    assert main(["train", str(text), "--steps", "3", "--cell", "lstm", "--layers", "2", "--out", str(lstm),
                 *SMALL, "--quiet"]) == 0
    (tmp_path / "b.txt").write_text(OTHER)
    assert main(["train", str(tmp_path / "b.txt"), "--init-from", str(lstm), "--steps", "2", "--seq-length", "8",
                 "--batch-size", "4", "--sample-every", "0", "--out", str(tmp_path / "B"), "--quiet"]) == 0
    config = checkpoint.load(tmp_path / "B").meta["config"]
    assert (config["cell"], config["layers"], config["hidden"]) == ("lstm", 2, 16)
    assert main(["train", str(tmp_path / "b.txt"), "--init-from", str(lstm), "--cell", "gru",
                 "--out", str(tmp_path / "C"), "--quiet"]) == 2
