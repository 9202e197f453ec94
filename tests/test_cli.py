import subprocess
import sys

import pytest

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


@pytest.mark.parametrize("args,flag", [
    (["gradcheck", "--hidden", "0"], "--hidden"),
    (["gradcheck", "--steps", "-2"], "--steps"),
    (["gradcheck", "--batch", "two"], "--batch"),
    (["gradcheck", "--eps", "nan"], "--eps"),
    (["gradcheck", "--tol", "inf"], "--tol"),
    (["gradcheck", "--nonlinearity", "sigmoid"], "--nonlinearity"),
    (["gradcheck", "--bogus"], "--bogus"),
    (["frobnicate"], "frobnicate"),
])
def test_bad_flags_give_one_line_and_exit_2(args, flag, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("bptt: error:") and flag in err
    assert "Traceback" not in err


def test_failing_check_exits_nonzero(monkeypatch, capsys):
    import bptt.activations
    monkeypatch.setitem(bptt.activations.DERIVATIVES, "tanh", lambda dh, h, out=None: dh.copy())
    assert main(["gradcheck"]) == 1
    assert "0/1 passed" in capsys.readouterr().out
