"""The explain page for a bidirectional network and an encoder-decoder: its JSON against the
library's forward and backward arrays, each shown layer's equations adding up, and the CLI."""

import json
import re

import numpy as np
import pytest

import bptt
from bptt.cli import main
from bptt.data import Vocab
from bptt.explain.terms import VIEWS
from cells import CELLS

TEXT = "hello world hello"


def close(got, want):
    np.testing.assert_allclose(np.asarray(got, dtype=float), want, rtol=1e-12, atol=1e-15)


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def check_equations(cell, L, b, H):
    """The terms of each equation the side panel shows add (or multiply) up to the shown layer's
    own values and errors, which the callers compare with the library's."""
    t = {k: np.asarray(v) for k, v in L["terms"].items()}
    e = {k: np.asarray(v) for k, v in L["errors"].items()}
    out = t["Vdo"] if "Vdo" in t else t["Uda"]
    blk = lambda a, k: a[..., k * H:(k + 1) * H]            # noqa: E731
    if cell == "rnn":
        close(t["Ux"] + t["Wh"] + b, L["a"])
        close(out + t["Wda"], e["h"])
        close(t["fprime"] * e["h"], e["a"])
    elif cell == "lstm":
        gates = np.asarray(L["gates"])
        close(t["pre"], t["Ux"] + t["Wh"] + b)
        close(np.concatenate([sigmoid(blk(t["pre"], 0)), sigmoid(blk(t["pre"], 1)), np.tanh(blk(t["pre"], 2)),
                              sigmoid(blk(t["pre"], 3))], axis=-1), gates)
        close(t["fs"] + t["ig"], L["s"])
        close(out + t["Wda"], e["h"])
        close(t["dhs"] + t["fds"], e["s"])
        close(t["local"] * np.concatenate([e["s"], e["s"], e["s"], e["h"]], axis=-1), e["a"])
    else:
        pre = t["pre"]
        close(blk(pre, 0), blk(t["Ux"] + t["Wh"] + b, 0))
        close(blk(pre, 2), blk(t["Ux"] + b, 2) + t["rhn"])
        close(t["zn"] + t["zh"], L["h"])
        close(out + t["Wda"] + t["zdh"], e["h"])
        close(t["local"] * np.concatenate([blk(e["a"], 2), e["h"], e["h"]], axis=-1), e["a"])


