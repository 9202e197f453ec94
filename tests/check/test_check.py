"""bptt check: planted classic mistakes are named where they are made; correct files pass; bad input exits 2.

The corpus of learners' own files and notebooks, each with its expected report, is
tests/test_check_corpus.py's.
"""

import ast
import json
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bptt
from bptt.check import CheckInputError
from bptt.check import reference as ref
from bptt.check.report import FIELDS
from bptt.cli import main

LEARNERS = Path(__file__).resolve().parents[1] / "learners"
CORRECT = sorted(LEARNERS.glob("*_correct.py")) + sorted(LEARNERS.glob("**/*_correct.ipynb"))
PLANTED = sorted(p for p in LEARNERS.glob("*.py") if not p.name.endswith("_correct.py") and "EXPECTED = " in p.read_text())


def expected_of(path):
    """The EXPECTED literal a planted file declares (read, not run: the checker is what imports it)."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "EXPECTED":
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path.name} declares no EXPECTED")


def test_the_catalogue_has_at_least_15_planted_mistakes():
    assert len(PLANTED) >= 15
    assert {p.name.split("_")[0] for p in CORRECT} >= {"bptt", "cs231n", "dlai"}


@pytest.mark.parametrize("path", PLANTED, ids=lambda p: p.stem)
def test_planted_mistake_is_named_where_it_is_made(path):
    expected = expected_of(path)
    report = bptt.check(path)
    assert not report.passed
    first = report.first
    assert (first.function, first.step, first.quantity) == (expected["function"], expected["step"], expected["quantity"])
    assert expected["hint"] in first.hint
    for key in ("B", "T"):
        if key in expected:
            assert getattr(first, key) == expected[key]
    assert expected.get("reason", "") in first.reason
    assert first.status == "departs" and first.reason and first.B is not None or first.function == "clip_gradients"
    if first.step is not None:                                    # a step of the case's sequence, counted from 0
        assert 0 <= first.step < first.T
    if first.quantity != "exception" and "shape" not in first.reason:
        assert first.max_abs_error > 1e-3


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: p.stem)
def test_correct_implementation_passes(path):
    report = bptt.check(path)
    assert report.passed, str(report)
    assert report.first is None
    assert len(report.functions) >= 4 and all(f.status == "ok" for f in report.functions)


def test_a_step_mistake_is_named_once_not_in_every_caller():
    """The transposed Wh sits in rnn_step_forward: the step backward that needs its cache is skipped, not blamed."""
    report = bptt.check(LEARNERS / "cs231n_transposed_wh.py")
    assert report.first.function == "rnn_step_forward"
    assert report.status("rnn_step_forward") == "departs"
    assert report.status("rnn_step_backward") == "skipped"  # its cache comes from the wrong forward
    assert "its cache comes from rnn_step_forward, which departs" in report.finding("rnn_step_backward").reason


def test_learner_that_mutates_its_arguments_still_passes():
    ns = runpy.run_path(str(LEARNERS / "cs231n_correct.py"))
    step_backward = ns["lstm_step_backward"]

    def lstm_step_backward(dnext_h, dnext_c, cache):   # correct, but adds into the caller's array
        dnext_c += 0.0 * dnext_h
        return step_backward(dnext_h, dnext_c, cache)
    fns = {k: ns[k] for k in ("lstm_step_forward", "lstm_forward", "lstm_backward")}
    fns["lstm_step_backward"] = lstm_step_backward
    assert bptt.check(fns).passed


def test_check_accepts_a_module_a_dict_and_a_list():
    ns = runpy.run_path(str(LEARNERS / "bptt_correct.py"))
    assert [f.function for f in bptt.check([ns["step_backward"], ns["step_forward"]]).functions] == \
        ["step_forward", "step_backward"]                    # in the convention's order
    assert bptt.check({"forward": ns["forward"]}).passed


def test_json_output_is_exactly_the_documented_object(tmp_path):
    r = subprocess.run([sys.executable, "-m", "bptt", "check", str(LEARNERS / "cs231n_missing_recurrent.py"), "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == {"passed", "convention", "functions", "first", "notes", "error"}
    assert out["passed"] is False and out["convention"] == "cs231n" and out["error"] is None
    assert all(set(f) == set(FIELDS) for f in out["functions"])
    assert {f["function"]: f["status"] for f in out["functions"]}["rnn_backward"] == "departs"
    assert set(out["first"]) == set(FIELDS)
    first = out["first"]
    assert (first["function"], first["status"], first["direction"], first["quantity"], first["step"], first["T"],
            first["B"]) == ("rnn_backward", "departs", "backward", "dL/dh", 3, 5, 3)
    assert first["file"].endswith("cs231n_missing_recurrent.py") and first["line"] == 15
    assert first["source"] == "dx[:, t], dprev, a, b_, c = rnn_step_backward(dh[:, t], cache[t])"
    r = subprocess.run([sys.executable, "-m", "bptt", "check", str(LEARNERS / "dlai_correct.py"), "--json"],
                       capture_output=True, text=True, timeout=120)
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["passed"] is True and out["first"] is None and out["notes"] == []
    assert [(f["function"], f["status"]) for f in out["functions"]] == [
        (n, "ok") for n in ("rnn_cell_forward", "rnn_forward", "lstm_cell_forward", "lstm_forward",
                            "rnn_cell_backward", "rnn_backward", "lstm_cell_backward", "lstm_backward")]
    ok = out["functions"][0]
    assert ok["line"] == 14 and ok["source"].startswith("def rnn_cell_forward") and ok["step"] is None


def test_plain_output_in_a_pipe_is_whole_lines(capsys):
    assert main(["check", str(LEARNERS / "bptt_correct.py")]) == 0
    out = capsys.readouterr().out
    assert "passed: 11 functions agree with the reference" in out.splitlines()
    assert main(["check", str(LEARNERS / "cs231n_wrong_cache.py")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "FIRST DEPARTURE: rnn_backward (backward): dx at t = 4 (book: step 5) off by 0.816 (T=5, B=3)" in lines
    assert "at line 15: dx[:, t], dprev, a, b_, c = rnn_step_backward(dh[:, t] + dprev, cache[t - 1])" in lines
    assert any(line.startswith("hint: step t = 4 used the cache of step t = 3") for line in lines)


def test_html_and_rich_views():
    from rich.console import Console
    report = bptt.check(LEARNERS / "cs231n_tanh_one_minus_h.py")
    html = report._repr_html_()
    assert "rnn_step_backward" in html and "first departure" in html and "1 - next_h" in html
    console = Console(record=True, width=200, force_terminal=False)
    console.print(report)
    assert "rnn_step_backward" in console.export_text()
    console = Console(record=True, width=200, force_terminal=False)
    console.print(bptt.check(LEARNERS / "cs231n_embedding_assign.py"))
    assert "dW[x] = dout" in console.export_text()           # the learner's code, not read as markup


BAD = {
    "missing": (None, "no such file"),
    "not_python.py": ("def f(:\n", "not Python (SyntaxError at line 1"),
    "binary.py": (b"\xff\xfe\x00\x01", "not Python (not UTF-8 text)"),
    "raises.py": ("import numpy\nraise RuntimeError('boom')\n", "defines none of the recognised functions; expected "
                  "at least one of"),
    "raises_note.py": ("import numpy\nraise RuntimeError('boom')\n", "; note: line 2: raise RuntimeError('boom') "
                       "raised RuntimeError: boom"),
    "nothing.py": ("def hello():\n    return 1\n", "defines none of the recognised functions"),
    "not_json.ipynb": ('{"cells": [', "not a notebook (invalid JSON at line 1"),
    "no_cells.ipynb": ("[1, 2]", "not a notebook (JSON without cells)"),
    "arity.py": ("def rnn_step_forward(x, prev_h, Wx, Wh):\n    pass\n", "rnn_step_forward takes 4 positional "
                 "arguments; expected 5: rnn_step_forward(x, prev_h, Wx, Wh, b)"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_one_line_and_exit_2(name, tmp_path, capsys):
    content, message = BAD[name]
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and message in err, err
    with pytest.raises(CheckInputError, match="expected"):
        bptt.check(path)


def test_directory_is_bad_input(tmp_path, capsys):
    assert main(["check", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_lstm_reference_matches_torch_lstm_cell():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    B, I, H = 3, 5, 4
    cell = torch.nn.LSTMCell(I, H).double()
    U, W = cell.weight_ih.detach().numpy(), cell.weight_hh.detach().numpy()
    b = (cell.bias_ih + cell.bias_hh).detach().numpy()
    x, h0, s0 = rng.normal(size=(B, I)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    dh, ds = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    xt, ht, st = (torch.tensor(a, requires_grad=True) for a in (x, h0, s0))
    h_t, s_t = cell(xt, (ht, st))
    ((h_t * torch.tensor(dh)).sum() + (s_t * torch.tensor(ds)).sum()).backward()
    h, s, gates = ref.lstm_step_forward(x, h0, s0, U, W, b)
    r = ref.lstm_step_backward(dh, ds, x, h0, s0, U, W, b)
    close = lambda a, t: np.testing.assert_allclose(a, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    close(h, h_t); close(s, s_t)
    close(r["dx"], xt.grad); close(r["dh_prev"], ht.grad); close(r["ds_prev"], st.grad)
    close(r["dU"], cell.weight_ih.grad); close(r["dW"], cell.weight_hh.grad); close(r["db"], cell.bias_ih.grad)


def test_rnn_reference_errors_are_simple_rnns():
    """The RNN reference is the library's own backward: its errors equal SimpleRNN.backward's."""
    model = bptt.SimpleRNN(5, 4, 3, output="identity", seed=0)
    rng = np.random.default_rng(1)
    x, h0, y = rng.normal(size=(6, 2, 5)), rng.normal(size=(2, 4)), rng.normal(size=(6, 2, 3))
    trace = model.forward(x, h0)
    result = model.backward(trace, y, per_step=True)
    P = model.params
    r = ref.rnn_backward(result.errors["o"] @ P["V"], x, ref.rnn_forward(x, h0, P["U"], P["W"], P["b"]), P["U"], P["W"], P["b"])
    for k in ("h", "a"):
        np.testing.assert_allclose(r["d" + k], result.errors[k], rtol=1e-12)
    np.testing.assert_allclose(r["dW_t"], result.per_step["W"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(r["dU"], result.grads["U"], rtol=1e-12)


def test_single_step_probe_names_a_missing_recurrent_error_no_catalogued_mistake_explains():
    """A backward that scales its own upstream error and sends nothing back matches no catalogued
    mistake; the probe with an upstream error at step 5 alone shows dx(4) stays zero."""
    ns = runpy.run_path(str(LEARNERS / "bptt_correct.py"))
    step_backward = ns["step_backward"]

    def backward(dh, cache):
        T, B, H = dh.shape
        outs = [step_backward(dh[t] * (1 if t == T - 1 else 2), cache[t]) for t in reversed(range(T))][::-1]
        dx = np.stack([o[0] for o in outs])
        return dx, outs[0][1], sum(o[2] for o in outs), sum(o[3] for o in outs), sum(o[4] for o in outs)
    fns = {k: ns[k] for k in ("step_forward", "step_backward", "forward")}
    fns["backward"] = backward
    first = bptt.check(fns).first
    assert (first.function, first.step, first.quantity) == ("backward", 3, "dL/dh")
    assert "with an upstream error at t = 4 only, dx[3] is zero" in first.hint
