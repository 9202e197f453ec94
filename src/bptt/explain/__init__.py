"""The article, alive: one self-contained HTML page stepping through forward and backward.

``explain(model, text)`` runs the library's own forward and backward on one short sequence
(B = 1, next-character prediction: x = text[:-1], y = text[1:]) and embeds every number the
page draws as JSON in ``<script type="application/json" id="bptt-data">``. The page's script
reads only that JSON, so what a learner sees is what ``Network.forward`` and ``backward``
computed, for any cell (simple RNN, LSTM, GRU) and any number of layers; the scripts
(``page/*.js``, inlined in order into one function scope) and styles (``page.css``) are
inlined so the file opens from disk with no network.

Arrays in the JSON keep the library's axes without the batch axis (B = 1): per layer
(``layers[l]``) its states h, s (T, H) and initial states h0, s0 (H,), what its cell keeps
(a (T, H); gates (T, G*H); tanh_s, hn (T, H)), its errors (h, s (T, H); a, a_hh (T, G*H)) and
the terms the side panel substitutes (``terms.py``); yhat, o, errors["o"] (T, O). The top
layer's entries also stand at the top level, as ``Trace``'s properties read the top layer. An
encoder-decoder's layer l holds the encoder's layer l's Tx steps, then the decoder's layer l's,
and its context C_l and dL/dC_l (``context``, ``dcontext``: {h, s} (H,)).
Models larger than the page can draw keep only the first ``MAX_UNITS`` hidden units of each
gate block (and, for a large vocabulary, the output units of the text's own characters);
every shown number is still the full model's, sliced, never recomputed.
"""

from __future__ import annotations

import html
import json
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..diagnose import lag_profile
from ..data.text import Vocab
from ..nn.dense import dense_backward_per_step
from ..nn.network import Network
from ..nn.seq2seq import Seq2Seq
from ..nn.stages import REVERSE, LayerTrace, layer_grads_per_step, layer_params, param_name, split_param_name
from .forward import forward_mode
from .terms import VIEWS, layer_terms

MAX_CHARS = 17          # 16 steps: 16 columns still fit side by side at 1024 px
MAX_UNITS = 16          # hidden (and output) units drawn in full up to this many
LEARNING_RATES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
DEFAULT_TEXT = "hello world hello"
DEFAULT_SEQ2SEQ_TEXT = "hello"      # an encoder-decoder's page holds its text and the text reversed
START = "\u25b8"          # how the page writes an encoder-decoder's start token (the decoder's first input)


def check_text(text, *, name="text") -> str:
    """The page needs 1 to 16 steps of next-character prediction: 2 to MAX_CHARS characters."""
    if not isinstance(text, str):
        raise ValueError(f"{name}: expected a string of 2 to {MAX_CHARS} characters, got {type(text).__name__}")
    if not 2 <= len(text) <= MAX_CHARS:
        got = "an empty string" if not text else f"{len(text)} character{'s' * (len(text) != 1)} ({text[:24]!r}{'...' * (len(text) > 24)})"
        raise ValueError(f"{name}: expected 2 to {MAX_CHARS} characters (at most {MAX_CHARS - 1} steps "
                         f"of next-character prediction fit the page), got {got}")
    return text


def check_model(model, vocab: Vocab, *, name="model") -> None:
    if isinstance(model, Seq2Seq):
        check_seq2seq(model, vocab, name=name)
        return
    if not isinstance(model, Network):
        raise ValueError(f"{name}: expected a bptt model (SimpleRNN, LSTM, GRU or Seq2Seq), got {model!r}")
    if model.cell.name not in VIEWS:
        raise ValueError(f"{name}: expected a cell the page can draw ({', '.join(VIEWS)}), got the "
                         f"{model.cell.name!r} cell")
    if model.output != "softmax" or model.n_in != len(vocab) or model.n_out != len(vocab):
        raise ValueError(f"{name}: expected a character model (softmax output, n_in = n_out = {len(vocab)}, "
                         f"the vocabulary size), got {model!r}")