# ------------------------------------------------------------------ bidirectional
@pytest.mark.parametrize("cell,layers", [(c, 1) for c in CELLS if c in VIEWS] + [("lstm", 2), ("gru", 2)])
def test_both_directions_are_the_library_forward_and_backward_in_time_order(cell, layers):
    V = len(set(TEXT))
    model = bptt.Network.create(cell, V, 5, V, layers=layers, bidirectional=True, seed=4)
    d = bptt.explain(model, TEXT).data
    ids = Vocab.from_text(TEXT).encode(TEXT)
    x, y = ids[:-1, None], ids[1:, None]
    trace = model.forward(x)
    res = model.backward(trace, y, per_step=True)
    T, H, p = len(x), 5, model.params
    assert d["model"]["directions"] == 2 and len(d["layers"]) == 2 * layers
    assert [(L["layer"], L["reverse"]) for L in d["layers"]] == [(l, r) for l in range(layers) for r in (False, True)]
    for k, v in p.items():
        close(d["params"][k], v)
        close(d["grads"][k], res.grads[k])
        close(np.sum(d["per_step"][k], axis=0), res.grads[k])             # the sum the page shows
        # the reverse direction's step i is time T-1-i: the page lays its contributions out in time
        close(d["per_step"][k], res.per_step[k][::-1] if k.endswith("_reverse") else res.per_step[k])
    assert d["loss"] == pytest.approx(res.loss, rel=1e-14)
    close(d["yhat"], trace.yhat[:, 0]); close(d["errors"]["o"], res.errors["o"][:, 0])
    for i, L in enumerate(d["layers"]):
        layer, rev = divmod(i, 2)
        lt, errs = trace.layers[i], res.layer_errors[i]
        # h in time order is the library's own output for this direction, [h_forward; h_reverse]
        close(L["h"], trace.outputs[layer][:, 0, rev * H:(rev + 1) * H])
        flip = (lambda a: a[::-1]) if rev else (lambda a: a)             # noqa: E731
        for name, states in lt.states.items():
            close(L[name + "0"], states[0, 0]); close(L[name], flip(states[1:, 0]))
        for name, kept in lt.keeps.items():
            close(L[name], flip(kept[:, 0]))
        for name in L["errors"]:
            close(L["errors"][name], flip(errs[name][:, 0]))
        sfx = ("" if layer == 0 else f"_l{layer}") + ("_reverse" if rev else "")
        W = p["W" + sfx]
        # The reverse direction's recurrence runs from later to earlier time: W h(t+1), W^T e(t-1).
        h_next = np.concatenate([np.asarray(L["h"])[1:], np.asarray(L["h0"])[None]]) if rev else \
            np.concatenate([np.asarray(L["h0"])[None], np.asarray(L["h"])[:-1]])
        close(L["terms"]["Wh"], h_next @ W.T)
        rec = np.asarray(L["errors"][model.cell.errors[-1]])
        prev = np.zeros_like(rec)
        if rev:
            prev[1:] = rec[:-1]
        else:
            prev[:-1] = rec[1:]
        close(L["terms"]["Wda"], prev @ W)
        if layer == layers - 1:
            close(L["terms"]["Vdo"], res.errors["o"][:, 0] @ p["V"][:, rev * H:(rev + 1) * H])
        check_equations(model.cell.name, L, p["b" + sfx], H)
    assert d["lag"] is None and d["forward"] is None          # one direction's views only


def test_cli_random_bidirectional_model(tmp_path, capsys):
    out = tmp_path / "e.html"
    assert main(["explain", "--cell", "lstm", "--bidirectional", "--hidden", "4", "--text", "abcab",
                 "--out", str(out)]) == 0
    assert "random lstm model (bidirectional, H=4, seed=0)" in capsys.readouterr().out
    d = json.loads(re.search(r'id="bptt-data">(.*?)</script>', out.read_text(encoding="utf-8"), re.S).group(1))
    model = bptt.LSTM(3, 4, 3, bidirectional=True, seed=0)
    assert d["model"]["directions"] == 2
    close(d["params"]["W_reverse"], model.params["W_reverse"])


def test_cli_takes_a_bidirectional_checkpoint(tmp_path):
    vocab = Vocab.from_text("the quick brown fox")
    model = bptt.GRU(len(vocab), 5, len(vocab), bidirectional=True, seed=2)
    bptt.checkpoint.save(tmp_path / "run" / "checkpoint.npz", model, vocab=vocab)
    out = tmp_path / "e.html"
    assert main(["explain", str(tmp_path / "run"), "--text", "the fox", "--out", str(out)]) == 0
    d = json.loads(re.search(r'id="bptt-data">(.*?)</script>', out.read_text(encoding="utf-8"), re.S).group(1))
    assert d["model"]["directions"] == 2
    close(d["params"]["b_hn_reverse"], model.params["b_hn_reverse"])


