"""What the commands print survives where it is read: a pipe or a log gets plain whole lines, a
terminal gets rich, and a reader who leaves early (``| head -1``) costs no training.

Numbers are read from the files the program writes (summary.json, metrics.jsonl); the console
text is only checked for being whole.
"""

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest

from bptt import checkpoint
from bptt.cli import main
from bptt.cli import train as train_cli
from bptt.cli._output import Output

TEXT = "the quick brown fox jumps over the lazy dog. " * 60
TINY = ["--hidden", "8", "--seq-length", "8", "--batch-size", "4", "--eval-every", "10"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def env(columns="40"):
    e = dict(os.environ)
    e["COLUMNS"] = columns        # narrow: anything that wraps or cuts at the width shows it
    e.pop("FORCE_COLOR", None)
    return e


def bptt(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "bptt", *map(str, args)], capture_output=True, text=True,
                          env=env(), cwd=cwd, timeout=300)


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT)
    return path


@pytest.fixture
def deep(tmp_path):
    """A run folder whose path alone is longer than any terminal line."""
    return tmp_path / ("a-long-folder-name-" * 6) / ("and-another-" * 6) / "run"


def test_piped_train_prints_whole_plain_lines(text_file, deep):
    r = bptt("train", text_file, "--steps", "30", "--sample-every", "15", "--sample-length", "30",
             "--out", deep, *TINY)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "\x1b" not in out and "…" not in out and "\r" not in out        # no colour, no cut, no live bar
    assert f"run folder: {deep}\n" in out                                   # the path whole, on its line
    progress = [line for line in out.splitlines() if line.startswith("train ")]
    assert progress and progress[-1].startswith("train 30/30  loss ") and " left 0:00:00" in progress[-1]
    assert "  files: checkpoint.npz, metrics.jsonl, summary.json, loss.png, samples.txt\n" in out
    summary = json.loads((deep / "summary.json").read_text())
    assert summary["steps"] == 30 and summary["characters"] == len(TEXT)
    metrics = [json.loads(line) for line in (deep / "metrics.jsonl").read_text().splitlines()]
    assert metrics[-1]["step"] == 30 and metrics[-1]["val_loss"] == summary["val_loss"]


def test_every_other_command_prints_whole_lines_through_a_pipe(tmp_path, deep, text_file):
    assert bptt("train", text_file, "--steps", "10", "--out", deep, "--quiet", *TINY).returncode == 0
    checks = {
        "gradcheck": (["gradcheck"], ["passed (layers=1, H=4, I=O=5, T=6, B=3)"]),
        "diagnose": (["diagnose", deep, "--length", "20", "--batch", "2", "--out", deep / "diag"],
                     [f"wrote {deep / 'diag' / 'lag.png'}"]),
        "explain": (["explain", deep, "--text", "the quick", "--out", deep / "page.html"],
                    [f"wrote {deep / 'page.html'}"]),
        "sample": (["sample", deep, "--prime", "the ", "--length", "200", "--seed", "1"], []),
    }
    for name, (args, whole) in checks.items():
        r = bptt(*args)
        assert r.returncode == 0, (name, r.stderr)
        assert "\x1b" not in r.stdout and "…" not in r.stdout, (name, r.stdout)
        for text in whole:
            assert any(line.endswith(text) for line in r.stdout.splitlines()), (name, text, r.stdout)
    # The gradcheck table: each row one line with all of its numbers
    rows = [line.split() for line in bptt("gradcheck", "--cell", "all").stdout.splitlines()
            if line.startswith(("rnn ", "lstm ", "gru "))]
    assert len(rows) == 3 and all(len(row) == 9 and row[-1] == "yes" for row in rows)


