"""`bptt explain`: the page's embedded JSON against the library, and bad input at the CLI."""

import json
import re

import numpy as np
import pytest

import bptt
from bptt import checkpoint
from bptt.cli import main
from bptt.data import Vocab
from bptt.explain import MAX_CHARS, MAX_UNITS
from bptt.explain.terms import VIEWS
from cells import CELLS

TEXT = "hello world hello"


def page_data(html):
    m = re.search(r'<script type="application/json" id="bptt-data">(.*?)</script>', html, re.S)
    assert m, "no embedded bptt-data JSON"
    return json.loads(m.group(1))


def reference(model, text, vocab=None):
    vocab = vocab or Vocab.from_text(text)
    ids = vocab.encode(text)
    x, y = ids[:-1, None], ids[1:, None]
    trace = model.forward(x)
    return ids, trace, model.backward(trace, y, per_step=True)


def close(got, want):
    np.testing.assert_allclose(np.asarray(got, dtype=float), want, rtol=1e-12, atol=1e-15)


def test_page_json_is_the_library_forward_and_backward(tmp_path):
    model = bptt.SimpleRNN(8, 6, 8, seed=3)
    path = bptt.explain(model, TEXT, lr=0.2).save(tmp_path / "page.html")
    html = path.read_text(encoding="utf-8")
    d = page_data(html)
    ids, trace, res = reference(model, TEXT)
    assert d["text"] == TEXT and d["vocab"] == Vocab.from_text(TEXT).chars
    assert d["x"] == ids[:-1].tolist() and d["y"] == ids[1:].tolist()
    for k, v in model.params.items():
        close(d["params"][k], v)
        close(d["grads"][k], res.grads[k])
        close(d["per_step"][k], res.per_step[k])
        close(np.sum(d["per_step"][k], axis=0), res.grads[k])          # the sum the page shows
    close(d["a"], trace.a[:, 0]); close(d["h"], trace.h[:, 0])
    close(d["o"], trace.o[:, 0]); close(d["yhat"], trace.yhat[:, 0])
    assert d["loss"] == pytest.approx(res.loss, rel=1e-14)
    close(d["losses"], res.losses[:, 0])
    for k in ("o", "h", "a"):
        close(d["errors"][k], res.errors[k][:, 0])
    # The terms the side panel substitutes add up to what they explain.
    t = d["terms"]
    close(np.add(np.add(t["Ux"], t["Wh"]), d["params"]["b"]), trace.a[:, 0])
    close(np.add(t["Vdo"], t["Wda"]), res.errors["h"][:, 0])
    close(np.multiply(t["fprime"], d["errors"]["h"]), res.errors["a"][:, 0])
    # The update stage's losses are the library's loss after one step at each offered rate.
    assert 0.2 in d["update"]["lrs"] and d["update"]["lr"] == 0.2
    for lr, after in zip(d["update"]["lrs"], d["update"]["loss_after"]):
        stepped = model.copy()
        stepped.set_params({k: v - lr * res.grads[k] for k, v in model.params.items()})
        assert after == pytest.approx(stepped.loss(ids[:-1, None], ids[1:, None]), rel=1e-12)
    # Self-contained: nothing fetched from anywhere.
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:|//)', html)
    assert "@import" not in html and "url(http" not in html


def test_lag_norms_are_the_lag_profile_and_start_at_each_steps_own_error():
    model = bptt.SimpleRNN(8, 5, 8, seed=1)
    ids, trace, res = reference(model, TEXT)
    profile = bptt.lag_profile(model, ids[:-1, None], ids[1:, None])
    d = bptt.explain(model, TEXT).data
    T = len(ids) - 1
    own = np.linalg.norm(res.errors["o"][:, 0] @ model.params["V"], axis=-1)   # ||V^T dL(t)/do(t)||
    for t in range(T):
        assert d["lag"]["norms"][t][t] == pytest.approx(own[t], rel=1e-12)
        for k in range(T):
            got = d["lag"]["norms"][t][k]
            assert (got is None) if k > t else got == pytest.approx(profile.norms[t, k], rel=1e-12)
    assert d["lag"]["by_lag"][0] == pytest.approx(np.diag(profile.norms).mean())


