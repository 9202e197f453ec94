import subprocess
import sys

import numpy as np

import bptt
from bptt.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "bptt", *args], capture_output=True, text=True, timeout=300)


def test_version_and_help():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"bptt {bptt.__version__}"
    r = run("--help")
    assert r.returncode == 0 and "gradcheck" in r.stdout


def test_gradcheck_all_combinations_pass():
    r = run("gradcheck", "--all")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "24/24 passed" in r.stdout


def test_failing_check_exits_nonzero(monkeypatch, capsys):
    import bptt.activations
    def no_derivative(h, out=None):        # f' = 1: the tanh's slope forgotten
        out = np.empty_like(h) if out is None else out
        out[...] = 1
        return out

    monkeypatch.setitem(bptt.activations.DERIVATIVES, "tanh", no_derivative)
    assert main(["gradcheck"]) == 1
    assert "0/1 passed" in capsys.readouterr().out
