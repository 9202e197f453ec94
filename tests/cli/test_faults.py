"""Faults during training: signals, kill -9 at random moments and mid-save, a full or read-only disk.

Each fault is checked against what must survive it: the checkpoint on disk loads, and a run
resumed from it ends with the same parameters, bit for bit, as a run that was never stopped.
"""

import errno
import io
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bptt import checkpoint
from bptt.train import runfiles
from bptt.cli import main
from bptt.train.text import TrainConfig, Trainer

SRC = Path(__file__).resolve().parents[2] / "src"
TEXT = ("the quick brown fox jumps over the lazy dog. " * 40
        + "a simple recurrent network shares its parameters across time. " * 20)
TINY = ["--hidden", "8", "--seq-length", "4", "--batch-size", "2", "--sample-every", "0", "--quiet"]
TINY_CONFIG = dict(hidden=8, seq_length=4, batch_size=2, sample_every=0)


def default_signals():
    """In the child: SIGINT, SIGTERM and SIGHUP handled as a terminal's program would have them.
    A test suite started in the background (or under nohup) passes ignored signals on to its
    children, and bptt keeps an ignored signal ignored; the tests that send one must not
    depend on how the suite itself was started."""
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_DFL)


def env():
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(SRC)] + ([e["PYTHONPATH"]] if e.get("PYTHONPATH") else []))
    return e


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT)
    return path


def reference_params(tmp_path, steps, eval_every):
    """The parameters of a run that nothing interrupted."""
    trainer = Trainer(TrainConfig(steps=steps, eval_every=eval_every, **TINY_CONFIG), TEXT, tmp_path / "ref")
    trainer.run()
    return trainer.model.params


def assert_same_params(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def wait_for(path: Path, proc, timeout=60):
    t0 = time.monotonic()
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout, f"{path} never appeared"
        time.sleep(0.005)


# ---- SIGINT, SIGTERM and SIGHUP (a closed terminal, a dropped ssh session) ----------------
@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_finishes_the_step_saves_and_says_how_to_resume(tmp_path, text_file, sig, code):
    run = tmp_path / "run"
    # No eval for a long while: the checkpoint on disk after the signal is the one the signal wrote.
    proc = subprocess.Popen([sys.executable, "-m", "bptt", "train", str(text_file), "--steps", "100000",
                             "--eval-every", "100000", "--out", str(run), *TINY],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
                            preexec_fn=default_signals)
    wait_for(run / "metrics.jsonl", proc)            # training has begun: 10 updates are logged
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, out + err
    err = err.strip()
    assert "Traceback" not in err and err.count("\n") == 0, err
    assert f"interrupted by {signal.Signals(sig).name}" in err
    hint = err.split("Resume with: ")[1].split()
    assert hint[:3] == ["bptt", "train", "--resume"] and Path(hint[3]) == run
    ck = checkpoint.load(run)
    stopped = ck.meta["step"]
    assert 10 <= stopped < 100000
    assert [p.name for p in run.iterdir() if p.name.endswith(".tmp")] == []
    # The step in flight was finished, not torn: resuming with the printed command (to a nearer
    # end) matches a run that never stopped.
    assert main([*hint[1:], "--steps", str(stopped + 7), "--quiet"]) == 0
    assert_same_params(checkpoint.load(run).model.params, reference_params(tmp_path, stopped + 7, 100000))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_starting_up_is_one_line_too(tmp_path, text_file, sig):
    """Before training (reading the text) or before the first log: no traceback, the same exit code."""
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "bptt", "train", str(text_file), "--steps", "100000",
                             "--eval-every", "100000", "--out", str(run), *TINY],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
                            preexec_fn=default_signals)
    for line in proc.stdout:
        if line.startswith("run folder:"):        # the moment training is about to begin
            break
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert err.count("\n") == 1 and err.startswith(f"bptt: interrupted by {signal.Signals(sig).name}"), err
    if (run / checkpoint.FILENAME).exists():
        checkpoint.load(run)
    else:   # stopped before its first update: the folder this run made is taken back
        assert not run.exists(), sorted(p.name for p in run.iterdir())


# ---- kill -9 -----------------------------------------------------------------------------
# The child runs the real CLI; in the "mid-write" and "before-rename" trials it pauses inside
# its n-th checkpoint save (half the archive written, or written and synced but not renamed)
# and says so, so that the kill lands inside a save for certain rather than by luck.
CHILD = r"""
import io, os, sys, time
import numpy as np
from bptt.cli import main
mode, nth, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
calls = [0]
if mode == "mid-write":
    real_savez = np.savez
    def savez(f, **arrays):
        calls[0] += 1
        if calls[0] == nth:
            buf = io.BytesIO()
            real_savez(buf, **arrays)
            f.write(buf.getvalue()[: len(buf.getvalue()) // 2])
            f.flush()
            print("IN-SAVE", flush=True)
            time.sleep(120)
        return real_savez(f, **arrays)
    np.savez = savez
elif mode == "before-rename":
    real_replace = os.replace
    def replace(src, dst, **kw):
        if str(dst).endswith("checkpoint.npz"):
            calls[0] += 1
            if calls[0] == nth:
                print("IN-SAVE", flush=True)
                time.sleep(120)
        return real_replace(src, dst, **kw)
    os.replace = replace
sys.exit(main(argv))
"""