def check_seq2seq(model, vocab: Vocab, *, name="model") -> None:
    """An encoder-decoder on the text's characters: n_in of them, n_out = n_in + 1 (the start token);
    any number of layers (a stack is shown one layer of both halves at a time)."""
    if model.n_in != len(vocab) or model.n_out != len(vocab) + 1 or model.n_out > MAX_UNITS:
        raise ValueError(f"{name}: expected a Seq2Seq on the text's characters (n_in = {len(vocab)}, n_out = "
                         f"{len(vocab) + 1} with the start token, at most {MAX_UNITS}), got {model!r}")


def check_seq2seq_text(text, *, name="text") -> str:
    """An encoder-decoder page reverses the text: 2 to MAX_CHARS // 2 characters in, as many out."""
    if not isinstance(text, str) or not 2 <= len(text) <= MAX_CHARS // 2:
        got = f"{len(text)} characters ({text[:24]!r})" if isinstance(text, str) else type(text).__name__
        raise ValueError(f"{name}: expected 2 to {MAX_CHARS // 2} characters for an encoder-decoder (the "
                         f"encoder reads them, the decoder writes them reversed: both fit the page), got {got}")
    return text


def _time_order(arr, reverse):
    """A reverse direction's arrays (leading axis its own steps: step i is time T-1-i, B = 1, no
    lengths) in time order; the forward direction's as they are."""
    return arr[::-1] if reverse else arr


def _shown_network(model: Network, x, y) -> dict:
    """Every shown layer (each layer's each direction) of a network's forward and backward, in
    time order, full width: what ``_page_data`` slices."""
    trace = model.forward(x)
    result = model.backward(trace, y, per_step=True)
    p, D, H, L, cell = model.params, model.directions, model.n_hidden, model.layers, model.cell
    do = result.errors["o"] if D == 1 else result.layer_errors[-D]["o"]     # (T, B, O)
    below_of = (lambda l: trace.layers[l - 1].states["h"][1:]) if trace.outputs is None else \
        (lambda l: trace.outputs[l - 1])                                    # (T, B, D*H), time order
    shown = []
    for i, lt in enumerate(trace.layers):
        layer, rev = divmod(i, D)
        rev = bool(rev)
        errs = {k: v for k, v in result.layer_errors[i].items() if k != "o"}
        cols = slice(rev * H, (rev + 1) * H)                                # this direction's half of 2H
        if layer == L - 1:
            outside = {"Vdo": _time_order(do @ p["V"][:, cols], rev)}
        else:                                  # the layer above: its every direction reads this h(t)
            uda = sum(_time_order(result.layer_errors[D * (layer + 1) + d][cell.errors[0]], bool(d))
                      @ p[param_name("U", layer + 1, bool(d))][:, cols] for d in range(D))
            outside = {"Uda": _time_order(uda, rev)}
        below = x if layer == 0 else below_of(layer)
        lp = layer_params(model, layer, rev)
        terms = layer_terms(cell, [(0, len(x), lp, _time_order(below, rev))], lt, errs, outside)
        states = {n: np.concatenate([v[:1], _time_order(v[1:], rev)]) for n, v in lt.states.items()}
        shown.append({"layer": layer, "reverse": rev, "states": states,
                      "keeps": {n: _time_order(v, rev) for n, v in lt.keeps.items()},
                      "errors": {n: _time_order(v, rev) for n, v in errs.items()},
                      "terms": {n: _time_order(v, rev) for n, v in terms.items()}})
    per_step = {k: _time_order(v, k.endswith(REVERSE)) for k, v in result.per_step.items()}
    return {"shown": shown, "o": trace.o, "yhat": trace.yhat, "losses": result.losses, "do": do,
            "loss": result.loss, "grads": result.grads, "per_step": per_step, "trace": trace}


