"""A `bptt task reverse --model seq2seq` run's checkpoint: it loads back as a Seq2Seq, a resumed run
is bit-identical to one that never stopped, `bptt sample` decodes with it, and every tool that
reads only networks refuses it in one line with exit 2."""

import json

import numpy as np
import pytest

import bptt
from bptt.cli import main
from bptt.train import checkpoint

SLOW = pytest.mark.slow          # each CLI run draws its learning curve: about 15 s for the runs below
SMALL = ["reverse", "--model", "seq2seq", "--length", "5", "--hidden", "12", "--batch-size", "16",
         "--eval-every", "10", "--eval-size", "40", "--quiet"]


def numbers(path):
    """metrics.jsonl's rows without the clocks."""
    return [{k: v for k, v in json.loads(line).items() if "seconds" not in k}
            for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One run of 30 updates straight; one of 10 that is then resumed to 30 (10 is a scoring step of both)."""
    root = tmp_path_factory.mktemp("s2s")
    straight, resumed = root / "straight", root / "resumed"
    assert main(["task", *SMALL, "--steps", "30", "--out", str(straight)]) == 0
    assert main(["task", *SMALL, "--steps", "10", "--out", str(resumed)]) == 0
    first = checkpoint.load(resumed)
    assert main(["task", "reverse", "--resume", str(resumed), "--steps", "30"]) == 0
    return straight, resumed, first


@SLOW
def test_the_checkpoint_loads_back_as_the_seq2seq(runs, tmp_path):
    straight, _, _ = runs
    ck = checkpoint.load(straight)
    assert isinstance(ck.model, bptt.Seq2Seq)
    assert ck.model.spec() == {"model": "seq2seq", "cell": "lstm", "layers": 1, "n_in": 8, "n_hidden": 12,
                               "n_out": 10, "dtype": "float32"}
    assert ck.meta["task_result"]["updates"] == 30 and ck.meta["run"]["step"] == 30
    model = bptt.Seq2Seq(8, 12, 10, cell="gru", layers=2, seed=3, dtype=np.float64)
    checkpoint.save(tmp_path / "m.npz", model)
    back = checkpoint.load(tmp_path / "m.npz").model
    assert back.spec() == model.spec()
    for k, v in model.params.items():
        assert back.params[k].dtype == v.dtype and np.array_equal(back.params[k], v), k
    x = np.array([[1, 2], [3, 4], [5, 0]])
    assert np.array_equal(back.generate(x, 9, 4), model.generate(x, 9, 4))


@SLOW
def test_a_resumed_run_is_bit_identical_to_one_that_never_stopped(runs):
    straight, resumed, first = runs
    assert first.meta["run"]["step"] == 10
    a, b = np.load(straight / "checkpoint.npz"), np.load(resumed / "checkpoint.npz")
    assert sorted(a.files) == sorted(b.files) and any(f.startswith("state/opt/") for f in a.files)
    for name in a.files:
        if name != "meta.json":
            assert np.array_equal(a[name], b[name]), name
    assert not np.array_equal(first.model.params["V"], checkpoint.load(straight).model.params["V"])
    assert numbers(straight / "metrics.jsonl") == numbers(resumed / "metrics.jsonl")
    ra, rb = (json.loads((d / "result.json").read_text()) for d in (straight, resumed))
    assert ra["scores"] == rb["scores"] and ra["updates"] == rb["updates"] == 30
    assert ra["sequences_seen"] == rb["sequences_seen"]


@SLOW
def test_sample_decodes_with_an_encoder_decoder(runs, tmp_path, capsys):
    straight, _, _ = runs
    model = checkpoint.load(straight).model
    capsys.readouterr()
    assert main(["sample", str(straight), "--prime", "1 2 3", "--length", "6"]) == 0
    printed = capsys.readouterr().out.split()
    tokens = model.generate(np.array([[1], [2], [3]]), 9, 6)[:, 0]
    ends = np.flatnonzero(tokens == 8)
    want = tokens[:ends[0]] if ends.size else tokens
    assert printed == [str(t) for t in want]


@SLOW
@pytest.mark.parametrize("argv", [
    ["diagnose", "{run}", "--out", "{tmp}/d"],
    ["explain", "{run}", "--out", "{tmp}/e.html"],
    ["train", "--resume", "{run}"],
    ["sample", "{run}", "--prime", "1 8"],
    ["sample", "{run}", "--prime", "1 2", "--temperature", "1"],
    ["task", "reverse", "--resume", "{run}", "--lr", "0.1"],
    ["task", "reverse", "--resume", "{run}", "--steps", "20"],
    ["task", "sort", "--resume", "{run}", "--steps", "40"],
    ["task", "reverse", "--resume", "{run}", "--steps", "40", "--out", "{tmp}/x"],
], ids=lambda a: " ".join(a[:3]))
def test_a_tool_that_cannot_take_it_says_so_in_one_line(runs, tmp_path, capsys, argv):
    straight, _, _ = runs
    argv = [a.format(run=straight, tmp=tmp_path) for a in argv]
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("bptt: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


@SLOW
def test_resume_takes_a_network_task_run_too(tmp_path, capsys):
    """It was refused before network task runs could resume (tests/train/test_task_resume.py has the rest)."""
    run = tmp_path / "net"
    assert main(["task", "copy", "--length", "3", "--hidden", "4", "--steps", "2", "--eval-every", "2",
                 "--eval-size", "10", "--quiet", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["task", "copy", "--resume", str(run), "--steps", "4", "--quiet"]) == 0
    assert checkpoint.load(run).meta["run"]["step"] == 4


@pytest.mark.parametrize("flag, value", [("--lr-decay", "0"), ("--lr-decay", "1.5"), ("--lr-decay-every", "0")])
def test_a_bad_learning_rate_schedule_is_one_line(tmp_path, capsys, flag, value):
    assert main(["task", "reverse", flag, value, "--steps", "1", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{flag}: expected" in err and f"got {float(value) if flag == '--lr-decay' else value}" in err
    assert not (tmp_path / "r").exists()
