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
    import bptt.nn.activations
    def no_derivative(h, out=None):        # f' = 1: the tanh's slope forgotten
        out = np.empty_like(h) if out is None else out
        out[...] = 1
        return out

    monkeypatch.setitem(bptt.nn.activations.DERIVATIVES, "tanh", no_derivative)
    assert main(["gradcheck"]) == 1
    assert "0/1 passed" in capsys.readouterr().out


def test_every_option_of_every_command_says_its_meaning_and_default():
    import argparse

    from bptt.cli import build_parser
    from bptt.cli._args import HelpFormatter

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert set(commands) >= {"train", "sample", "gradcheck", "diagnose", "explain", "export"}
    unexplained = []
    for name, sub in commands.items():
        formatter = HelpFormatter(prog=name)
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            text = formatter._get_help_string(action) or ""
            meaning = (action.help or "").split(" (default")[0].strip()
            if not meaning or not ("default" in text or "required" in text):
                unexplained.append(f"{name} {'/'.join(action.option_strings) or action.metavar}: {text!r}")
            assert "None" not in text % {"default": action.default}, (name, text)
    assert unexplained == []


def test_train_help_says_when_checkpoints_are_written():
    text = " ".join(run("train", "--help").stdout.split())
    assert "checkpoint.npz is replaced" in text and "every --eval-every updates" in text
    assert "not with --epochs" in text
