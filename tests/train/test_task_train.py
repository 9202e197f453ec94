"""`bptt task` and ``task_train``: a tiny version that solves, the run folder, the saved model, bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest

import bptt
from bptt import tasks
from bptt.cli import main
from bptt.train.task import CELLS, TaskConfig, build_model, evaluate, train

TINY = ["--length", "4", "--hidden", "16", "--lr", "0.01", "--steps", "600", "--eval-every", "50",
        "--eval-size", "200"]


def run(*args):
    return subprocess.run([sys.executable, "-m", "bptt", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("cell", ["rnn", "irnn"])
def test_tiny_adding_is_solved_and_stops_early(tmp_path, cell):
    out = tmp_path / "run"
    r = run("task", "adding", "--cell", cell, *TINY, "--out", str(out))
    assert r.returncode == 0, r.stderr
    result = json.loads((out / "result.json").read_text())
    assert result["task"] == "adding" and result["cell"] == cell and result["length"] == 4
    assert result["solved"] is True and result["metric"] < 0.01
    assert result["updates"] < 600 and result["updates"] % 50 == 0          # stopped at an evaluation
    assert result["sequences_seen"] == result["updates"] * 50
    assert result["baseline"] == pytest.approx(1 / 6) and result["criterion"] == "mse < 0.01"
    for key in ("seed", "seconds", "metric_name"):
        assert key in result
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    evals = [rec for rec in records if "metric" in rec]
    assert evals[-1]["metric"] == result["metric"] and evals[-1]["solved"]
    assert not any(rec["solved"] for rec in evals[:-1])
    for name in ("learning_curve.png", "lag_profile.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # stdout is a pipe here: whole plain lines, no live bar; progress lines carry the held-out score
    lines = r.stdout.splitlines()
    assert "\r" not in r.stdout and "\x1b" not in r.stdout
    progress = [line for line in lines if line.startswith("train ")]
    assert progress and all("held-out" in line and "baseline 0.1667" in line and " left " in line
                            for line in progress)
    assert lines[-2].startswith("solved: mse ")

    # the checkpoint is the model alone: it maps the generator's inputs to its outputs
    ck = bptt.train.checkpoint.load(out)
    assert ck.vocab is None and ck.model.output == "identity"
    assert ck.model.nonlinearity == ("relu" if cell == "irnn" else "tanh")
    held_out = tasks.adding(4, 200, np.random.default_rng([0, 1]))
    metric, _ = evaluate(ck.model, tasks.TASKS["adding"], held_out)
    assert metric == pytest.approx(result["metric"], rel=1e-6)


def test_budget_ends_without_the_criterion(tmp_path):
    config = TaskConfig(task="copy", cell="rnn", length=20, hidden=8, batch_size=4, steps=7, eval_every=5,
                        eval_size=30)
    result = train(config, tmp_path)
    assert result["solved"] is False and result["updates"] == 7 and result["sequences_seen"] == 28
    assert result["baseline"] == pytest.approx(1 - 8 ** -10)
    assert result["loss_baseline"] == pytest.approx(10 * np.log(8) / 40)
    steps = [json.loads(line)["step"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert steps == [5, 7]
    assert len(result["lag_ratio"]) == 40


def test_irnn_is_relu_with_identity_start():
    a = build_model(TaskConfig(cell="irnn", hidden=5, seed=3))
    b = build_model(TaskConfig(cell="rnn", nonlinearity="relu", init="identity", hidden=5, seed=3))
    assert a.nonlinearity == b.nonlinearity == "relu"
    np.testing.assert_array_equal(a.params["W"], np.eye(5))
    np.testing.assert_array_equal(a.params["b"], 0)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    stacked = build_model(TaskConfig(cell="irnn", hidden=5, layers=3, seed=3))
    assert stacked.layers == 3
    for name in ("W", "W_l1", "W_l2"):
        np.testing.assert_array_equal(stacked.params[name], np.eye(5))
    plain = build_model(TaskConfig(cell="rnn", hidden=5, seed=3))
    assert plain.nonlinearity == "tanh" and not np.allclose(plain.params["W"], np.eye(5))


def test_same_seed_same_run(tmp_path):
    config = TaskConfig(task="temporal-order", length=62, hidden=6, batch_size=3, steps=4, eval_every=2,
                        eval_size=10)
    r1, r2 = train(config, tmp_path / "a"), train(config, tmp_path / "b")
    assert r1["metric"] == r2["metric"] and r1["loss"] == r2["loss"]
    a, b = bptt.train.checkpoint.load(tmp_path / "a"), bptt.train.checkpoint.load(tmp_path / "b")
    for k in a.model.params:
        np.testing.assert_array_equal(a.model.params[k], b.model.params[k])


UNAVAILABLE = [c for c in ("lstm", "gru") if c not in CELLS]
BAD = [
    (["nope"], "TASK: expected one of"),
    (["adding", "--cell", "cnn"], "--cell: expected one of"),
    (["adding", "--length", "1"], "--length: expected an integer >= 2 for adding"),
    (["temporal-order", "--length", "59"], "--length: expected an integer >= 62 for temporal-order"),
    (["adding-1997", "--length", "11"], "--length: expected an integer >= 12 for adding-1997"),
    (["copy", "--length", "0"], "--length: expected an integer >= 1 for copy"),
    (["adding", "--steps", "0"], "--steps: expected a positive integer, got 0"),
    (["adding", "--steps", "-5"], "--steps: expected a positive integer, got -5"),
    (["adding", "--hidden", "0"], "--hidden: expected a positive integer, got 0"),
    (["adding", "--batch-size", "0"], "--batch-size: expected a positive integer, got 0"),
    (["adding", "--batch-size", "two"], "--batch-size: expected an integer, got 'two'"),
    (["adding", "--eval-size", "0"], "--eval-size: expected a positive integer, got 0"),
    (["adding", "--lr", "nan"], "--lr: expected a finite number > 0, got nan"),
    (["adding", "--lr", "-1"], "--lr: expected a finite number > 0, got -1"),
    (["adding", "--cell", "irnn", "--nonlinearity", "tanh"], "--nonlinearity: expected only with --cell rnn"),
    (["adding", "--cell", "irnn", "--init", "identity"], "--init: expected only with --cell rnn"),
] + [(["adding", "--cell", c], f"--cell: expected one of rnn, irnn") for c in UNAVAILABLE]


@pytest.mark.parametrize("argv,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "run"
    assert main(["task", *argv, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bptt: error: ") and message in lines[0], captured.err
    assert not out.exists()


def test_out_holding_a_run_is_refused(tmp_path, capsys):
    (tmp_path / "result.json").write_text("{}")
    assert main(["task", "adding", "--steps", "1", "--out", str(tmp_path)]) == 2
    assert "--out: expected a new or empty run folder" in capsys.readouterr().err
    assert (tmp_path / "result.json").read_text() == "{}"


@pytest.mark.slow
def test_benchmark_tiny_grid(tmp_path):
    """benchmarks/long_lag.py end to end on one task, one short lag, two cells."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "long_lag.py"
    spec = importlib.util.spec_from_file_location("long_lag", path)
    long_lag = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(long_lag)
    results = tmp_path / "out" / "results.jsonl"
    long_lag.main(["--tasks", "adding", "--cells", "rnn", "irnn", "--lengths", "4", "--seeds", "0",
                   "--steps", "20", "--jobs", "1", "--results", str(results), "--runs", str(tmp_path / "runs"),
                   "--picture", "adding", "4"])
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert sorted(r["cell"] for r in rows) == ["irnn", "rnn"]
    for r in rows:
        assert r["budget"] == 20 and r["updates"] == 20 and r["wall_seconds"] > 0 and "error" not in r
    table = (tmp_path / "out" / "table.md").read_text().splitlines()
    assert table[0] == "| task | T | rnn | irnn |"
    assert table[2].startswith("| adding | 4 | 0/1, loss ")
    assert (tmp_path / "out" / "lag_profiles.png").read_bytes()[:4] == b"\x89PNG"