# ------------------------------------------------------------------ the encoder-decoder
@pytest.mark.parametrize("cell", [c for c in CELLS if c in VIEWS])       # the cells the page draws
def test_the_encoder_the_context_and_the_decoder_are_the_librarys(cell):
    text = "hello"
    vocab = Vocab.from_text(text)
    model = bptt.Seq2Seq(len(vocab), 5, len(vocab) + 1, cell=cell, seed=3)
    d = bptt.explain(model, text).data
    ids = vocab.encode(text)
    x, y = ids[:, None], ids[::-1, None]
    start = len(vocab)
    y_in = np.concatenate([[[start]], y[:-1]])
    trace = model.forward(x, y_in)
    res = model.backward(trace, y)
    Tx, Ty, H, p = len(x), len(y), 5, model.params
    assert d["model"]["kind"] == "seq2seq" and d["model"]["tx"] == Tx
    # The columns: the encoder reads x, the decoder the start token and then the previous target.
    assert d["x"] == ids.tolist() + [start] + ids[::-1][:-1].tolist()
    assert d["y"] == [None] * Tx + ids[::-1].tolist()
    assert d["vocab"][:start] == vocab.chars and len(d["vocab"]) == start + 1
    assert d["loss"] == pytest.approx(res.loss, rel=1e-14)
    assert d["yhat"][:Tx] == [None] * Tx
    close(d["yhat"][Tx:], trace.yhat[:, 0]); close(d["errors"]["o"][Tx:], res.errors["o"][:, 0])
    close(d["losses"][Tx:], res.losses[:, 0])
    for k, v in p.items():
        close(d["params"][k], v)
        close(d["grads"][k], res.grads[k])
        close(np.sum(d["per_step"][k], axis=0), res.grads[k])
    L = d["layers"][0]
    enc, dec = trace.encoder[0], trace.decoder[0]
    for name in model.cell.states:
        close(L[name + "0"], enc.states[name][0, 0])
        close(L[name], np.concatenate([enc.states[name][1:, 0], dec.states[name][1:, 0]]))
        close(d["context"][name], trace.context[0][name][0])          # C: the encoder's last state ...
        close(d["context"][name], enc.states[name][-1, 0])
        close(d["context"][name], dec.states[name][0, 0])             # ... the decoder's first
    for name in L["errors"]:
        close(L["errors"][name], np.concatenate([res.encoder_errors[0][name][:, 0], res.decoder_errors[0][name][:, 0]]))
    t = {k: np.asarray(v) for k, v in L["terms"].items()}
    # The decoder's first step reads the context through dec_W; the encoder's last step gets back
    # what the decoder's first sends through it: dL/dC.
    close(t["Wh"][Tx], trace.context[0]["h"][0] @ p["dec_W"].T)
    close(d["dcontext"]["h"], res.dh_context[0])
    sent = t["Wda"][Tx - 1] + (t["zdh"][Tx - 1] if cell == "gru" else 0)
    close(sent, res.dh_context[0])
    close(L["errors"]["h"][Tx - 1], res.dh_context[0])                 # no readout on the encoder
    if cell == "lstm":
        close(t["fds"][Tx - 1], res.ds_context[0]); close(d["dcontext"]["s"], res.ds_context[0])
    close(t["Vdo"][:Tx], 0)
    b = np.concatenate([np.tile(p["enc_b"], (Tx, 1)), np.tile(p["dec_b"], (Ty, 1))])
    check_equations(cell, L, b, H)
    # The update stage: the library's loss after one step at each offered rate.
    for lr, after in zip(d["update"]["lrs"], d["update"]["loss_after"]):
        stepped = model.copy()
        stepped.set_params({k: v - lr * res.grads[k] for k, v in p.items()})
        assert after == pytest.approx(stepped.loss(x, y_in, y), rel=1e-12)