def test_large_model_is_sliced_not_recomputed():
    text = "ABCAB"
    vocab = Vocab("".join(chr(c) for c in range(33, 33 + 40)))          # O = 40 > MAX_UNITS
    model = bptt.SimpleRNN(40, 24, 40, seed=0)
    d = bptt.explain(model, text, vocab=vocab).data
    ids, trace, res = reference(model, text, vocab)
    hi, oi = np.arange(MAX_UNITS), np.array(sorted(set(ids.tolist())))
    assert d["hidden_units"] == hi.tolist() and d["output_units"] == oi.tolist()
    close(d["h"], trace.h[:, 0, :MAX_UNITS])
    close(d["params"]["W"], model.params["W"][np.ix_(hi, hi)])
    close(d["per_step"]["V"], res.per_step["V"][:, oi][:, :, hi])
    close(d["terms"]["Wh"], (trace.hs[:-1, 0] @ model.params["W"].T)[:, hi])   # from all 24 units
    close(d["yhat"], trace.yhat[:, 0])


def test_script_end_tags_in_the_text_cannot_break_the_page():
    text = "</script><b>&"
    model = bptt.SimpleRNN(len(Vocab.from_text(text)), 4, len(Vocab.from_text(text)), seed=0)
    html = bptt.explain(model, text).html
    assert page_data(html)["text"] == text
    assert html.count("</script>") == 2


def test_repr_html_is_an_isolated_frame():
    model = bptt.SimpleRNN(4, 3, 4, seed=0)
    frame = bptt.explain(model, "abcd")._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and "bptt-data" in frame


def test_cli_writes_the_page(tmp_path, capsys):
    out = tmp_path / "e.html"
    assert main(["explain", "--text", "abcabc", "--hidden", "5", "--seed", "7", "--out", str(out)]) == 0
    msg = capsys.readouterr().out
    assert "seed=7" in msg and str(out) in msg
    d = page_data(out.read_text(encoding="utf-8"))
    assert d["model"]["seed"] == 7 and d["model"]["n_hidden"] == 5


def test_cli_with_a_checkpoint(tmp_path, capsys):
    vocab = Vocab.from_text("the quick brown fox")
    model = bptt.SimpleRNN(len(vocab), 6, len(vocab), seed=2)
    ck = checkpoint.save(tmp_path / "run" / "checkpoint.npz", model, vocab=vocab)
    out = tmp_path / "e.html"
    assert main(["explain", str(tmp_path / "run"), "--text", "the fox", "--out", str(out)]) == 0
    d = page_data(out.read_text(encoding="utf-8"))
    assert d["vocab"] == vocab.chars and d["model"]["source"] == str(ck)
    close(d["params"]["W"], model.params["W"])