def test_overflowed_scores_are_json_null(tmp_path, monkeypatch):
    """An exploded model (the IRNN's ReLU chain at long lags) scores inf: the files stay JSON."""
    import bptt.train.task as task_train
    monkeypatch.setattr(task_train, "evaluate", lambda model, task, batch: (float("inf"), float("nan")))
    config = TaskConfig(task="adding", length=5, hidden=4, batch_size=2, steps=3, eval_every=3, eval_size=4)
    result = train(config, tmp_path)
    assert result["metric"] is None and result["loss"] is None and result["solved"] is False

    def strict(name):
        raise AssertionError(f"non-standard JSON constant {name}")
    for path in (tmp_path / "result.json", tmp_path / "metrics.jsonl"):
        for line in path.read_text().splitlines() if path.suffix == ".jsonl" else [path.read_text()]:
            json.loads(line, parse_constant=strict)


def test_a_pipe_gets_one_line_per_held_out_score(tmp_path, capsys):
    """As the README says: in a pipe or a log, one whole line per held-out score (every --eval-every
    updates), each with the score; not a line per tenth of the budget."""
    assert main(["task", "copy", "--length", "5", "--hidden", "4", "--steps", "200", "--eval-every", "100",
                 "--eval-size", "20", "--out", str(tmp_path / "run")]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("train ")]
    assert [line.split()[1] for line in lines] == ["100/200", "200/200"], lines
    scores = [json.loads(line)["metric"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
              if "metric" in json.loads(line)]
    assert [f"held-out {s:.4g} (baseline" in line for s, line in zip(scores, lines)] == [True] * 2


def test_the_criterion_reads_as_a_reader_says_it(tmp_path, capsys):
    assert main(["task", "copy", "--length", "3", "--hidden", "4", "--steps", "2", "--eval-every", "2",
                 "--eval-size", "10", "--quiet", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert out.count("solved when at least 99% of sequences recalled whole") == 2, out
    assert "not recalled whole <=" not in out
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["criterion"] == "at least 99% of sequences recalled whole" and result["threshold"] == 0.01


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_task_that_diverges_stops_with_what_to_try(tmp_path):
    config = TaskConfig(task="adding", length=5, hidden=4, batch_size=2, steps=50, optimizer="sgd", lr=1e30,
                        clip=None, cell="irnn", eval_every=50, eval_size=4)
    with pytest.raises(bptt.train.task.Diverged, match="Try a lower --lr"):
        train(config, tmp_path)


@pytest.mark.slow
def test_a_signal_ends_a_task_run_after_the_update_and_writes_it(tmp_path):
    """SIGTERM (as SIGINT and SIGHUP) stops `bptt task` as it stops `bptt train`: the update in flight
    finishes, the model so far is scored and written, one line says so, the exit code is 128 + 15."""
    import os
    import signal
    import time
    from pathlib import Path
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(Path(bptt.__file__).parents[1]))
    proc = subprocess.Popen([sys.executable, "-m", "bptt", "task", "copy", "--length", "5", "--hidden", "4",
                             "--steps", "1000000", "--eval-every", "1000000", "--eval-size", "10", "--quiet",
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))
    t0 = time.monotonic()
    while not ((out / "metrics.jsonl").exists() and (out / "metrics.jsonl").stat().st_size > 0):
        assert proc.poll() is None and time.monotonic() - t0 < 120, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    stdout, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert err.count("\n") == 1 and err.startswith("bptt: interrupted by SIGTERM at update "), err
    result = json.loads((out / "result.json").read_text())
    assert result["interrupted"] == signal.SIGTERM and 10 <= result["updates"] < 1000000
    assert bptt.train.checkpoint.load(out).meta["task_result"]["updates"] == result["updates"]