@pytest.mark.parametrize("cell,layers", [(c, 2) for c in CELLS if c in VIEWS] + [("lstm", 3)])
def test_a_stacked_encoder_decoder_layer_by_layer_is_the_librarys(cell, layers):
    """Layer l of the page: the encoder's layer l, then the decoder's layer l, which starts from
    C_l, the encoder's layer l's last states; every value, error and term the model's own, dL/dC_l
    the model's context error of that layer, and every equation adding up."""
    text = "hello"
    vocab = Vocab.from_text(text)
    model = bptt.Seq2Seq(len(vocab), 5, len(vocab) + 1, cell=cell, layers=layers, seed=3)
    d = bptt.explain(model, text).data
    ids = vocab.encode(text)
    x, y = ids[:, None], ids[::-1, None]
    y_in = np.concatenate([[[len(vocab)]], y[:-1]])
    trace = model.forward(x, y_in)
    res = model.backward(trace, y)
    Tx, Ty, H, p, T = len(x), len(y), 5, model.params, len(x) + len(y)
    assert d["model"]["kind"] == "seq2seq" and d["model"]["layers"] == layers and d["model"]["tx"] == Tx
    assert [(L["layer"], L["reverse"]) for L in d["layers"]] == [(l, False) for l in range(layers)]
    assert d["loss"] == pytest.approx(res.loss, rel=1e-14)
    close(d["yhat"][Tx:], trace.yhat[:, 0]); close(d["errors"]["o"][Tx:], res.errors["o"][:, 0])
    assert res.dh_context.shape == (layers, 1, H)
    for k, v in p.items():
        close(d["params"][k], v)
        close(d["grads"][k], res.grads[k])
        close(np.sum(d["per_step"][k], axis=0), res.grads[k])
        # a half's parameters get contributions only from that half's steps
        quiet = slice(Tx, T) if k.startswith("enc_") else slice(0, Tx) if k.startswith("dec_") or k in ("V", "c") else None
        close(np.asarray(d["per_step"][k])[quiet], 0)
    e0 = model.cell.errors[0]
    for l, L in enumerate(d["layers"]):
        enc, dec = trace.encoder[l], trace.decoder[l]
        sfx = "" if l == 0 else f"_l{l}"
        for name in model.cell.states:
            close(L[name + "0"], enc.states[name][0, 0])
            close(L[name], np.concatenate([enc.states[name][1:, 0], dec.states[name][1:, 0]]))
            close(L["context"][name], trace.context[l][name][0])     # C_l: the encoder's layer l's last state ...
            close(L["context"][name], enc.states[name][-1, 0])
            close(L["context"][name], dec.states[name][0, 0])        # ... the decoder's layer l's first
        for name, kept in enc.keeps.items():
            close(L[name], np.concatenate([kept[:, 0], dec.keeps[name][:, 0]]))
        assert set(L["errors"]) == set(res.encoder_errors[l]) - {"o"}
        for name in L["errors"]:
            close(L["errors"][name], np.concatenate([res.encoder_errors[l][name][:, 0], res.decoder_errors[l][name][:, 0]]))
        t = {k: np.asarray(v) for k, v in L["terms"].items()}
        # What layer l reads: x and y_in at the bottom, else the h(t) of its own half's layer l - 1.
        if l:
            close(t["Ux"][:Tx], trace.encoder[l - 1].states["h"][1:, 0] @ p["enc_U" + sfx].T)
            close(t["Ux"][Tx:], trace.decoder[l - 1].states["h"][1:, 0] @ p["dec_U" + sfx].T)
        else:
            close(t["Ux"], np.concatenate([p["enc_U"].T[x[:, 0]], p["dec_U"].T[y_in[:, 0]]]))
        # What reaches its h(t) from outside its recurrence: the readout (decoder only) at the top,
        # else U_l+1^T dL/da_l+1(t) of its own half's layer above.
        if l == layers - 1:
            assert "Uda" not in t
            close(t["Vdo"][:Tx], 0); close(t["Vdo"][Tx:], res.errors["o"][:, 0] @ p["V"])
            up = t["Vdo"]
        else:
            assert "Vdo" not in t
            close(t["Uda"][:Tx], res.encoder_errors[l + 1][e0][:, 0] @ p[f"enc_U_l{l + 1}"])
            close(t["Uda"][Tx:], res.decoder_errors[l + 1][e0][:, 0] @ p[f"dec_U_l{l + 1}"])
            up = t["Uda"]
        # The decoder's first step reads C_l through dec_W; the encoder's last step gets back, on
        # top of what comes from above, what the decoder's first sends through it: dL/dC_l.
        close(t["Wh"][Tx], trace.context[l]["h"][0] @ p["dec_W" + sfx].T)
        close(L["dcontext"]["h"], res.dh_context[l, 0])
        sent = t["Wda"][Tx - 1] + (t["zdh"][Tx - 1] if cell == "gru" else 0)
        close(sent, res.dh_context[l, 0])
        close(L["errors"]["h"][Tx - 1], up[Tx - 1] + res.dh_context[l, 0])
        if cell == "lstm":
            close(t["fds"][Tx - 1], res.ds_context[l, 0]); close(L["dcontext"]["s"], res.ds_context[l, 0])
        else:
            assert set(L["dcontext"]) == {"h"}
        b = np.concatenate([np.tile(p["enc_b" + sfx], (Tx, 1)), np.tile(p["dec_b" + sfx], (Ty, 1))])
        check_equations(cell, L, b, H)
    # Every layer's context is its own: a page that showed one layer's for another's would fail.
    assert not np.allclose(d["layers"][0]["dcontext"]["h"], d["layers"][1]["dcontext"]["h"])
    assert not np.allclose(d["layers"][0]["context"]["h"], d["layers"][1]["context"]["h"])
    # The top layer's entries also stand at the top level.
    top = d["layers"][-1]
    assert d["context"] == top["context"] and d["dcontext"] == top["dcontext"] and d["h"] == top["h"]
    for lr, after in zip(d["update"]["lrs"], d["update"]["loss_after"]):
        stepped = model.copy()
        stepped.set_params({k: v - lr * res.grads[k] for k, v in p.items()})
        assert after == pytest.approx(stepped.loss(x, y_in, y), rel=1e-12)