@pytest.fixture
def not_a_checkpoint(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello")
    return p


@pytest.fixture
def vocab_checkpoint(tmp_path):
    vocab = Vocab("abc")
    return checkpoint.save(tmp_path / "c.npz", bptt.SimpleRNN(3, 4, 3, seed=0), vocab=vocab)


@pytest.mark.parametrize("case,argv,needles", [
    ("empty", ["--text", ""], ["--text", "2 to 17 characters", "empty string"]),
    ("one char", ["--text", "a"], ["--text", "2 to 17", "1 character"]),
    ("too long", ["--text", "x" * (MAX_CHARS + 1)], ["--text", "2 to 17", f"{MAX_CHARS + 1} characters"]),
    ("not a checkpoint", ["{bad}", "--text", "ab"], ["CHECKPOINT", "notes.txt", "expected a bptt checkpoint"]),
    ("missing checkpoint", ["{missing}", "--text", "ab"], ["CHECKPOINT", "does not exist"]),
    ("unknown characters", ["{ckpt}", "--text", "abz!"], ["--text", "of the model's vocabulary", "'!z'"]),
    ("bad lr", ["--lr", "-1"], ["--lr", "positive"]),
])
def test_bad_input_is_one_line_and_exit_2(case, argv, needles, not_a_checkpoint, vocab_checkpoint, tmp_path, capsys):
    subs = {"{bad}": str(not_a_checkpoint), "{missing}": str(tmp_path / "nope.npz"), "{ckpt}": str(vocab_checkpoint)}
    argv = [subs.get(a, a) for a in argv]
    assert main(["explain", *argv, "--out", str(tmp_path / "out.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bptt: error:") and err.count("\n") == 0 and "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)
    assert not (tmp_path / "out.html").exists()


def test_library_rejects_bad_text_and_mismatched_model():
    model = bptt.SimpleRNN(4, 3, 4, seed=0)
    with pytest.raises(ValueError, match=r"^text: expected 2 to 17"):
        bptt.explain(model, "")
    with pytest.raises(ValueError, match=r"^vocab: expected the model's vocabulary of 4 characters"):
        bptt.explain(model, "abcde")                     # 5 characters, n_in = 4
    with pytest.raises(ValueError, match=r"^model: expected a character model"):
        bptt.explain(model, "abcde", vocab=Vocab("abcde"))


def test_the_library_takes_a_run_folder_or_a_checkpoint_path(tmp_path):
    vocab = Vocab.from_text("the quick brown fox")
    model = bptt.SimpleRNN(len(vocab), 6, len(vocab), seed=2)
    path = checkpoint.save(tmp_path / "run" / "checkpoint.npz", model, vocab=vocab)
    for given in (tmp_path / "run", str(path)):
        d = bptt.explain(given, "the fox").data
        assert d["vocab"] == vocab.chars and d["model"]["source"] == str(path)
        close(d["params"]["W"], model.params["W"])
    # The trained model alone does not carry its vocabulary: the error says which one it needs.
    with pytest.raises(ValueError, match=rf"^vocab: expected the model's vocabulary of {len(vocab)} characters"):
        bptt.explain(model, "the fox")
    assert bptt.explain(model, "the fox", vocab=vocab).data["vocab"] == vocab.chars
    with pytest.raises(FileNotFoundError, match=r"^model: expected a checkpoint file or run folder"):
        bptt.explain(tmp_path / "nowhere", "the fox")


def test_the_plain_repr_is_one_line():
    page = bptt.explain(bptt.SimpleRNN(4, 3, 4, seed=0), "abcdab")
    text = repr(page)
    assert "\n" not in text and len(text) < 200 and "'abcdab'" in text and "5 steps" in text


# ------------------------------------------------------------------ gated cells and stacks
def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def after(arr):
    """arr[t+1] at row t, zeros at the last step."""
    out = np.zeros_like(arr)
    out[:-1] = arr[1:]
    return out


@pytest.mark.parametrize("cell,layers", [("lstm", 1), ("gru", 1), ("lstm", 2), ("gru", 3), ("rnn", 2)])
def test_every_layer_of_a_gated_or_stacked_page_is_the_library_forward_and_backward(cell, layers):
    model = bptt.Network.create(cell, 8, 5, 8, layers=layers, seed=4)
    d = bptt.explain(model, TEXT).data
    ids, trace, res = reference(model, TEXT)
    p, H = model.params, model.n_hidden
    assert d["model"]["cell"] == cell and d["model"]["layers"] == layers and len(d["layers"]) == layers
    for k, v in p.items():
        close(d["params"][k], v)
        close(d["grads"][k], res.grads[k])
        close(d["per_step"][k], res.per_step[k])
        close(np.sum(d["per_step"][k], axis=0), res.grads[k])
    close(d["yhat"], trace.yhat[:, 0]); close(d["errors"]["o"], res.errors["o"][:, 0])
    assert d["loss"] == pytest.approx(res.loss, rel=1e-14)
    for layer, (lt, errs, L) in enumerate(zip(trace.layers, res.layer_errors, d["layers"])):
        s = "" if layer == 0 else f"_l{layer}"
        for name, states in lt.states.items():
            close(L[name + "0"], states[0, 0]); close(L[name], states[1:, 0])
        for name, kept in lt.keeps.items():
            close(L[name], kept[:, 0])
        assert set(L["errors"]) == set(errs) - {"o"}
        for name in L["errors"]:
            close(L["errors"][name], errs[name][:, 0])
        # What each equation on the panel substitutes, against the library's own arrays ...
        t = {k: np.asarray(v) for k, v in L["terms"].items()}
        x = trace.x if layer == 0 else trace.layers[layer - 1].states["h"][1:]
        h_prev, rec = lt.states["h"][:-1, 0], errs[model.cell.errors[-1]][:, 0]
        Ux = p["U" + s].T[x[:, 0]] if x.ndim == 2 else x[:, 0] @ p["U" + s].T
        close(t["Ux"], Ux); close(t["Wh"], h_prev @ p["W" + s].T)
        close(t["Wda"], after(rec) @ p["W" + s])
        out = t["Vdo"] if layer == layers - 1 else t["Uda"]
        if layer == layers - 1:
            close(out, res.errors["o"][:, 0] @ p["V"])
        else:
            close(out, res.layer_errors[layer + 1]["a"][:, 0] @ p[f"U_l{layer + 1}"])
        # ... and the terms of each equation add (or multiply) up to what forward and backward computed.
        dh, da = errs["h"][:, 0], errs["a"][:, 0]
        if cell == "rnn":
            close(t["Ux"] + t["Wh"] + p["b" + s], lt.keeps["a"][:, 0])
            close(out + t["Wda"], dh)
            close(t["fprime"] * dh, da)
            continue
        gates = lt.keeps["gates"][:, 0]
        blk = lambda a, k: a[..., k * H:(k + 1) * H]            # noqa: E731
        if cell == "lstm":
            i, f, g, o = (blk(gates, k) for k in range(4))
            s_prev, ds = lt.states["s"][:-1, 0], errs["s"][:, 0]
            close(t["pre"], t["Ux"] + t["Wh"] + p["b" + s])
            close(np.concatenate([sigmoid(blk(t["pre"], 0)), sigmoid(blk(t["pre"], 1)), np.tanh(blk(t["pre"], 2)),
                                  sigmoid(blk(t["pre"], 3))], axis=-1), gates)
            close(t["fs"], f * s_prev); close(t["ig"], i * g)
            close(t["fs"] + t["ig"], lt.states["s"][1:, 0])                    # s(t) = f s(t-1) + i g
            close(o * lt.keeps["tanh_s"][:, 0], lt.states["h"][1:, 0])        # h(t) = o tanh(s(t))
            close(out + t["Wda"], dh)
            close(t["dhs"] + t["fds"], ds)                                    # the additive path
            close(t["fds"], after(blk(gates, 1) * ds))
            close(t["local"] * np.concatenate([ds, ds, ds, dh], axis=-1), da)
        else:
            r, z, n = (blk(gates, k) for k in range(3))
            b, pre = p["b" + s], t["pre"]
            close(blk(pre, 0), blk(t["Ux"] + t["Wh"], 0) + b[:H])
            close(blk(pre, 1), blk(t["Ux"] + t["Wh"], 1) + b[H:2 * H])
            close(t["rhn"], r * (blk(t["Wh"], 2) + p["b_hn" + s]))
            close(blk(pre, 2), blk(t["Ux"], 2) + b[2 * H:] + t["rhn"])
            close(np.concatenate([sigmoid(blk(pre, 0)), sigmoid(blk(pre, 1)), np.tanh(blk(pre, 2))], axis=-1), gates)
            close(t["zn"] + t["zh"], lt.states["h"][1:, 0])                   # h(t) = (1 - z) n + z h(t-1)
            close(t["zh"], z * h_prev)
            close(t["zdh"], after(z * dh))
            close(out + t["Wda"] + t["zdh"], dh)
            close(t["local"] * np.concatenate([blk(da, 2), dh, dh], axis=-1), da)
            close(errs["a_hh"][:, 0], np.concatenate([blk(da, 0), blk(da, 1), blk(da, 2) * r], axis=-1))
    # The top level carries the top layer's, as Trace's properties do.
    assert d["h"] == d["layers"][-1]["h"] and d["terms"] == d["layers"][-1]["terms"]
    assert d["errors"]["h"] == d["layers"][-1]["errors"]["h"]


def test_large_gated_model_shows_the_first_units_of_every_gate_block():
    model = bptt.LSTM(8, 20, 8, seed=0)                             # H = 20 > MAX_UNITS
    d = bptt.explain(model, TEXT).data
    ids, trace, res = reference(model, TEXT)
    rows = np.concatenate([k * 20 + np.arange(MAX_UNITS) for k in range(4)])
    close(d["gates"], trace.gates[:, 0][:, rows])
    close(d["errors"]["a"], res.errors["a"][:, 0][:, rows])
    close(d["params"]["W"], model.params["W"][np.ix_(rows, np.arange(MAX_UNITS))])
    close(d["s"], trace.s[:, 0, :MAX_UNITS])
    close(d["terms"]["Wh"], (trace.hs[:-1, 0] @ model.params["W"].T)[:, rows])   # from all 20 units


def test_cli_random_gated_stack(tmp_path, capsys):
    out = tmp_path / "e.html"
    assert main(["explain", "--cell", "lstm", "--layers", "2", "--hidden", "4", "--text", "abcab", "--out", str(out)]) == 0
    assert "random lstm model (2 layers, H=4, seed=0)" in capsys.readouterr().out
    d = page_data(out.read_text(encoding="utf-8"))
    assert d["model"]["cell"] == "lstm" and d["model"]["layers"] == 2 and len(d["layers"]) == 2
    model = bptt.LSTM(3, 4, 3, layers=2, seed=0)
    close(d["params"]["W_l1"], model.params["W_l1"])


def test_cli_takes_cell_and_layers_from_the_checkpoint(tmp_path):
    vocab = Vocab.from_text("the quick brown fox")
    model = bptt.GRU(len(vocab), 5, len(vocab), layers=2, seed=2)
    checkpoint.save(tmp_path / "run" / "checkpoint.npz", model, vocab=vocab)
    out = tmp_path / "e.html"
    assert main(["explain", str(tmp_path / "run"), "--text", "the fox", "--out", str(out)]) == 0
    d = page_data(out.read_text(encoding="utf-8"))
    assert d["model"]["cell"] == "gru" and d["model"]["layers"] == 2
    close(d["params"]["b_hn_l1"], model.params["b_hn_l1"])
    assert main(["explain", str(tmp_path / "run"), "--cell", "gru", "--layers", "2", "--text", "the fox",
                 "--out", str(out)]) == 0                                    # agreeing flags are fine


@pytest.mark.parametrize("argv,needles", [
    (["--cell", "transformer"], ["--cell", "expected one of 'rnn', 'lstm', 'gru'", "'transformer'"]),
    (["--layers", "0"], ["--layers", "positive integer", "'0'"]),
    (["--layers", "1.5"], ["--layers", "positive integer", "'1.5'"]),
    (["--cell", "gru", "--nonlinearity", "relu"], ["--nonlinearity", "only with --cell rnn", "'relu'"]),
    (["{ckpt}", "--cell", "lstm"], ["--cell", "checkpoint's 'rnn'", "'lstm'"]),
    (["{ckpt}", "--layers", "3"], ["--layers", "checkpoint's 1", "3"]),
])
def test_bad_cell_and_layers_are_one_line_and_exit_2(argv, needles, vocab_checkpoint, tmp_path, capsys):
    argv = [str(vocab_checkpoint) if a == "{ckpt}" else a for a in argv]
    assert main(["explain", *argv, "--text", "abca", "--out", str(tmp_path / "out.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bptt: error:") and err.count("\n") == 0 and "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)
    assert not (tmp_path / "out.html").exists()


def test_a_random_models_flag_beside_a_checkpoint_is_refused_not_dropped(tmp_path, capsys, vocab_checkpoint):
    path = vocab_checkpoint
    for flag, value in (("--hidden", "5"), ("--seed", "2")):
        assert main(["explain", str(path), "--text", "abcab", flag, value, "--out", str(tmp_path / "p.html")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"bptt: error: {flag}: expected no {flag} with CHECKPOINT") and err.endswith(value)
    assert not (tmp_path / "p.html").exists()


@pytest.mark.parametrize("cell", [c for c in CELLS if c in VIEWS])       # the cells the page draws
def test_the_forward_mode_view_is_rtrl_beside_bptt_reaching_the_same_number(cell):
    """The view's sensitivities are exact RTRL's influence for each offered entry of W, its
    forward terms sum to dL/dW[r, c], and so do BPTT's per-step terms beside them."""
    V = len(set(TEXT))
    model = bptt.Network.create(cell, V, 5, V, seed=1)
    data = bptt.explain(model, TEXT).data
    fwd = data["forward"]
    ids = bptt.data.Vocab.from_text(TEXT).encode(TEXT)
    x, y = ids[:-1, None], ids[1:, None]
    exact = bptt.rtrl(model, x, y, per_step=True)
    bptt_grads = model.gradients(x, y, per_step=True)
    H, G = 5, model.cell.gates
    assert len(fwd["entries"]) == G * 2 * 2 and fwd["states"] == list(model.cell.states)
    for e, (r, c) in enumerate(fwd["entries"]):
        g = bptt_grads.grads["W"][r, c]
        assert fwd["fwd_sum"][e] == pytest.approx(g, rel=1e-10, abs=1e-15)
        assert fwd["bwd_sum"][e] == pytest.approx(g, rel=1e-10, abs=1e-15)
        assert fwd["grad"][e] == pytest.approx(g, rel=1e-10, abs=1e-15)
        np.testing.assert_allclose(fwd["fwd"][e], exact.per_step["W"][:, r, c], rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(fwd["bwd"][e], bptt_grads.per_step["W"][:, r, c], rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(np.cumsum(fwd["fwd"][e]), fwd["fwd_cum"][e], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(np.cumsum(fwd["bwd"][e][::-1])[::-1], fwd["bwd_cum"][e], rtol=1e-12, atol=1e-15)
        sens = np.array(fwd["sens"][e])                                   # (T, S, shown)
        assert sens.shape == (len(x), len(model.cell.states), H)
        assert np.all(sens[0] == 0)                # h(0) = 0: W's entries reach nothing at the first step
    assert not np.allclose(fwd["fwd"][0], fwd["bwd"][0])                 # the terms differ, the sums do not
    assert bptt.explain(bptt.Network.create(cell, V, 5, V, layers=2, seed=1), TEXT).data["forward"] is None
