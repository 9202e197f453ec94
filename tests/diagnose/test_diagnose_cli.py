"""`bptt diagnose`: files written, run folders with metrics, one-line errors with exit code 2."""

import json
from pathlib import Path

import numpy as np
import pytest

from bptt import SimpleRNN, checkpoint
from bptt.cli import main
from bptt.data import Vocab
from bptt.diagnose import training_metrics

TEXT = "the cat sat on the mat and the dog sat on the log; " * 8
SMALL = ["--length", "12", "--batch", "2", "--hidden", "8"]
PICTURES = ("lag.png", "heatmap.png", "contributions.png")


def no_nan(text):
    def refuse(name):
        raise AssertionError(f"{name} in JSON")
    return json.loads(text, parse_constant=refuse)


def saved_model(folder, chars="".join(sorted(set(TEXT))), vocab=True, output="softmax"):
    model = SimpleRNN(len(chars), 6, len(chars), output=output, seed=1)
    return checkpoint.save(folder / "checkpoint.npz", model, vocab=Vocab(chars) if vocab else None)


def test_random_model_on_the_default_corpus(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["diagnose", *SMALL, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for name in ("diagnostics.json", *PICTURES):
        assert (out / name).stat().st_size > 0 and name in printed
    report = no_nan((out / "diagnostics.json").read_text())
    assert report["data"] == {"text": "the default corpus", "T": 12, "B": 2}
    profile = report["profile"]
    assert len(profile["norms"]) == 12 and profile["norms"][0][1] is None
    assert profile["ratio"][0] == 1.0 and len(profile["contribution"]) == 12
    assert [s["target_radius"] for s in report["sweep"]] == [0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0]
    assert all(s["radius"] == pytest.approx(s["target_radius"]) for s in report["sweep"])
    assert "this model" in printed and "lag 10" in printed


def test_checkpoint_on_a_text_string(tmp_path, capsys):
    path = saved_model(tmp_path / "run")
    out = tmp_path / "out"
    assert main(["diagnose", str(path), "--text", TEXT, *SMALL[:4], "--out", str(out)]) == 0
    report = no_nan((out / "diagnostics.json").read_text())
    assert report["model"]["n_hidden"] == 6 and "checkpoint" in report["model"]["source"]
    assert report["data"]["text"] == "the --text string"


def test_run_folder_plots_training_metrics(tmp_path, capsys):
    run = tmp_path / "run"
    saved_model(run)
    # a metrics.jsonl as the trainer writes it: loss lines and, every few updates, diagnostics
    model, rng = SimpleRNN(5, 6, 5, seed=0), np.random.default_rng(0)
    lines = []
    for step in range(1, 13):
        lines.append({"step": step, "loss": 3.0 / step})
        if step % 3 == 0:
            x = rng.integers(0, 5, (20, 3))
            grads = model.gradients(x, np.roll(x, -1, 0)).grads
            before = {k: v.copy() for k, v in model.params.items()}
            model.set_params({k: model.params[k] - 0.5 * grads[k] for k in grads})
            lines.append({"step": step, **training_metrics(model, x, np.roll(x, -1, 0), None, grads,
                                                           before, clipped=step % 2 == 0)})
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    out = tmp_path / "out"
    assert main(["diagnose", str(run), "--text", TEXT, *SMALL[:4], "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert (out / "training.png").stat().st_size > 0 and "4 diagnostics records" in printed
    assert all((out / name).is_file() for name in PICTURES)


def test_run_folder_with_metrics_only(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text('{"step": 1, "loss": 2.0}\n')
    assert main(["diagnose", str(run), "--out", str(tmp_path / "out")]) == 0
    assert "no diagnostics records" in capsys.readouterr().out
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("make_args,flag", [
    (lambda p: [str(p / "junk.npz")], "CHECKPOINT"),                                  # not a checkpoint
    (lambda p: [str(p / "missing.npz")], "CHECKPOINT"),
    (lambda p: [str(saved_model(p / "r", chars="abc"))], "--text"),                  # characters it lacks
    (lambda p: [str(saved_model(p / "r", vocab=False))], "CHECKPOINT"),
    (lambda p: [str(saved_model(p / "r", output="identity"))], "CHECKPOINT"),
    (lambda p: ["--length", "1"], "--length"),
    (lambda p: ["--length", "ten"], "--length"),
    (lambda p: ["--text", "short text", "--length", "50"], "--length"),
    (lambda p: ["--batch", "0"], "--batch"),
    (lambda p: ["--text", str(p / "binary.txt")], "--text"),
    (lambda p: [str(p / "badrun")], "metrics.jsonl"),
    (lambda p: ["--out", str(p / "junk.npz")], "--out"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, make_args, flag):
    (tmp_path / "junk.npz").write_text("not a checkpoint")
    (tmp_path / "binary.txt").write_bytes(b"ab\x00cd" * 100)
    (tmp_path / "badrun").mkdir()
    (tmp_path / "badrun" / "metrics.jsonl").write_text('{"step": 1}\n{oops\n')
    args = make_args(tmp_path)
    if "--out" not in args:
        args += ["--out", str(tmp_path / "out")]
    assert main(["diagnose", *args, *SMALL[4:]]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bptt: error:") and err.count("\n") == 0 and flag in err, err
    assert "Traceback" not in err


def test_out_is_required(capsys):
    assert main(["diagnose"]) == 2
    assert "--out" in capsys.readouterr().err


def test_a_random_models_flag_beside_a_checkpoint_is_refused_not_dropped(tmp_path, capsys):
    path = saved_model(tmp_path / "run")                       # H = 6
    for flag, value in (("--hidden", "8"), ("--cell", "lstm"), ("--layers", "2")):
        assert main(["diagnose", str(path), "--text", TEXT, "--length", "12", "--batch", "2", flag, value,
                     "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"bptt: error: {flag}: expected no {flag} with CHECKPOINT") and err.endswith(value)
    assert not (tmp_path / "out").exists()


@pytest.fixture
def drawn(monkeypatch):
    """{file name: every text of the picture (titles, axis labels, legend)}, as each PNG is saved."""
    from bptt.diagnose import plots
    texts, save = {}, plots._save

    def record(fig, path):
        words = [fig._suptitle.get_text() if fig._suptitle else ""]
        for ax in fig.axes:
            words += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel(), *(t.get_text() for t in ax.texts)]
            if ax.get_legend():
                words += [t.get_text() for t in ax.get_legend().get_texts()]
        texts[Path(path).name] = "\n".join(words)
        return save(fig, path)

    monkeypatch.setattr(plots, "_save", record)
    return texts


def test_a_stacks_pictures_say_which_layer_they_show(tmp_path, capsys, drawn):
    """The errors followed reach the top layer's h(k), through its own W_l1 alone: every picture
    and the report say so, and the radius and Pascanu's bound are named as W_l1's."""
    out = tmp_path / "out"
    assert main(["diagnose", *SMALL, "--layers", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for name in PICTURES:
        assert "layer 1, the top of 2" in drawn[name], (name, drawn[name])
    assert "W_l1" in drawn["lag.png"] and "W_l1" in drawn["heatmap.png"] and "W_l1" in drawn["contributions.png"]
    report = no_nan((out / "diagnostics.json").read_text())
    assert report["profile"]["layer"] == 1 and report["profile"]["W"] == "W_l1" and report["sweep"] is None
    assert "no radius sweep for a stack of 2 layers" in printed and "of W_l1, the top layer's (layer 1)" in printed
    # One layer: the pictures name no layer.
    assert main(["diagnose", *SMALL, "--out", str(tmp_path / "one")]) == 0
    assert "layer" not in drawn["lag.png"] and "W_l1" not in drawn["heatmap.png"]
    report = no_nan((tmp_path / "one" / "diagnostics.json").read_text())
    assert report["profile"]["layer"] == 0 and report["profile"]["W"] == "W"


def test_a_stack_drawn_beside_a_gated_model_gets_only_what_applies(tmp_path, capsys, drawn):
    """A 2-layer LSTM gets no radius or bound (no square W); the 2-layer simple RNN drawn beside it
    gets no sweep, and its radius and bound are named as its top layer's W_l1."""
    out = tmp_path / "out"
    assert main(["diagnose", *SMALL, "--cell", "lstm", "--layers", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    report = no_nan((out / "diagnostics.json").read_text())
    assert report["sweep"] is None and report["profile"]["W"] is None and report["profile"]["radius"] is None
    beside = report["beside"]
    assert beside["layers"] == 2 and "sweep" not in beside
    assert beside["profile"]["W"] == "W_l1" and beside["profile"]["layer"] == 1
    assert beside["profile"]["vanishing_bound"] is not None
    rows = {" ".join(line.split()[:2]): line for line in printed.splitlines()
            if line.startswith(("this model ", "random SimpleRNN "))}
    assert "W_l1" in rows["random SimpleRNN"] and "not applicable (lstm)" in rows["this model"]
    assert "random SimpleRNN (seed 0): no radius sweep for a stack of 2 layers" in printed
    assert "of W_l1, the top layer's (layer 1)" in printed and "not applicable to the lstm cell" in printed
    assert printed.count("rescaled") == 0
    assert "layer 1, the top of 2" in drawn["beside.png"]


def test_a_bidirectional_checkpoint_is_measured_per_direction(tmp_path, capsys, drawn):
    """Both directions' numbers in diagnostics.json, equal to lag_profile's on the same windows;
    the reverse one reaches h_reverse(k) for k >= t; two curves in lag.png; each direction's
    heatmap and contributions; no sweep; a random model's --bidirectional refused beside it."""
    from bptt import lag_profile
    from bptt.cli.diagnose import _windows
    chars = "".join(sorted(set(TEXT)))
    model = SimpleRNN(len(chars), 6, len(chars), bidirectional=True, seed=1)
    path = checkpoint.save(tmp_path / "bi.npz", model, vocab=Vocab(chars))
    out = tmp_path / "out"
    assert main(["diagnose", str(path), "--text", TEXT, *SMALL[:4], "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for name in ("diagnostics.json", *PICTURES, "heatmap_reverse.png", "contributions_reverse.png"):
        assert (out / name).stat().st_size > 0 and name in printed
    report = no_nan((out / "diagnostics.json").read_text())
    assert report["model"]["bidirectional"] is True and report["sweep"] is None and "beside" not in report
    x, y = _windows(TEXT, "the --text string", Vocab(chars), 12, 2)
    for key, direction, W in [("profile", "forward", "W"), ("profile_reverse", "reverse", "W_reverse")]:
        entry = report[key]
        assert entry["direction"] == direction and entry["W"] == W and entry["layer"] == 0
        expected = lag_profile(model, x, y, direction=direction)
        norms = np.array([[np.nan if v is None else v for v in row] for row in entry["norms"]])
        np.testing.assert_allclose(norms, expected.norms, rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(entry["ratio"], expected.ratio, rtol=1e-12)
        np.testing.assert_allclose(entry["contribution"], expected.contribution, rtol=1e-12)
        assert entry["radius"] == pytest.approx(expected.radius, rel=1e-12)
    forward, reverse = report["profile"]["norms"], report["profile_reverse"]["norms"]
    assert forward[0][1] is None and forward[1][0] is not None           # h_forward(k), k <= t
    assert reverse[1][0] is None and reverse[0][1] is not None           # h_reverse(k), k >= t
    assert report["profile_reverse"]["contribution"][-1] == 0.0          # h_reverse(T-1) reads h0 = 0
    assert "forward direction: h_forward(t - lag)" in drawn["lag.png"]
    assert "reverse direction: h_reverse(t + lag)" in drawn["lag.png"] and "W_reverse" in drawn["lag.png"]
    assert "h_reverse(k), k >= t" in drawn["heatmap_reverse.png"] and "W_reverse" in drawn["heatmap_reverse.png"]
    assert "h_reverse(k)" not in drawn["heatmap.png"] and "W_reverse" in drawn["contributions_reverse.png"]
    rows = [line for line in printed.splitlines() if line.startswith("this model, ")]
    assert [r.split()[2] for r in rows] == ["forward", "reverse"] and rows[1].split()[3] == "W_reverse"
    assert "no radius sweep for a bidirectional model" in printed
    assert main(["diagnose", str(path), "--text", TEXT, "--bidirectional", "--out", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err.startswith("bptt: error: --bidirectional: expected no --bidirectional with CHECKPOINT")


def test_a_random_bidirectional_gated_model_gets_a_bidirectional_rnn_beside_it(tmp_path, capsys, drawn):
    out = tmp_path / "out"
    assert main(["diagnose", *SMALL, "--cell", "gru", "--bidirectional", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    report = no_nan((out / "diagnostics.json").read_text())
    beside = report["beside"]
    assert beside["cell"] == "rnn" and beside["bidirectional"] is True
    assert beside["profile"]["W"] == "W" and beside["profile_reverse"]["W"] == "W_reverse"
    assert "norms" not in beside["profile_reverse"] and report["profile_reverse"]["radius"] is None
    legend = drawn["beside.png"]
    assert legend.count("h_reverse(t + lag)") >= 2 and legend.count("h_forward(t - lag)") == 2
    assert "random SimpleRNN (seed 0), reverse" in printed and "random GRU (seed 0), reverse" not in printed
    assert "this model, reverse" in printed
    # Nothing beside a simple RNN: it has the one square W (the cell's vanishing_bound) the baseline is chosen for.
    from bptt import LSTM
    from bptt.cli.diagnose import _beside
    assert _beside(None, SimpleRNN(3, 4, 3, bidirectional=True), None, 0, checkpoint) is None
    assert _beside(None, LSTM(3, 4, 3), None, 0, checkpoint)[1].cell.name == "rnn"