def _shown_seq2seq(model: Seq2Seq, x, y_in, y) -> dict:
    """An encoder-decoder's forward and backward as one shown layer of Tx + Ty steps per layer l:
    the encoder's layer l, then the decoder's, whose first step starts from the context C_l (the
    encoder's layer l's last states). Layer l > 0 reads the h(t) of its own half's layer l - 1."""
    trace = model.forward(x, y_in)
    res = model.backward(trace, y)
    cell, p, L = model.cell, model.params, model.layers
    encoder, decoder = model.encoder, model.decoder
    Tx, Ty = len(x), len(y_in)
    T = Tx + Ty
    do = res.errors["o"]                                                    # (Ty, B, O)
    dctx = {"h": res.dh_context, **({"s": res.ds_context} if res.ds_context is not None else {})}
    if L == 1:                                                              # (B, H) -> (1, B, H)
        dctx = {n: v[None] for n, v in dctx.items()}
    shown, per_step = [], {}
    for layer in range(L):
        enc, dec = trace.encoder[layer], trace.decoder[layer]
        states = {n: np.concatenate([enc.states[n], dec.states[n][1:]]) for n in cell.states}  # (T+1, B, H)
        keeps = {n: np.concatenate([enc.keeps[n], dec.keeps[n]]) for n in enc.keeps}
        errs = {n: np.concatenate([res.encoder_errors[layer][n], res.decoder_errors[layer][n]])
                for n in res.encoder_errors[layer] if n != "o"}
        if layer == L - 1:
            zeros = np.zeros((Tx, *do.shape[1:-1], model.n_hidden))
            outside = {"Vdo": np.concatenate([zeros, do @ p["V"]])}         # the encoder has no readout
        else:                          # each half's layer above reads this layer's h(t) through its U
            e = cell.errors[0]
            outside = {"Uda": np.concatenate([
                res.encoder_errors[layer + 1][e] @ p["enc_" + param_name("U", layer + 1)],
                res.decoder_errors[layer + 1][e] @ p["dec_" + param_name("U", layer + 1)]])}
        below = (x, y_in) if layer == 0 else (trace.encoder[layer - 1].states["h"][1:],
                                              trace.decoder[layer - 1].states["h"][1:])
        halves = [(0, Tx, layer_params(encoder, layer), below[0]), (Tx, T, layer_params(decoder, layer), below[1])]
        lt = LayerTrace(states, keeps)
        terms = layer_terms(cell, halves, lt, errs, outside)
        # Each step's contribution: the encoder's parameters' over its steps, the decoder's over
        # its own; zero where a half does not run, so that every parameter's sum is over all T.
        for (start, stop, lp, xs), prefix, half in zip(halves, ("enc_", "dec_"), (encoder, decoder)):
            seg = {n: v[start:stop] for n, v in errs.items()}
            part = LayerTrace({n: v[start:stop + 1] for n, v in states.items()},
                              {n: v[start:stop] for n, v in keeps.items()})
            g = layer_grads_per_step(cell, lp, xs, part, seg, half.n_in)
            for name, v in g.items():
                full = np.zeros((T, *v.shape[1:]))
                full[start:stop] = v
                per_step[prefix + param_name(name, layer)] = full
        shown.append({"layer": layer, "reverse": False, "states": states, "keeps": keeps, "errors": errs,
                      "terms": terms, "context": dict(trace.context[layer]),
                      "dcontext": {n: v[layer] for n, v in dctx.items()}})
    V_t, c_t = dense_backward_per_step(do, trace.decoder[-1].states["h"][1:])
    per_step["V"] = np.concatenate([np.zeros((Tx, *V_t.shape[1:])), V_t])
    per_step["c"] = np.concatenate([np.zeros((Tx, *c_t.shape[1:])), c_t])
    return {"shown": shown, "o": trace.o, "yhat": trace.yhat, "losses": res.losses, "do": do, "loss": res.loss,
            "grads": res.grads, "per_step": {k: per_step[k] for k in p}, "context": shown[-1]["context"],
            "dcontext": shown[-1]["dcontext"], "tx": Tx}


