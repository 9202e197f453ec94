"""bptt check on learners' work as they hand it in: tests/learners' templates and notebooks, each with its report.

Every file or notebook with a ``NAME.expected.json`` beside it is checked through the command
line's --json, and its report must be the expected one: the exit code, every function found with
its status (in the convention's order), the first departure, what each departing function says
(its step as the learner's loop counts it, quantity, B, T, the learner's line), and the notes.
The corpus, written for these tests in the styles learners hand in: cs231n's 2016 (Python 2),
2017-2019 and 2020+ templates, finished or midway; deeplearning.ai notebooks with stored outputs
and test cells, with their course helper beside them or missing, and one downloaded as .py; a
Colab notebook.
"""

import json
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bptt
from bptt.check import CheckInputError, by_hand
from bptt.check.conventions import CONVENTIONS
from bptt.check.python2 import convert, python2_signs
from bptt.check.report import FIELDS
from bptt.cli import main

LEARNERS = Path(__file__).resolve().parents[1] / "learners"
EXPECTED = sorted(LEARNERS.glob("**/*.expected.json"))


def item_of(expected_path):
    stem = expected_path.name[: -len(".expected.json")]
    found = [p for p in expected_path.parent.glob(stem + ".*") if p.suffix in (".py", ".ipynb")]
    assert len(found) == 1, expected_path
    return found[0]


def run_json(path, capsys, *extra):
    code = main(["check", str(path), "--json", *extra])
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1, out                       # one JSON object, one line
    return code, json.loads(out), err


def test_the_corpus_covers_the_styles_learners_hand_in():
    names = {str(p.relative_to(LEARNERS)) for p in map(item_of, EXPECTED)}
    assert len(names) >= 12
    assert sum(n.endswith(".ipynb") for n in names) >= 4
    assert any("2016" in n for n in names) and any("2018" in n for n in names) and any("2021" in n for n in names)
    assert any(n.startswith("dlai_no_helpers/") for n in names) and any(n.startswith("dlai_with_helpers/") for n in names)


@pytest.mark.parametrize("expected_path", EXPECTED, ids=lambda p: str(p.relative_to(LEARNERS)).split(".")[0])
def test_learner_file_gets_its_expected_report(expected_path, capsys):
    expected = json.loads(expected_path.read_text())
    path = item_of(expected_path)
    code, report, err = run_json(path, capsys)
    assert code == expected["exit"], report
    assert set(report) == {"passed", "convention", "functions", "first", "notes", "error"}
    assert report["error"] is None and report["passed"] is expected["passed"]
    assert all(set(f) == set(FIELDS) for f in report["functions"])
    # Everything accounted for: every function found, each with its status, in the convention's order.
    assert {f["function"]: f["status"] for f in report["functions"]} == expected["functions"]
    order = [f.name for f in CONVENTIONS[report["convention"]].functions]
    found = [f["function"] for f in report["functions"]]
    assert found == [n for n in order if n in found]
    departs = [f for f in report["functions"] if f["status"] == "departs"]
    assert (report["first"] or {}).get("function") == expected["first"]
    if departs:                                    # the first departure is the first written function that departs
        assert report["first"] == departs[0]
    for f in departs:                              # every departure explained, not only the first
        assert f["reason"] and f["hint"] and f["quantity"] and f["direction"] in ("forward", "backward")
        assert f["file"] and f["line"] and f["source"]
        assert f["B"] is not None
    for f in report["functions"]:
        if f["status"] in ("not written", "skipped"):
            assert f["reason"]
    by_name = {f["function"]: f for f in report["functions"]}
    for name, want in expected.get("details", {}).items():
        got = by_name[name]
        for key, value in want.items():
            if key in ("reason", "hint", "source") and isinstance(value, str):
                assert value in (got[key] or ""), (name, key, got[key])
            else:
                assert got[key] == value, (name, key, got[key])
    for note in expected.get("notes", []):
        assert any(note in n for n in report["notes"]), (note, report["notes"])


def test_unfinished_functions_never_take_the_first_departure(capsys):
    """word_embedding_* come before lstm_step_forward in cs231n's order and are still starter code."""
    code, report, _ = run_json(LEARNERS / "cs231n_2018_lstm_in_progress.py", capsys)
    statuses = [f["status"] for f in report["functions"]]
    assert statuses.index("not written") < statuses.index("departs")
    assert report["first"]["function"] == "lstm_step_forward"


