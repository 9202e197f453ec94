"""The layout's promises, checked on the import graph (import-linter, contracts in pyproject.toml):
each level imports only the levels below it (cli, tools, training, diagnostics, data, network; and
inside the network: streams, the network, its stages, loop, cells, the dense and embedding pairs),
the cell-generic modules never reach into a cell's module, and only the PyTorch bridge imports torch."""

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


def _lint_copy_with(monkeypatch, tmp_path, module, line):
    """lint-imports' exit code on a copy of the package with ``line`` appended to ``module``."""
    import shutil
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "bptt", copy / "bptt")
    path = copy / "bptt" / module
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(copy))
    for name in [m for m in list(__import__("sys").modules) if m == "bptt" or m.startswith("bptt.")]:
        monkeypatch.delitem(__import__("sys").modules, name)
    return importlinter_cli.lint_imports(config_filename=str(tmp_path / "pyproject.toml"), no_cache=True)


def test_a_broken_contract_is_caught(monkeypatch, tmp_path):
    """The checker itself: a copy of the package whose training loop imports the RNN cell fails."""
    assert _lint_copy_with(monkeypatch, tmp_path, "train/text.py", "from ..nn.cells.rnn import RNNCell") != 0


@pytest.mark.parametrize("module, line", [
    ("nn/network.py", "from ..train import checkpoint"),            # the network reaching up to training
    ("nn/cells/rnn.py", "from .. import unroll"),                    # a cell reaching up to the loop
    ("nn/stages.py", "from . import network"),                       # the stages reaching up to the network
    ("nn/embedding.py", "from . import stages"),                     # a layer pair reaching up to the stages
    ("diagnose/analysis.py", "from ..explain import terms"),        # a diagnostic reaching up to a tool
    ("train/text.py", "from ..proof import gradcheck"),             # training reaching up to a tool
    ("nn/online.py", "from . import rtrl"),                          # the shared walk reaching up to a method
    ("nn/snap.py", "from . import uoro"),                            # one method leaning on a sibling
])
def test_an_import_against_the_levels_is_caught(monkeypatch, tmp_path, module, line):
    assert _lint_copy_with(monkeypatch, tmp_path, module, line) != 0
