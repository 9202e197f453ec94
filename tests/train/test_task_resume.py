"""`bptt task TASK --resume DIR` for one network: a run that finished at --steps N, was killed, or was
stopped by SIGINT goes on bit for bit as a straight run (parameters, optimiser state, the batch
Generator's state, metrics.jsonl's numbers); any setting but --steps, --eval-every, --log-every and
--threads is refused in one line naming its flag, exit 2."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import bptt
from bptt.cli import main
from bptt.train import checkpoint
from bptt.train.task import default_config, resume, train

# An LSTM on copy starts from the chrono init (copy's default for lstm); a GRU on adding from uniform.
LSTM = dict(task="copy", cell="lstm", length=5, hidden=8, batch_size=8, eval_every=5, eval_size=20, log_every=2)
GRU = dict(task="adding", cell="gru", length=6, hidden=8, batch_size=8, eval_every=5, eval_size=20, log_every=2)
CLOCKS = ("seconds", "cpu_seconds")


def numbers(path):
    """metrics.jsonl's rows without the clocks."""
    return [{k: v for k, v in json.loads(line).items() if k not in CLOCKS}
            for line in Path(path).read_text().splitlines()]


def same_run(a, b):
    """Two run folders hold the same parameters, optimiser state, Generator states and metrics."""
    ca, cb = checkpoint.load(a), checkpoint.load(b)
    assert ca.model.spec() == cb.model.spec()
    for k, v in ca.model.params.items():
        assert v.dtype == cb.model.params[k].dtype and np.array_equal(v, cb.model.params[k]), k
    assert sorted(ca.state) == sorted(cb.state) and any(k.startswith("opt/") for k in ca.state)
    for k, v in ca.state.items():
        assert np.array_equal(v, cb.state[k]), k
    ra, rb = ({k: v for k, v in c.meta["run"].items() if k not in CLOCKS} for c in (ca, cb))
    assert ra == rb
    assert numbers(a / "metrics.jsonl") == numbers(b / "metrics.jsonl")
    ja, jb = (json.loads((d / "result.json").read_text()) for d in (a, b))
    for key in ("updates", "sequences_seen", "metric", "loss", "skipped", "lag_ratio", "solved"):
        assert ja[key] == jb[key], key


@pytest.mark.parametrize("settings", [LSTM, GRU], ids=["lstm-chrono", "gru"])
def test_a_finished_run_resumed_with_more_steps_is_a_straight_run(tmp_path, settings):
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    train(default_config(**settings, steps=15), straight)
    train(default_config(**settings, steps=5), stopped)
    if settings is LSTM:
        assert checkpoint.load(stopped).model.cell.options().get("chrono") == 5 + 10   # copy's longest lag
    first = checkpoint.load(stopped).model.params["V"].copy()
    result = resume(stopped, {"steps": 15})
    assert result["updates"] == 15 and result["sequences_seen"] == 15 * 8
    assert not np.array_equal(first, checkpoint.load(stopped).model.params["V"])   # it trained on
    same_run(straight, stopped)


def test_a_killed_run_resumes_from_its_last_score_and_rewrites_the_lines_past_it(tmp_path):
    """A kill after update 8 leaves the checkpoint of update 5 and log lines up to 8 (the last cut
    short) and a half-written temporary file: resume removes both and logs 6 to 8 again."""
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    train(default_config(**GRU, steps=15), straight)
    train(default_config(**GRU, steps=5), killed)
    later = [line for line in (straight / "metrics.jsonl").read_text().splitlines()
             if 5 < json.loads(line)["step"] <= 8]
    with open(killed / "metrics.jsonl", "a") as f:
        f.write("\n".join(later) + "\n" + later[-1][:20])
    (killed / ".checkpoint.npz.x1y2.tmp").write_bytes(b"half")
    assert main(["task", "adding", "--resume", str(killed), "--steps", "15", "--quiet"]) == 0
    assert not (killed / ".checkpoint.npz.x1y2.tmp").exists()
    same_run(straight, killed)