KILL_STEPS = 80
TRIALS = [("random", 0)] * 14 + [("mid-write", n) for n in (2, 9, 40)] + [("before-rename", n) for n in (2, 17, 60)]


def test_kill_9_at_random_moments_loses_nothing(tmp_path, text_file):
    rng = random.Random(8)
    reference = reference_params(tmp_path, KILL_STEPS, 1)
    in_save = 0
    for trial, (mode, nth) in enumerate(TRIALS):
        run = tmp_path / f"run{trial}"
        argv = ["train", str(text_file), "--steps", str(KILL_STEPS), "--eval-every", "1", "--out", str(run), *TINY]
        proc = subprocess.Popen([sys.executable, "-c", CHILD, mode, str(nth), *argv],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
        if mode == "random":
            # A checkpoint is written after every update, so most moments fall in or near a save.
            wait_for(run / checkpoint.FILENAME, proc)
            time.sleep(rng.uniform(0, 0.3))
        else:
            lines = iter(proc.stdout.readline, "")
            assert "IN-SAVE\n" in lines, proc.stderr.read()
        proc.kill()
        proc.communicate(timeout=60)
        if any(p.name.endswith(checkpoint.TEMP_SUFFIX) for p in run.iterdir()):
            in_save += 1
        ck = checkpoint.load(run)                    # the latest checkpoint always loads
        assert 1 <= ck.meta["step"] <= KILL_STEPS
        if mode != "random":
            assert ck.meta["step"] == nth - 1        # the save in flight did not replace the last one
        trainer = Trainer.resume(run, TEXT, None)
        trainer.run()
        assert_same_params(trainer.model.params, reference)
        assert not any(p.name.endswith(checkpoint.TEMP_SUFFIX) for p in run.iterdir())
        logged = [int(line.split('"step": ')[1].split(",")[0])
                  for line in (run / "metrics.jsonl").read_text().splitlines()]
        assert logged == list(range(1, KILL_STEPS + 1))   # no step lost, none logged twice
    assert in_save >= 6                              # at least the six planted kills inside a save


# ---- a full or read-only disk ---------------------------------------------------------------
def _a_saved_run(tmp_path):
    trainer = Trainer(TrainConfig(steps=3, eval_every=1, **TINY_CONFIG), TEXT, tmp_path / "run")
    trainer.run()
    path = tmp_path / "run" / checkpoint.FILENAME
    return trainer, path, path.read_bytes()


def _disk_full_after(n_bytes):
    real = np.savez

    def savez(f, **arrays):
        buf = io.BytesIO()
        real(buf, **arrays)
        f.write(buf.getvalue()[:n_bytes])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return savez


def test_disk_full_during_a_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    trainer, path, before = _a_saved_run(tmp_path)
    monkeypatch.setattr(np, "savez", _disk_full_after(1000))
    with pytest.raises(checkpoint.SaveError, match="No space left on device.*previous checkpoint on disk is intact"):
        trainer.save()
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".")) == []


def test_read_only_filesystem_during_a_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    # What a read-only mount answers to creating a file, whoever asks (root included).
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))
    trainer, path, before = _a_saved_run(tmp_path)
    monkeypatch.setattr(runfiles.tempfile, "mkstemp", read_only)
    with pytest.raises(checkpoint.SaveError, match="Read-only file system"):
        trainer.save()
    assert path.read_bytes() == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a chmod 555 folder; the EROFS test above "
                                              "covers a read-only folder for root")
def test_a_folder_made_read_only_during_training(tmp_path):
    trainer, path, before = _a_saved_run(tmp_path)
    path.parent.chmod(0o555)
    try:
        with pytest.raises(checkpoint.SaveError, match="Permission denied"):
            trainer.save()
    finally:
        path.parent.chmod(0o755)
    assert path.read_bytes() == before


def test_the_cli_reports_a_failed_save_in_one_line(tmp_path, text_file, monkeypatch, capsys):
    real, calls = np.savez, [0]

    def full_on_the_third_save(f, **arrays):
        calls[0] += 1
        if calls[0] == 3:
            return _disk_full_after(500)(f, **arrays)
        return real(f, **arrays)
    monkeypatch.setattr(np, "savez", full_on_the_third_save)
    run = tmp_path / "run"
    assert main(["train", str(text_file), "--steps", "50", "--eval-every", "10", "--out", str(run), *TINY]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("bptt: error:") and err.count("\n") == 0 and "No space left on device" in err, err
    assert checkpoint.load(run).meta["step"] == 20


def test_under_nohup_sighup_is_still_ignored(tmp_path, text_file):
    """nohup ignores SIGHUP so a run outlives its terminal: bptt keeps that choice."""
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "bptt", "train", str(text_file), "--steps", "300",
                             "--eval-every", "100000", "--out", str(run), *TINY],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
                            preexec_fn=lambda: (default_signals(), signal.signal(signal.SIGHUP, signal.SIG_IGN)))
    wait_for(run / "metrics.jsonl", proc)
    proc.send_signal(signal.SIGHUP)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert checkpoint.load(run).meta["step"] == 300