def build_data(model, text: str, *, vocab: Vocab | None = None, lr: float = 0.1,
               seed=None, source: str | None = None) -> dict:
    """Every number the page shows, from the model's own ``forward`` and ``backward``.

    A network reads ``text[:-1]`` and predicts each next character; an encoder-decoder
    (``Seq2Seq``) reads ``text`` and is taught to write it reversed, its decoder reading the
    start token and then the previous target character (teacher forcing).
    """
    seq = isinstance(model, Seq2Seq)
    (check_seq2seq_text if seq else check_text)(text)
    if vocab is None:
        vocab = Vocab.from_text(text)
        if isinstance(model, Network) and (model.n_in != len(vocab) or model.n_out != len(vocab)):
            # A trained model reads ids of its own vocabulary, which the model itself does not carry.
            raise ValueError(f"vocab: expected the model's vocabulary of {model.n_in} characters (a "
                             f"checkpoint's .vocab; or pass the run folder or checkpoint path as the model), "
                             f"got none, and the text's own {len(vocab)} characters are not it")
    check_model(model, vocab)
    if not (isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr: expected a positive finite learning rate, got {lr!r}")
    ids = vocab.encode(text)
    if seq:
        start = len(vocab)                                   # the start token, after the text's characters
        x, y = ids[:, None], ids[::-1, None]                 # (Tx, 1), (Ty, 1): the text reversed
        y_in = np.concatenate([[[start]], y[:-1]])           # teacher forcing: start, then the previous target
        run = _shown_seq2seq(model, x, y_in, y)
        columns_in = np.concatenate([x[:, 0], y_in[:, 0]])   # what each column reads
        targets = [None] * len(x) + y[:, 0].tolist()
        loss_of = lambda m: m.loss(x, y_in, y)               # noqa: E731
        out_vocab = vocab.chars + START
    else:
        x, y = ids[:-1, None], ids[1:, None]                 # (T, 1): B = 1
        run = _shown_network(model, x, y)
        columns_in, targets = x[:, 0], y[:, 0].tolist()
        loss_of = lambda m: m.loss(x, y)                     # noqa: E731
        out_vocab = vocab.chars
    p, g, s = model.params, run["grads"], run["per_step"]
    T, H, O, G = len(columns_in), model.n_hidden, model.n_out, model.cell.gates
    D = getattr(model, "directions", 1)
    Tx = run.get("tx", 0)                                    # the steps without a readout (the encoder's)
    hs = list(range(min(H, MAX_UNITS)))                      # hidden units shown
    os_ = list(range(O)) if O <= MAX_UNITS else sorted(set(ids.tolist()))   # output units shown
    hi, oi = np.array(hs), np.array(os_)

    def blocks(width, size=H):
        """Indices of the shown units in each of ``width`` ``size``-wide blocks (the gates, in order)."""
        return np.concatenate([k * size + hi for k in range(width)])

    gi = blocks(G)

    def sl(name, arr):
        """Slice an array shaped like parameter ``name`` (optionally with a leading T axis)."""
        bare = name[4:] if seq and name[:4] in ("enc_", "dec_") else name
        base, layer = split_param_name(bare)
        base = base[:-len(REVERSE)] if base.endswith(REVERSE) else base
        inputs = np.arange(arr.shape[-1]) if seq else oi     # layer 0's U: every symbol (at most MAX_UNITS)
        rows, cols = {"U": (gi, inputs if not layer else blocks(D)), "W": (gi, hi), "b": (gi, None),
                      "b_hn": (hi, None), "V": (oi, blocks(D)), "c": (oi, None)}[base]
        arr = arr[..., rows, :] if cols is not None else arr[..., rows]
        return arr[..., cols] if cols is not None else arr

    def units(arr):
        """(T, B=1, width*H) -> (T, width*shown): the shown units of every block."""
        return arr[:, 0][..., blocks(arr.shape[-1] // H)]

    def f(arr):
        return np.asarray(arr, dtype=np.float64).tolist()

    def padded(arr):
        """Per decoder step (T - Tx rows) -> per column, None at the encoder's."""
        return [None] * Tx + f(arr)

    rates = sorted(set(LEARNING_RATES) | {float(lr)})
    after = []
    for rate in rates:
        stepped = model.copy()
        stepped.set_params({k: p[k] - rate * g[k] for k in p})
        after.append(loss_of(stepped))
    lag = None
    if isinstance(model, Network) and not model.bidirectional:
        # ||dL(t)/dh(k)||, each step's loss sent back alone: the diagnose module's lag profile
        norms = lag_profile(model, x, y).norms              # (T, T), NaN above the diagonal
        lag = {"norms": [[None if k > t else float(norms[t, k]) for k in range(T)] for t in range(T)],
               "by_lag": [float(np.mean([norms[t, t - d] for t in range(d, T)])) for d in range(T)]}

    layers = []
    for entry in run["shown"]:
        out = {"layer": entry["layer"], "reverse": entry["reverse"]}
        for name, states in entry["states"].items():         # h0, h; s0, s for the LSTM
            out[f"{name}0"], out[name] = f(states[0, 0, hi]), f(units(states[1:]))
        out.update({name: f(units(arr)) for name, arr in entry["keeps"].items()})
        out["errors"] = {name: f(units(arr)) for name, arr in entry["errors"].items()}
        out["terms"] = {name: f(units(arr)) for name, arr in entry["terms"].items()}
        if seq:    # the context C_l this layer's decoder starts from, and dL/dC_l, what reaches it
            out["context"] = {n: f(v[0, hi]) for n, v in entry["context"].items()}
            out["dcontext"] = {n: f(v[0, hi]) for n, v in entry["dcontext"].items()}
        layers.append(out)
    top = layers[-D]                                          # the top layer's forward direction
    cell = model.cell
    readout = (lambda a: padded(a[:, 0])) if seq else (lambda a: f(a[:, 0]))
    data = {
        "format": "bptt-explain", "version": 2,   # new fields only: version 2 pages read as before
        "text": text, "vocab": out_vocab, "x": columns_in.tolist(), "y": targets,
        "model": {"kind": "seq2seq" if seq else "network", "n_in": model.n_in, "n_hidden": H, "n_out": O,
                  "nonlinearity": getattr(model, "nonlinearity", None) or ("tanh" if cell.name == "rnn" else None),
                  "cell": cell.name, "layers": model.layers, "gates": G, "options": cell.options(),
                  "directions": D, "tx": Tx, "seed": seed, "source": source},
        "hidden_units": hs, "output_units": os_,
        "params": {k: f(sl(k, p[k])) for k in p},
        "o": readout(run["o"]), "yhat": readout(run["yhat"]),
        "loss": run["loss"], "losses": readout(run["losses"]),
        "per_step": {k: f(sl(k, s[k])) for k in s},
        "grads": {k: f(sl(k, g[k])) for k in g},
        # Each shown layer's states, what its cell keeps, its errors, and the terms the side panel
        # substitutes (``terms.py``); the top layer's (forward direction's) also at the top level.
        "layers": layers,
        **{k: v for k, v in top.items() if k not in ("errors", "terms", "layer", "reverse", "context", "dcontext")},
        "errors": {"o": readout(run["do"]), **top["errors"]}, "terms": top["terms"],
        "update": {"lr": float(lr), "lrs": rates, "loss_after": after},
        "lag": lag,
        # The forward-mode view (one unidirectional layer only): RTRL's dz(t)/dW[r, c] beside BPTT's terms.
        "forward": (forward_mode(model, x, y, s["W"], hi)
                    if isinstance(model, Network) and not model.bidirectional else None),
    }
    if seq:
        # The context C (the encoder's last states, the decoder's initial ones) and dL/dC, what the
        # decoder's backward sends to the encoder: the top layer's (each layer's in ``layers[l]``).
        data["context"] = {n: f(v[0, hi]) for n, v in run["context"].items()}
        data["dcontext"] = {n: f(v[0, hi]) for n, v in run["dcontext"].items()}
        data["in_vocab"] = vocab.chars
    return data


# The page's script, one concept a file, inlined in this order into one function scope: the
# data and drawing helpers, the shown layer, each cell's view, the network, the side panel,
# the lag view, the forward-mode view, and the state and controls that tie them together.
SCRIPTS = ("base.js", "layer.js", "rnn.js", "lstm.js", "gru.js", "net.js", "panels.js", "lag.js", "forward.js",
           "main.js")


def render(data: dict) -> str:
    """The one self-contained HTML file: template with the CSS, the script and the JSON inlined."""
    files = resources.files(__name__)
    page, css = (files.joinpath(name).read_text(encoding="utf-8") for name in ("page.html", "page.css"))
    js = "\n".join(f"// ---- page/{name}\n" + files.joinpath("page", name).read_text(encoding="utf-8")
                   for name in SCRIPTS)
    js = f'(function () {{\n"use strict";\n{js}\n}})();\n'
    # "</" inside the JSON would end the script element early (a text holding "</script>").
    payload = json.dumps(data, allow_nan=False, separators=(",", ":")).replace("</", "<\\/")
    parts = {"title": html.escape(f"bptt explain: {data['text']!r}"), "css": css,
             "js": js.replace("</", "<\\/"), "data": payload}
    # One pass, so a placeholder-like string inside the text or the script is never expanded.
    return re.sub(r"\{\{(title|css|js|data)\}\}", lambda m: parts[m.group(1)], page)


@dataclass(frozen=True)
class Explanation:
    """The page for one model and text; shows itself in Jupyter, ``.save(path)`` writes it."""

    data: dict

    @property
    def html(self) -> str:
        return render(self.data)

    def save(self, path) -> Path:
        """Written whole or not at all: a temporary file beside ``path``, renamed over it."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            tmp.write_text(self.html, encoding="utf-8")
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path

    def __repr__(self) -> str:   # one line: the page itself is 150 kB of HTML
        d = self.data
        m = d["model"]
        return (f"<bptt.Explanation of {d['text']!r}: {len(d['x'])} steps, H={m['n_hidden']}, "
                f"vocabulary of {len(d['vocab'])}, L = {d['loss']:.4f}; .save(path) writes the page>")

    def _repr_html_(self) -> str:
        # An iframe keeps the page's ids, styles and keys apart from the notebook's own.
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                f'style="width:100%;height:820px;border:0" title="bptt explain"></iframe>')


def explain(model, text: str | None = None, *, vocab: Vocab | None = None,
            lr: float = 0.1, seed=None, source: str | None = None) -> Explanation:
    """Step through ``model`` on ``text`` (2 to 17 characters) forward and backward in a page.

    model: a character model of any cell (SimpleRNN, LSTM, GRU), any number of layers (a stack
    is shown one layer at a time) and either direction (a bidirectional one's directions one at
    a time, the reverse one's steps from the last to the first), or a run folder or checkpoint
    file (a path), whose model and vocabulary are used; or a ``Seq2Seq`` of any number of layers
    with n_in = the text's characters and n_out = one more (the start token), which reads ``text``
    (2 to 8 characters, default "hello") and is taught to write it reversed: the encoder's steps,
    the context and the teacher-forced decoder's steps side by side, one layer of both halves at
    a time (the encoder's layer l hands its last states to the decoder's layer l).
    vocab: the model's character vocabulary (a checkpoint's); for a model given as a path, the
    checkpoint's; else by default the text's own characters, sorted, which must then match the
    model's n_in and n_out.
    lr: the learning rate the page's update stage starts with.

        >>> import bptt
        >>> model = bptt.SimpleRNN(4, 8, 4, seed=0)
        >>> page = bptt.explain(model, "abcdab")
        >>> page.save("explain.html")   # doctest: +SKIP
        >>> bptt.explain(bptt.LSTM(4, 8, 4, layers=2, seed=0), "abcdab").data["model"]["layers"]
        2
        >>> bptt.explain(bptt.GRU(4, 8, 4, bidirectional=True, seed=0), "abcdab").data["model"]["directions"]
        2
        >>> bptt.explain(bptt.Seq2Seq(4, 8, 5, cell="lstm", seed=0), "abcd").data["model"]["tx"]
        4
        >>> len(bptt.explain(bptt.Seq2Seq(4, 8, 5, cell="lstm", layers=2, seed=0), "abcd").data["layers"])
        2
        >>> bptt.explain("runs/book", "ROMEO:")   # doctest: +SKIP
    """
    if isinstance(model, (str, os.PathLike)):
        from ..train import checkpoint
        ck = checkpoint.load(model, name="model", accept=("network",))
        if ck.vocab is None:
            raise ValueError(f"model {str(ck.path)!r}: expected a character model with a vocabulary, "
                             f"got a checkpoint without one")
        if vocab is not None and vocab != ck.vocab:
            raise ValueError(f"vocab: expected the checkpoint's vocabulary of {len(ck.vocab)} characters "
                             f"(or none), got a different one of {len(vocab)}")
        model, vocab, source = ck.model, ck.vocab, source or str(ck.path)
    if text is None:
        text = DEFAULT_SEQ2SEQ_TEXT if isinstance(model, Seq2Seq) else DEFAULT_TEXT
    return Explanation(build_data(model, text, vocab=vocab, lr=lr, seed=seed, source=source))