def test_cli_random_seq2seq(tmp_path, capsys):
    out = tmp_path / "e.html"
    assert main(["explain", "--model", "seq2seq", "--cell", "gru", "--hidden", "4", "--text", "abca",
                 "--out", str(out)]) == 0
    assert "random gru encoder-decoder (H=4, seed=0)" in capsys.readouterr().out
    d = json.loads(re.search(r'id="bptt-data">(.*?)</script>', out.read_text(encoding="utf-8"), re.S).group(1))
    close(d["params"]["enc_W"], bptt.Seq2Seq(3, 4, 4, cell="gru", seed=0).params["enc_W"])


def test_cli_random_two_layer_seq2seq(tmp_path, capsys):
    out = tmp_path / "e.html"
    assert main(["explain", "--model", "seq2seq", "--cell", "lstm", "--layers", "2", "--hidden", "4",
                 "--text", "abca", "--out", str(out)]) == 0
    assert "random lstm encoder-decoder (2 layers, H=4, seed=0)" in capsys.readouterr().out
    d = json.loads(re.search(r'id="bptt-data">(.*?)</script>', out.read_text(encoding="utf-8"), re.S).group(1))
    model = bptt.Seq2Seq(3, 4, 4, cell="lstm", layers=2, seed=0)
    assert d["model"]["layers"] == 2 and len(d["layers"]) == 2
    close(d["params"]["dec_W_l1"], model.params["dec_W_l1"])


@pytest.mark.parametrize("argv,needles", [
    (["--model", "seq2seq", "--text", "abcdefghij"], ["--text", "2 to 8 characters for an encoder-decoder", "10 characters"]),
    (["--model", "seq2seq", "--bidirectional"], ["--bidirectional", "--model network", "seq2seq"]),
    (["--model", "seq2seq", "--nonlinearity", "relu"], ["--nonlinearity", "--model network"]),
    (["--model", "transformer"], ["--model", "expected one of 'network', 'seq2seq'", "'transformer'"]),
])
def test_bad_seq2seq_input_is_one_line_and_exit_2(argv, needles, tmp_path, capsys):
    assert main(["explain", *argv, "--out", str(tmp_path / "out.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bptt: error:") and err.count("\n") == 0 and "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)
    assert not (tmp_path / "out.html").exists()


def test_library_refuses_a_seq2seq_the_page_cannot_draw():
    with pytest.raises(ValueError, match=r"^model: expected a Seq2Seq on the text's characters \(n_in = 4, n_out = 5"):
        bptt.explain(bptt.Seq2Seq(4, 3, 4, seed=0), "abcd")
    with pytest.raises(ValueError, match=r"^text: expected 2 to 8 characters for an encoder-decoder"):
        bptt.explain(bptt.Seq2Seq(4, 3, 5, seed=0), "abcdabcdabcd")
