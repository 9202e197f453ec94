"""docs/tutorial.ipynb: stripped of outputs, its Markdown export in sync, and it runs top to bottom.

The exercises are filled in with the reference solutions (tests/learners/bptt_correct.py, the
file the checker's own tests pass) and every `bptt.check` report in the notebook must pass; run
as shipped, with the exercises unsolved, the notebook still runs to the end and every report
names the unsolved function.
"""

import ast
import base64
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"
MARKDOWN = ROOT / "docs" / "tutorial.md"
SOLUTIONS = ROOT / "tests" / "learners" / "bptt_correct.py"


def read():
    return nbformat.read(NOTEBOOK, as_version=4)


def test_markdown_export_is_in_sync():
    assert jupytext.writes(read(), fmt="md") == MARKDOWN.read_text(), \
        "docs/tutorial.md is stale: jupytext --to md docs/tutorial.ipynb -o docs/tutorial.md"


def test_outputs_are_stripped():
    for cell in read().cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def solved(nb):
    source = SOLUTIONS.read_text()
    defs = {n.name: ast.get_source_segment(source, n) for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}
    helpers = [src for name, src in defs.items() if name.startswith("_")]
    for cell in nb.cells:
        if "exercise" in cell.metadata.get("tags", []):
            names = [n.name for n in ast.parse(cell.source).body if isinstance(n, ast.FunctionDef)]
            cell.source = "\n\n\n".join(["import numpy as np", *helpers, *(defs[n] for n in names)])
    return nb


def execute(nb, monkeypatch):
    # The kernel is a child process: it inherits the environment. Jupyter's inline backend draws
    # the figures as PNG outputs; an MPLBACKEND from the shell would replace it.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT / "docs")}})
    client.execute()
    return nb


def reports(nb):
    """The `report_*` names the notebook defines, in order."""
    return [line.split("=")[0].strip() for c in nb.cells if c.cell_type == "code"
            for line in c.source.splitlines() if line.startswith("report_") and " = " in line]


@pytest.mark.slow
def test_tutorial_runs_with_the_reference_solutions(monkeypatch, tmp_path):
    nb = solved(read())
    names = reports(nb)
    assert len(names) == 7                       # one check per section
    nb.cells.append(nbformat.v4.new_code_cell(
        f"failed = [n for n in {names!r} if not globals()[n].passed]\nassert not failed, failed"))
    execute(nb, monkeypatch)
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2                      # the loss curve and the lag profiles
    for k, o in enumerate(images):               # kept for a person to look at
        (tmp_path / f"tutorial_figure_{k}.png").write_bytes(base64.b64decode(o["data"]["image/png"]))
    html = [o for c in nb.cells for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    assert any("bptt-check" in o["data"]["text/html"] for o in html)


@pytest.mark.slow
def test_unsolved_tutorial_runs_and_names_the_unsolved_functions(monkeypatch):
    nb = read()
    nb.cells.append(nbformat.v4.new_code_cell(
        "print([(n, globals()[n].first.function, globals()[n].first.quantity) "
        f"for n in {reports(nb)!r}])"))
    execute(nb, monkeypatch)
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "('report_dense', 'dense_forward', 'exception')" in out
    assert "('report_lstm', 'lstm_cell_step_forward', 'exception')" in out
