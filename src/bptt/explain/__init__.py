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
layer's entries also stand at the top level, as ``Trace``'s properties read the top layer.
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
from ..nn.network import Network
from ..nn.stages import one_direction, split_param_name
from .forward import forward_mode
from .terms import VIEWS, layer_terms

MAX_CHARS = 17          # 16 steps: 16 columns still fit side by side at 1024 px
MAX_UNITS = 16          # hidden (and output) units drawn in full up to this many
LEARNING_RATES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
DEFAULT_TEXT = "hello world hello"


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
    if not isinstance(model, Network):
        raise ValueError(f"{name}: expected a bptt model (SimpleRNN, LSTM or GRU), got {model!r}")
    if model.cell.name not in VIEWS:
        raise ValueError(f"{name}: expected a cell the page can draw ({', '.join(VIEWS)}), got the "
                         f"{model.cell.name!r} cell")
    if model.output != "softmax" or model.n_in != len(vocab) or model.n_out != len(vocab):
        raise ValueError(f"{name}: expected a character model (softmax output, n_in = n_out = {len(vocab)}, "
                         f"the vocabulary size), got {model!r}")


def build_data(model: Network, text: str, *, vocab: Vocab | None = None, lr: float = 0.1,
               seed=None, source: str | None = None) -> dict:
    """Every number the page shows, from ``model.forward`` and ``model.backward``."""
    check_text(text)
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
    x, y = ids[:-1, None], ids[1:, None]                     # (T, 1): B = 1
    trace = model.forward(x)
    result = model.backward(trace, y, per_step=True)
    p, g, s, e = model.params, result.grads, result.per_step, result.errors
    T, H, O, G = len(x), model.n_hidden, model.n_out, model.cell.gates
    hs = list(range(min(H, MAX_UNITS)))                      # hidden units shown
    os_ = list(range(O)) if O <= MAX_UNITS else sorted(set(ids.tolist()))   # output units shown
    hi, oi = np.array(hs), np.array(os_)

    def blocks(width):
        """Indices of the shown units in each of ``width`` H-wide blocks (the gates, in order)."""
        return np.concatenate([k * H + hi for k in range(width)])

    gi = blocks(G)

    def sl(name, arr):
        """Slice an array shaped like parameter ``name`` (optionally with a leading T axis)."""
        base, layer = split_param_name(name)
        rows, cols = {"U": (gi, oi if not layer else hi), "W": (gi, hi), "b": (gi, None), "b_hn": (hi, None),
                      "V": (oi, hi), "c": (oi, None)}[base]
        arr = arr[..., rows, :] if cols is not None else arr[..., rows]
        return arr[..., cols] if cols is not None else arr

    def units(arr):
        """(T, B=1, width*H) -> (T, width*shown): the shown units of every block."""
        return arr[:, 0][..., blocks(arr.shape[-1] // H)]

    rates = sorted(set(LEARNING_RATES) | {float(lr)})
    after = []
    for rate in rates:
        stepped = model.copy()
        stepped.set_params({k: p[k] - rate * g[k] for k in p})
        after.append(stepped.loss(x, y))
    # ||dL(t)/dh(k)||, each step's loss sent back alone: the diagnose module's lag profile
    norms = lag_profile(model, x, y).norms                  # (T, T), NaN above the diagonal
    by_lag = [float(np.mean([norms[t, t - d] for t in range(d, T)])) for d in range(T)]

    def f(arr):
        return np.asarray(arr, dtype=np.float64).tolist()

    layers = []
    for layer, lt in enumerate(trace.layers):
        errs = result.layer_errors[layer]
        entry = {}
        for name, states in lt.states.items():               # h0, h; s0, s for the LSTM
            entry[f"{name}0"], entry[name] = f(states[0, 0, hi]), f(units(states[1:]))
        entry.update({name: f(units(arr)) for name, arr in lt.keeps.items()})
        entry["errors"] = {name: f(units(arr)) for name, arr in errs.items() if name != "o"}
        entry["terms"] = {name: f(units(arr)) for name, arr in layer_terms(model, trace, result, layer).items()}
        layers.append(entry)
    top = layers[-1]
    cell = model.cell
    return {
        "format": "bptt-explain", "version": 2,
        "text": text, "vocab": vocab.chars, "x": ids[:-1].tolist(), "y": ids[1:].tolist(),
        "model": {"n_in": model.n_in, "n_hidden": H, "n_out": O, "nonlinearity": model.nonlinearity,
                  "cell": cell.name, "layers": model.layers, "gates": G, "options": cell.options(),
                  "seed": seed, "source": source},
        "hidden_units": hs, "output_units": os_,
        "params": {k: f(sl(k, p[k])) for k in p},
        "o": f(trace.o[:, 0]), "yhat": f(trace.yhat[:, 0]),
        "loss": result.loss, "losses": f(result.losses[:, 0]),
        "per_step": {k: f(sl(k, s[k])) for k in s},
        "grads": {k: f(sl(k, g[k])) for k in g},
        # Each layer's states, what its cell keeps, its errors, and the terms the side panel
        # substitutes (``terms.py``); the top layer's also at the top level, as Trace reads it.
        "layers": layers,
        **{k: v for k, v in top.items() if k not in ("errors", "terms")},
        "errors": {"o": f(e["o"][:, 0]), **top["errors"]}, "terms": top["terms"],
        "update": {"lr": float(lr), "lrs": rates, "loss_after": after},
        "lag": {"norms": [[None if k > t else float(norms[t, k]) for k in range(T)] for t in range(T)],
                "by_lag": by_lag},
        # The forward-mode view (one layer only): RTRL's dz(t)/dW[r, c] beside BPTT's terms (forward.py).
        "forward": forward_mode(model, x, y, s["W"], hi),
    }


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


def explain(model, text: str = DEFAULT_TEXT, *, vocab: Vocab | None = None,
            lr: float = 0.1, seed=None, source: str | None = None) -> Explanation:
    """Step through ``model`` on ``text`` (2 to 17 characters) forward and backward in a page.

    model: a character model of any cell (SimpleRNN, LSTM, GRU) and any number of layers (a
    stack is shown one layer at a time), or a run folder or checkpoint file (a path), whose
    model and vocabulary are used.
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
        >>> bptt.explain("runs/book", "ROMEO:")   # doctest: +SKIP
    """
    if isinstance(model, (str, os.PathLike)):
        from ..train import checkpoint
        ck = checkpoint.load(model, name="model")
        if ck.vocab is None:
            raise ValueError(f"model {str(ck.path)!r}: expected a character model with a vocabulary, "
                             f"got a checkpoint without one")
        if vocab is not None and vocab != ck.vocab:
            raise ValueError(f"vocab: expected the checkpoint's vocabulary of {len(ck.vocab)} characters "
                             f"(or none), got a different one of {len(vocab)}")
        model, vocab, source = ck.model, ck.vocab, source or str(ck.path)
    one_direction(model, "the explain page (it draws one direction; bidirectional models are not drawn yet)")
    return Explanation(build_data(model, text, vocab=vocab, lr=lr, seed=seed, source=source))