def test_eval_and_log_schedules_may_change_and_the_training_does_not(tmp_path):
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    train(default_config(**LSTM, steps=12), straight)
    train(default_config(**LSTM, steps=5), stopped)
    resume(stopped, {"steps": 12, "eval_every": 3, "log_every": 1, "threads": 1})
    a, b = checkpoint.load(straight), checkpoint.load(stopped)
    for k, v in a.model.params.items():
        assert np.array_equal(v, b.model.params[k]), k
    rows = numbers(stopped / "metrics.jsonl")
    assert [r["step"] for r in rows] == [2, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert [r["step"] for r in rows if "metric" in r] == [5, 6, 9, 12]
    assert b.meta["run"]["config"]["eval_every"] == 3


def test_an_online_gradient_run_resumes_between_batches_and_refuses_partway(tmp_path, capsys):
    """UORO's random signs are a second Generator, saved too; a checkpoint saved partway through a
    batch's windows (its influence is not saved) is refused in one line."""
    uoro = dict(GRU, gradient="uoro")
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    train(default_config(**uoro, steps=10), straight)
    train(default_config(**uoro, steps=5), stopped)
    resume(stopped, {"steps": 10})
    same_run(straight, stopped)
    windows = tmp_path / "windows"          # 3 windows of 2 steps, the target in the last: 1 update a batch
    train(default_config(**uoro, seq_length=2, steps=5), windows)
    assert "between_batches" not in checkpoint.load(windows).meta["run"]
    partway = tmp_path / "partway"          # copy's T = 5 + 20: windows of 4 carry targets from step 16 on
    train(default_config(**dict(LSTM, gradient="snap1", seq_length=4), steps=5), partway)
    assert checkpoint.load(partway).meta["run"]["between_batches"] is False
    capsys.readouterr()
    assert main(["task", "copy", "--resume", str(partway), "--steps", "10"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "expected a checkpoint saved between batches" in err, err


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("resume") / "run"
    train(default_config(**LSTM, steps=5), out)
    return out


@pytest.mark.parametrize("argv, named", [
    (["--lr", "0.1"], "--lr"),
    (["--cell", "gru"], "--cell"),
    (["--hidden", "9"], "--hidden"),
    (["--seed", "1"], "--seed"),
    (["--batch-size", "4"], "--batch-size"),
    (["--init", "uniform"], "--init"),
    (["--steps", "5"], "--steps"),
    (["--steps", "3"], "--steps"),
    (["--steps", "0"], "--steps"),
    (["--eval-every", "0"], "--eval-every"),
    (["--out", "elsewhere"], "--out"),
], ids=lambda a: " ".join(a) if isinstance(a, list) else None)
def test_what_a_resume_cannot_change_is_refused_in_one_line(stopped_run, capsys, argv, named):
    before = (stopped_run / "checkpoint.npz").read_bytes()
    capsys.readouterr()
    assert main(["task", "copy", "--resume", str(stopped_run), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"bptt: error: {named}: expected") and err.count("\n") == 1, err
    assert (stopped_run / "checkpoint.npz").read_bytes() == before


def test_the_run_s_own_values_are_accepted_and_another_task_refused(stopped_run, tmp_path, capsys):
    capsys.readouterr()
    assert main(["task", "adding", "--resume", str(stopped_run), "--steps", "10"]) == 2
    assert "TASK: expected the run's task 'copy'" in capsys.readouterr().err
    run = tmp_path / "own"
    train(default_config(**LSTM, steps=5), run)
    assert main(["task", "copy", "--resume", str(run), "--steps", "7", "--cell", "lstm", "--hidden", "8",
                 "--quiet"]) == 0
    assert checkpoint.load(run).meta["run"]["step"] == 7


def test_a_solved_run_is_not_resumed(tmp_path, capsys):
    out = tmp_path / "solved"
    result = train(default_config(task="adding", cell="gru", length=4, hidden=16, steps=600, eval_every=50,
                                  eval_size=200), out)
    assert result["solved"]
    capsys.readouterr()
    assert main(["task", "adding", "--resume", str(out), "--steps", "1000"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "expected a run that is not solved yet" in err


@pytest.mark.slow
def test_a_run_stopped_by_sigint_resumes_bit_for_bit(tmp_path):
    """Ctrl-C mid-way: the update in flight finishes and the run is saved where it stopped (not at its
    last score); resumed to K updates it is the straight run of K."""
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(Path(bptt.__file__).parents[1]), OPENBLAS_NUM_THREADS="1")
    flags = ["--cell", "gru", "--length", "6", "--hidden", "8", "--batch-size", "8", "--eval-size", "20",
             "--eval-every", "1000000", "--quiet"]
    proc = subprocess.Popen([sys.executable, "-m", "bptt", "task", "adding", *flags, "--steps", "1000000",
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    t0 = time.monotonic()
    while not ((out / "metrics.jsonl").exists() and (out / "metrics.jsonl").stat().st_size > 0):
        assert proc.poll() is None and time.monotonic() - t0 < 120, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGINT, err
    stopped_at = checkpoint.load(out).meta["run"]["step"]
    assert stopped_at == json.loads((out / "result.json").read_text())["updates"] >= 10
    steps = stopped_at + 13
    r = subprocess.run([sys.executable, "-m", "bptt", "task", "adding", "--resume", str(out), "--steps",
                        str(steps), "--quiet"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"resumed adding at update {stopped_at} in {out}" in r.stdout
    straight = tmp_path / "straight"
    train(default_config(task="adding", cell="gru", length=6, hidden=8, batch_size=8, eval_size=20,
                         eval_every=1000000, steps=steps), straight)
    same_run(straight, out)


def test_a_resumed_run_says_so_above_its_progress(tmp_path, capsys):
    # Through a pipe (capsys: not a terminal) the line comes first, then the held-out lines.
    out = tmp_path / "run"
    train(default_config(**LSTM, steps=5), out)
    capsys.readouterr()
    assert main(["task", "copy", "--resume", str(out), "--steps", "10", "--eval-every", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"resumed copy at update 5 in {out}"
    assert lines[1].startswith("train 10/10") and sum(line.startswith("resumed") for line in lines) == 1