def test_a_notebook_is_read_as_a_notebook_not_as_python(capsys):
    code, report, _ = run_json(LEARNERS / "dlai_with_helpers" / "rnn_step_by_step_correct.ipynb", capsys)
    assert code == 0 and report["convention"] == "dlai"
    first = report["functions"][0]
    assert first["file"].endswith("rnn_step_by_step_correct.ipynb, cell 6") and first["line"] == 4
    assert first["source"] == "def rnn_cell_forward(xt, a_prev, parameters):"


def test_plain_report_of_a_notebook_with_two_departures(capsys):
    assert main(["check", str(LEARNERS / "dlai_with_helpers" / "rnn_step_by_step.ipynb")]) == 1
    lines = capsys.readouterr().out.splitlines()
    at = lines.index("  rnn_forward: departs (forward, a at t = 0 (book: step 1), T=5, B=3)")
    assert lines[at + 1:at + 3] == ["      a[:, :, 0] differs from the reference by up to 1.19",
                                    "      cell 9, line 18: a[:, :, t] = a_next"]
    assert "      cell 19, line 14: da_prev = np.dot(Waa, dtanh)" in lines
    assert "  lstm_backward: not written - it still has the starter code's placeholders, which raise" in lines
    assert "not passed: 2 ok, 2 departs, 3 not written yet, 1 skipped" in lines


# ---------------------------------------------------------------------------------- refusals
def test_python2_beyond_conversion_is_refused_in_one_line_naming_2to3(capsys):
    path = LEARNERS / "cs231n_2016_python2_raise.py"
    assert main(["check", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "Python 2 (" in err and f"`2to3 -w {path}`" in err and "raise E, message" in err
    code, report, err = run_json(path, capsys)
    assert code == 2 and report == {"passed": False, "convention": None, "functions": [], "first": None,
                                    "notes": [], "error": report["error"]}
    assert f"`2to3 -w {path}`" in report["error"] and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args, message", [
    (["missing.py"], "no such file"),
    (["{dir}"], "is a directory"),
    (["{nothing}"], "defines none of the recognised functions"),
    (["{nothing}", "--convention", "keras"], "--convention: expected one of bptt, cs231n, dlai, got 'keras'"),
    ([], "FILE: expected the .py file or .ipynb notebook to check, got none"),
])
def test_json_prints_one_object_also_for_a_refusal(args, message, tmp_path, capsys):
    (tmp_path / "nothing.py").write_text("def hello():\n    return 1\n")
    args = [a.format(dir=tmp_path, nothing=tmp_path / "nothing.py") for a in args]
    code = main(["check", *args, "--json"])
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1
    report = json.loads(out)
    assert code == 2 and message in report["error"] and report["functions"] == [] and report["passed"] is False
    assert len(err.strip().splitlines()) == 1 and message in err
    assert main(["check", *args]) == 2                          # without --json: the line alone
    out, err = capsys.readouterr()
    assert out == "" and message in err and len(err.strip().splitlines()) == 1


