"""The layout's promises, checked on the import graph (import-linter, contracts in pyproject.toml):
the cell-generic modules never reach into a cell's module, cells import nothing above them, and
only the PyTorch bridge imports torch."""

import os
from pathlib import Path

import pytest

importlinter_cli = pytest.importorskip("importlinter.cli")

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT / "src"))
    code = importlinter_cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    assert code == 0, "an architecture contract is broken: run `lint-imports` in the project folder"


def test_a_broken_contract_is_caught(monkeypatch, tmp_path):
    """The checker itself: a copy of the package whose training loop imports the RNN cell fails."""
    import shutil
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "bptt", copy / "bptt")
    train = copy / "bptt" / "train.py"
    train.write_text(train.read_text() + "\nfrom .cells.rnn import RNNCell  # noqa\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(copy))
    for name in [m for m in list(__import__("sys").modules) if m == "bptt" or m.startswith("bptt.")]:
        monkeypatch.delitem(__import__("sys").modules, name)
    code = importlinter_cli.lint_imports(config_filename=str(tmp_path / "pyproject.toml"), no_cache=True)
    assert code != 0
