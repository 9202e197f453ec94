"""docs/tutorial.ipynb: stripped of outputs, its Markdown export in sync, and it runs top to bottom.

The exercises are filled in with the reference solutions (tests/learners/bptt_correct.py, the
file the checker's own tests pass, and HAND for section 6's hand calculation) and every
`bptt.check` report in the notebook must pass; run as shipped, with the exercises unsolved, the
notebook still runs to the end and every report lists its functions as not written yet. Each
section checks something the learner wrote in it, not an earlier section's functions again.
"""

import ast
import base64
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"
MARKDOWN = ROOT / "docs" / "tutorial.md"
SOLUTIONS = ROOT / "tests" / "learners" / "bptt_correct.py"
HAND = {"dW_step3": "np.outer(da3, h2)"}       # section 6: step 3's contribution, dL/da(3) h(2)^T


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
            body = ast.parse(cell.source).body
            names = [n.name for n in body if isinstance(n, ast.FunctionDef)]
            values = [t.id for n in body if isinstance(n, ast.Assign) for t in n.targets]
            cell.source = "\n\n\n".join(["import numpy as np", *helpers, *(defs[n] for n in names),
                                          *(f"{v} = {HAND[v]}" for v in values)])
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


def test_each_section_checks_what_it_asks_the_learner_to_write():
    """A report's check names exactly the functions its own section's exercise defines (or needs for a cache)."""
    nb = read()
    asked, needs = [], {"truncated_backward": {"forward"}}
    for cell in nb.cells:
        if "exercise" in cell.metadata.get("tags", []):
            body = ast.parse(cell.source).body
            asked.append({n.name for n in body if isinstance(n, ast.FunctionDef)}
                         | {t.id for n in body if isinstance(n, ast.Assign) for t in n.targets})
    checked = []
    for cell in nb.cells:
        for line in cell.source.splitlines():
            if line.startswith("report_") and " = " in line:
                call = ast.parse(line.split(" = ", 1)[1]).body[0].value
                arg = call.args[0]
                checked.append({e.id for e in arg.elts} if isinstance(arg, ast.List) else {call.args[2].id})
    assert len(asked) == len(checked) == 7
    seen = set()
    for mine, report in zip(asked, checked):
        new = report - seen - set().union(*(needs.get(n, set()) for n in mine))
        assert new == mine, (mine, report)       # a check of this section's own work, nothing rechecked
        seen |= report


@pytest.mark.slow
def test_unsolved_tutorial_runs_and_names_the_unsolved_functions(monkeypatch):
    nb = read()
    nb.cells.append(nbformat.v4.new_code_cell(
        "print([(n, globals()[n].first, [(f.function, f.status) for f in globals()[n].functions]) "
        f"for n in {reports(nb)!r}])"))
    execute(nb, monkeypatch)
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "('report_dense', None, [('dense_forward', 'not written'), ('dense_backward', 'not written')])" in out
    assert "('report_carry', None, [('forward', 'not written'), ('truncated_backward', 'not written')])" in out
    assert "('report_lag', None, [('clip_gradients', 'not written')])" in out
    assert "('report_explain', None, [('dW by hand', 'not written')])" in out
    assert "('report_lstm', None, [('lstm_cell_step_forward', 'not written'), " \
           "('lstm_cell_step_backward', 'not written')])" in out
