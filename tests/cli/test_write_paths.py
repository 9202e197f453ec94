"""A file a command is told to write where it cannot: one line naming the flag and the path the
user gave (never a temporary file's name), exit 2, no traceback, nothing written."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bptt import checkpoint
from bptt.data import Vocab
from bptt.nn.network import Network

SRC = Path(__file__).resolve().parents[2] / "src"
TEXT = "the quick brown fox jumps over the lazy dog. "


def bptt(*argv):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "bptt", *map(str, argv)], capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    vocab = Vocab.from_text(TEXT)
    checkpoint.save(root / checkpoint.FILENAME, Network.create("rnn", len(vocab), 4, len(vocab)), vocab=vocab)
    return root


def one_line(r, flag, path):
    assert r.returncode == 2, r.stderr
    assert r.stdout == "" and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith(f"bptt: error: {flag}: expected ") and f"got {str(path)!r}" in r.stderr, r.stderr
    assert ".tmp" not in r.stderr, r.stderr


@pytest.mark.parametrize("where", ["missing folder", "a file as folder"])
def test_export_to_a_folder_that_is_not_there(tmp_path, run, where):
    pytest.importorskip("torch")
    (tmp_path / "a-file").write_text("x")
    target = tmp_path / ("nonexistent/dir/x.pt" if where == "missing folder" else "a-file/x.pt")
    r = bptt("export", run, "--torch", target)
    one_line(r, "--torch", target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


@pytest.mark.parametrize("where", ["missing folder", "a file as folder"])
def test_explain_to_a_folder_that_is_not_there(tmp_path, where):
    (tmp_path / "a-file").write_text("x")
    target = tmp_path / ("nonexistent/x.html" if where == "missing folder" else "a-file/x.html")
    r = bptt("explain", "--out", target)
    one_line(r, "--out", target)
    assert "folder" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_a_write_that_fails_later_names_the_flag_and_the_users_path(tmp_path, monkeypatch, capsys):
    """The folder vanishes (or turns read-only) between the check and the write."""
    from bptt.cli import main
    from bptt.explain import Explanation

    def fail(self, path):
        raise PermissionError(13, "Permission denied", str(Path(path).with_name(".x.html.tmp")))
    monkeypatch.setattr(Explanation, "save", fail)
    assert main(["explain", "--out", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err
    assert err == f"bptt: error: --out: expected a writable file path, got {str(tmp_path / 'x.html')!r} " \
                  f"(Permission denied)\n"