def test_json_refusal_through_the_real_command(tmp_path):
    r = subprocess.run([sys.executable, "-m", "bptt", "check", str(tmp_path / "gone.ipynb"), "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and json.loads(r.stdout)["error"].endswith(
        "no such file; expected a Python file or a Jupyter notebook defining the functions to check")


def test_a_missing_module_is_named_when_nothing_can_be_checked(tmp_path):
    path = tmp_path / "uses_helpers.py"
    path.write_text("from my_rnn_helpers import *\n\nprint(rnn_forward)\n")
    with pytest.raises(CheckInputError, match=r"defines none of the recognised functions.*note: line 1: module "
                                              r"my_rnn_helpers is not there \(from my_rnn_helpers import \*\)"):
        bptt.check(path)


# ----------------------------------------------------------------------------- Python 2 text
def test_python2_print_statements_and_xrange_convert_on_the_same_lines():
    source = ("def f(x):\n  for i in xrange(3):\n    print i, x\n  if x: print 'dx_flat: ', x\n  print\n"
              "  print >>sys.stderr, 'err', x\n  print x,\n  print(x)\n  try:\n    pass\n  except ValueError, e:\n"
              "    print e\n  return x\n")
    out, changed = convert(source)
    assert changed == ["except E, e", "print statements", "xrange"]
    assert len(out.splitlines()) == len(source.splitlines())
    compile(out, "converted", "exec")
    lines = out.splitlines()
    assert lines[1] == "  for i in range(3):" and lines[7] == "  print(x)" and lines[10] == "  except ValueError as e:"
    assert lines[4] == "  print()" and "end=' '" in lines[6] and "file=sys . stderr" in lines[5]
    assert python2_signs(out) == [] and "raise E, message" in python2_signs("raise ValueError, 'x'\n")


# ---------------------------------------------------------------------------- globals(), dicts
def test_functions_from_a_dict_name_their_file_and_line(tmp_path):
    """bptt.check(globals()) in a notebook: the functions' own files say where they raised."""
    path = tmp_path / "cell.py"
    path.write_text("import numpy as np\n\n\ndef rnn_step_forward(x, prev_h, Wx, Wh, b):\n"
                    "    z = x @ Wh + prev_h @ Wx + b\n    return np.tanh(z), None\n")
    report = bptt.check(runpy.run_path(str(path)))
    f = report.first
    assert (f.function, f.quantity, f.line, f.source) == ("rnn_step_forward", "exception", 5,
                                                          "z = x @ Wh + prev_h @ Wx + b")
    assert f.file == str(path)


@pytest.mark.slow
def test_check_globals_inside_a_notebook_keeps_working(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    folder = LEARNERS / "dlai_with_helpers"
    nb = nbformat.read(folder / "rnn_step_by_step.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import bptt\nr = bptt.check(globals())\n"
        "print(r.first.function, r.first.step, r.first.file, r.first.line, r.first.source)\n"
        "print(sorted((f.function, f.status) for f in r.functions))"))
    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("PYTHONPATH", str(root / "src"))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(folder)}}).execute()
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "rnn_forward 0 Cell In[5] 18 a[:, :, t] = a_next" in out, out      # as IPython names the cell
    assert "('lstm_backward', 'not written')" in out and "('rnn_cell_backward', 'departs')" in out


# ------------------------------------------------------------------------ the hand calculation
def test_by_hand_checks_a_contribution_read_off_the_explain_page():
    page = bptt.explain(bptt.SimpleRNN(8, 6, 8, seed=0), "hello world hello")
    da, h = np.array(page.data["errors"]["a"]), np.array(page.data["h"])
    dh = np.array(page.data["errors"]["h"])
    assert by_hand(page, 3, np.outer(da[2], h[1])).passed
    slips = {"wrong way round": np.outer(h[1], da[2]), "h(3) stands where h(2)": np.outer(da[2], h[2]),
             "dL/dh(3) stands where dL/da(3)": np.outer(dh[2], h[1]), "step 4's contribution": np.outer(da[3], h[2])}
    for words, value in slips.items():
        report = by_hand(page, 3, value)
        assert not report.passed and words in report.first.hint, (words, report.first.hint)
    assert by_hand(page, 3, None).functions[0].status == "not written"
    with pytest.raises(CheckInputError, match=r"step: expected a step of the page, 1 to 16"):
        by_hand(page, 0, np.zeros((6, 6)))


def test_a_helper_beside_one_notebook_is_not_lent_to_the_next():
    """rnn_utils.py beside one notebook, imported while it is checked, is not there for a notebook without it."""
    assert bptt.check(LEARNERS / "dlai_with_helpers" / "rnn_step_by_step_correct.ipynb").passed
    report = bptt.check(LEARNERS / "dlai_no_helpers" / "rnn_step_by_step.ipynb")
    assert report.status("rnn_cell_forward") == "skipped"
    assert any("module rnn_utils is not there" in n for n in report.notes)


def test_a_notebook_cell_that_is_not_python_is_a_note(tmp_path):
    """A cell with a syntax error, a %%bash cell and IPython's magics: noted or left out, the rest checked."""
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# My RNN"]},
             {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": ["%matplotlib inline\n", "import numpy as np\n", "!pip list | grep numpy"]},
             {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": "def half_written(x:\n    pass\n"},
             {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": ["%%bash\n", "ls\n"]},
             {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": ["def rnn_step_forward(x, prev_h, Wx, Wh, b):\n",
                         "    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)\n",
                         "    return next_h, (x, prev_h, Wx, Wh, next_h)\n"]}]
    path = tmp_path / "mine.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    report = bptt.check(path)
    assert report.passed and [f.function for f in report.functions] == ["rnn_step_forward"]
    assert report.functions[0].file == f"{path}, cell 5" and report.functions[0].line == 1
    assert report.notes == ["cell 3: not run (SyntaxError at line 1: '(' was never closed)",
                            "cell 4: a %%bash cell, not Python: not run"]