def _on_a_terminal(argv, columns=40):
    """Run with stdout on a pseudo-terminal of the given width; (exit code, screen text without escapes)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "bptt", *map(str, argv)], stdout=slave,
                            stderr=subprocess.PIPE, env=env(str(columns)))
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:       # EIO: the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    proc.wait(timeout=300)
    return proc.returncode, ANSI.sub("", b"".join(chunks).decode("utf-8", "replace")), proc.stderr.read().decode()


def test_a_terminal_gets_the_live_bar_and_paths_unbroken(text_file, deep):
    code, screen, err = _on_a_terminal(["train", text_file, "--steps", "30", "--sample-every", "0",
                                        "--out", deep, *TINY])
    assert code == 0, err
    assert "━" in screen                          # rich's bar
    assert str(deep) in screen.replace("\r\n", "\n")   # not cut into lines: the terminal wraps it on screen
    assert "…" not in screen


def test_a_closed_stdout_loses_no_training(text_file, tmp_path):
    """`bptt train ... | head -1`: the reader goes away after one line; the run finishes and saves."""
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "bptt", "train", text_file, "--steps", "60", "--out", run,
                             "--sample-every", "5", "--sample-length", "200", *TINY],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0, err
    assert err == ""
    assert checkpoint.load(run).meta["step"] == 60
    assert json.loads((run / "summary.json").read_text())["steps"] == 60


def test_a_closed_stdout_ends_sample_quietly(tmp_path):
    lines = tmp_path / "lines.txt"
    lines.write_text("the quick brown fox\n" * 100)
    run = tmp_path / "run"
    assert bptt("train", lines, "--steps", "10", "--out", run, "--quiet", *TINY).returncode == 0
    # 96 kB of output: more than a pipe holds, so writing goes on after the reader has gone.
    proc = subprocess.Popen([sys.executable, "-m", "bptt", "sample", run, "--prime", "the fox\n" * 12000,
                             "--length", "10"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""


def test_the_summary_lists_only_the_files_written(text_file, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", str(text_file), "--steps", "20", "--out", str(run), "--sample-every", "0", *TINY]) == 0
    files = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  files: ")]
    assert files == ["  files: checkpoint.npz, metrics.jsonl, summary.json, loss.png"]
    assert not (run / "samples.txt").exists()


def test_a_run_that_fails_before_its_first_update_leaves_no_folder(tmp_path, monkeypatch):
    short = tmp_path / "short.txt"
    short.write_text("ab" * 5)
    monkeypatch.chdir(tmp_path)
    assert main(["train", str(short), "--steps", "5", *TINY]) == 2
    assert not (tmp_path / "runs").exists() or list((tmp_path / "runs").iterdir()) == []
    # A folder it did not make is left as it was found.
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    assert main(["train", str(short), "--steps", "5", "--out", str(mine), *TINY]) == 2
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


def test_runs_started_in_the_same_second_get_their_own_folders(text_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(train_cli.time, "strftime", lambda fmt, *a: "20260101-000000")
    made = []
    threads = [threading.Thread(target=lambda: made.append(train_cli._new_run_folder(Path("runs"))))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 8
    for p in made:
        p.rmdir()
    for steps in (10, 20):
        assert main(["train", str(text_file), "--steps", str(steps), "--quiet", *TINY]) == 0
    runs = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert runs == ["20260101-000000", "20260101-000000-2"]
    assert [checkpoint.load(tmp_path / "runs" / r).meta["step"] for r in runs] == [10, 20]


def test_resuming_to_a_step_already_reached_says_so(text_file, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", str(text_file), "--steps", "20", "--out", str(run), "--quiet", *TINY]) == 0
    before = (run / checkpoint.FILENAME).read_bytes()
    for steps in ("20", "10"):
        capsys.readouterr()
        assert main(["train", "--resume", str(run), "--steps", steps]) == 0
        out = capsys.readouterr().out
        assert "already at step 20" in out and "nan" not in out.lower() and "summary" not in out
    assert (run / checkpoint.FILENAME).read_bytes() == before


def test_steps_and_epochs_together_are_refused(text_file, tmp_path, capsys):
    assert main(["train", str(text_file), "--steps", "20", "--epochs", "2", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bptt: error: --epochs: expected either --steps or --epochs")
    assert not (tmp_path / "r").exists()


# ---- the Output itself -------------------------------------------------------------------------
class _Sink:
    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s

    def flush(self):
        pass

    def isatty(self):
        return False


def test_plain_tables_keep_every_cell_whole():
    sink = _Sink()
    out = Output(sink)
    long = "/a/path/" + "x" * 200
    out.table("title", ["name", "value"], [["p", long], ["n", "1.25e-10"]], right=("value",))
    out.fields("summary", [("run folder", long)])
    lines = sink.text.splitlines()
    assert lines[0] == "title" and lines[2].endswith(long) and lines[3].endswith("1.25e-10")
    assert lines[-1] == f"  run folder: {long}"


def test_plain_progress_is_an_occasional_line():
    sink = _Sink()
    with Output(sink).progress("train", 1000, 0, every=1e9) as bar:
        for step in range(1, 1001):
            bar.update(step, f"loss {1 / step:.3f}")
    lines = sink.text.splitlines()
    assert len(lines) == 10 and lines[-1].startswith("train 1000/1000  loss 0.001  elapsed ")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (a device that is always full)")
def test_a_full_log_disk_loses_no_training(text_file, tmp_path):
    """stdout sent to a file on a full disk: the run says so once and trains on."""
    run = tmp_path / "run"
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "bptt", "train", str(text_file), "--steps", "30", "--out", str(run),
                            *TINY], stdout=full, stderr=subprocess.PIPE, text=True, env=env(), timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "bptt: standard output: could not write (No space left on device); going on without it\n"
    assert checkpoint.load(run).meta["step"] == 30
