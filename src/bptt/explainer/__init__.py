"""The article, alive: one self-contained HTML page stepping through forward and backward.

``explain(model, text)`` runs the library's own forward and backward on one short sequence
(B = 1, next-character prediction: x = text[:-1], y = text[1:]) and embeds every number the
page draws as JSON in ``<script type="application/json" id="bptt-data">``. The page's script
reads only that JSON, so what a learner sees is what ``SimpleRNN.backward`` computed; the
scripts and styles (``page.js``, ``page.css``) are inlined so the file opens from disk with no
network.

Arrays in the JSON keep the library's axes without the batch axis (B = 1): a, h (T, H);
yhat, o, errors["o"] (T, O). Models larger than the page can draw keep only the first
``MAX_UNITS`` hidden units (and, for a large vocabulary, the output units of the text's own
characters); every shown number is still the full model's, sliced, never recomputed.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..diagnose import lag_profile
from ..data import Vocab
from ..network import Network, SimpleRNN

MAX_CHARS = 17          # 16 steps: 16 columns still fit side by side at 1280 px
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
    if not isinstance(model, Network) or model.cell.name != "rnn" or model.layers != 1:
        raise ValueError(f"{name}: expected a one-layer bptt.SimpleRNN, got {model!r}")
    if model.output != "softmax" or model.n_in != len(vocab) or model.n_out != len(vocab):
        raise ValueError(f"{name}: expected a character model (softmax output, n_in = n_out = {len(vocab)}, "
                         f"the vocabulary size), got {model!r}")


def build_data(model: SimpleRNN, text: str, *, vocab: Vocab | None = None, lr: float = 0.1,
               seed=None, source: str | None = None) -> dict:
    """Every number the page shows, from ``model.forward`` and ``model.backward``."""
    check_text(text)
    vocab = Vocab.from_text(text) if vocab is None else vocab
    check_model(model, vocab)
    if not (isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr: expected a positive finite learning rate, got {lr!r}")
    ids = vocab.encode(text)
    x, y = ids[:-1, None], ids[1:, None]                     # (T, 1): B = 1
    trace = model.forward(x)
    result = model.backward(trace, y, per_step=True)
    p, g, s, e = model.params, result.grads, result.per_step, result.errors
    T, H, O = len(x), model.n_hidden, model.n_out
    hs = list(range(min(H, MAX_UNITS)))                      # hidden units shown
    os_ = list(range(O)) if O <= MAX_UNITS else sorted(set(ids.tolist()))   # output units shown
    hi, oi = np.array(hs), np.array(os_)

    def sl(name, arr):
        """Slice an array shaped like parameter ``name`` (optionally with a leading T axis)."""
        rows, cols = {"U": (hi, oi), "W": (hi, hi), "b": (hi, None), "V": (oi, hi), "c": (oi, None)}[name]
        arr = arr[..., rows, :] if cols is not None else arr[..., rows]
        return arr[..., cols] if cols is not None else arr

    top = trace.layers[-1]
    fprime, = model.cell.backward_locals(top.states, top.keeps, {"a": np.empty_like(trace.a)})   # f'(a(t))
    wda = np.zeros_like(e["a"])                              # W^T dL/da(t+1), zero after the last step
    wda[:-1] = e["a"][1:] @ p["W"]
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

    return {
        "format": "bptt-explain", "version": 1,
        "text": text, "vocab": vocab.chars, "x": ids[:-1].tolist(), "y": ids[1:].tolist(),
        "model": {"n_in": model.n_in, "n_hidden": H, "n_out": O, "nonlinearity": model.nonlinearity,
                  "seed": seed, "source": source},
        "hidden_units": hs, "output_units": os_,
        "params": {k: f(sl(k, p[k])) for k in p},
        "h0": f(trace.h0[0, hi]),
        "a": f(trace.a[:, 0, hi]), "h": f(trace.h[:, 0, hi]),
        "o": f(trace.o[:, 0]), "yhat": f(trace.yhat[:, 0]),
        "loss": result.loss, "losses": f(result.losses[:, 0]),
        "errors": {"o": f(e["o"][:, 0]), "h": f(e["h"][:, 0, hi]), "a": f(e["a"][:, 0, hi])},
        "per_step": {k: f(sl(k, s[k])) for k in s},
        "grads": {k: f(sl(k, g[k])) for k in g},
        # The terms each sum is made of, so the page substitutes numbers without doing the maths.
        "terms": {
            "Ux": f(p["U"][hi][:, ids[:-1]].T),                        # U x(t) = column x(t) of U
            "Wh": f((trace.hs[:-1, 0] @ p["W"].T)[:, hi]),             # W h(t-1)
            "fprime": f(fprime[:, 0, hi]),                             # f'(a(t))
            "Vdo": f((e["o"][:, 0] @ p["V"])[:, hi]),                  # V^T dL/do(t)
            "Wda": f(wda[:, 0, hi]),                                   # W^T dL/da(t+1)
        },
        "update": {"lr": float(lr), "lrs": rates, "loss_after": after},
        "lag": {"norms": [[None if k > t else float(norms[t, k]) for k in range(T)] for t in range(T)],
                "by_lag": by_lag},
    }


_ASSETS = ("page.html", "page.css", "page.js")


def render(data: dict) -> str:
    """The one self-contained HTML file: template with the CSS, the script and the JSON inlined."""
    files = resources.files(__name__)
    page, css, js = (files.joinpath(name).read_text(encoding="utf-8") for name in _ASSETS)
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
        path = Path(path)
        path.write_text(self.html, encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        # An iframe keeps the page's ids, styles and keys apart from the notebook's own.
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                f'style="width:100%;height:820px;border:0" title="bptt explain"></iframe>')


def explain(model: SimpleRNN, text: str = DEFAULT_TEXT, *, vocab: Vocab | None = None,
            lr: float = 0.1, seed=None, source: str | None = None) -> Explanation:
    """Step through ``model`` on ``text`` (2 to 17 characters) forward and backward in a page.

    vocab: the model's character vocabulary (a checkpoint's); by default the text's own
    characters, sorted, which must match the model's n_in and n_out.
    lr: the learning rate the page's update stage starts with.

        >>> import bptt
        >>> model = bptt.SimpleRNN(4, 8, 4, seed=0)
        >>> page = bptt.explain(model, "abcdab")
        >>> page.save("explain.html")   # doctest: +SKIP
    """
    return Explanation(build_data(model, text, vocab=vocab, lr=lr, seed=seed, source=source))
