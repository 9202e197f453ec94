"""The three conventions a learner's functions are written in, and how their arrays map to the book's.

The checker works in the book's convention (``reference.py``: row-vector batches, time-major
sequences, U (G*H, I), W (G*H, H), b (G*H,), LSTM gates in the order i, f, g, o). A convention
says, for each function it knows, the learner's name, arguments and outputs, and turns the
book's arrays into the learner's: the arguments it is called with and the outputs it must
return. Comparisons happen in the learner's own shapes and names, so a report speaks them: each
convention's ``Words`` are its variable names and the expressions of its step's products, for the
hints. The functions are listed in the order the assignment asks for them (its notebook's order),
which is the order they are checked and reported in.

- ``bptt``: the book's names and shapes (this package's README and tutorial), x (T, B, I), U (H, I);
  also the tutorial's ``truncated_backward`` and ``clip_gradients``.
- ``cs231n``: Stanford cs231n's ``rnn_layers.py``: x (N, T, D), Wx (D, H) = U^T, Wh (H, H) = W^T,
  LSTM gate blocks in the order i, f, o, g.
- ``dlai``: deeplearning.ai's "Building your Recurrent Neural Network - Step by Step": column
  vectors, xt (n_x, m), a (n_a, m), x (n_x, m, T_x); Wax = U, Waa = W, ba (n_a, 1); LSTM gates
  f, i, c (the candidate, the book's g), o, each W (n_a, n_a + n_x) acting on [a_prev; xt].

Shape legend: T time, B batch, I inputs, H hidden, O outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BOOK_GATES = ("i", "f", "g", "o")


@dataclass(frozen=True)
class Fn:
    """One function a convention knows: its name, role, cell, arguments and outputs."""

    name: str
    role: str             # dense_forward, dense_backward, loss, step_forward, step_backward, forward, backward
    cell: str             # "rnn", "lstm", or "" (no recurrence)
    args: tuple           # the learner's argument names (the required ones)
    outputs: tuple        # the learner's output names, in order (or the keys of a returned dict)
    returns_dict: bool = False
    optional_args: int = 0   # trailing arguments with defaults the checker never passes (verbose=False)
    order: tuple = ()     # the order outputs are compared in: the order the computation produces them

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.args)})"


@dataclass(frozen=True)
class Words:
    """A convention's own names, for reports in the learner's words.

    ``at`` indexes one step of a sequence array (``"[:, {t}]"``: ``h[:, 3]``); the others are the
    learner's variable names and the expressions of the step's products, as the assignment writes them.
    """

    U: str
    W: str
    b: str
    x: str
    h: str
    dh: str
    dx: str
    at: str
    x_t: str
    prev_h: str
    next_h: str
    dnext_h: str
    dprev_h: str
    h0: str
    dh0: str
    prev_c: str
    next_c: str
    dnext_c: str
    dprev_c: str
    caches: str
    step: str
    da: str
    da_shape: str
    dU: str
    dW: str
    db: str
    back_h: str
    back_x: str
    gates: str

    def of(self, name, t):
        """One step of a sequence array in the learner's indexing: of("dx", 3) -> "dx[:, 3]"."""
        return getattr(self, name, name) + self.at.format(t=t)


def _gate_blocks(a, axis):
    return np.split(a, 4, axis=axis)


class Convention:
    name = ""
    label = ""
    functions: tuple = ()
    words: Words = None
    time_axis = 0         # of sequence arrays (x, h, dx, dh)

    # Book -> learner; each may be overridden.
    def state(self, h):                       # (B, H)
        return h

    def seq(self, a):                         # (T, B, n) -> the learner's sequence layout
        return a

    def at(self, a, t):                       # one step of a learner-layout sequence
        return np.take(a, t, axis=self.time_axis)

    def params(self, cell, P):                # P: book dict U, W, b, V, c -> learner's arguments
        raise NotImplementedError

    def grads(self, cell, dU, dW, db):        # -> dict of the learner's gradient names
        raise NotImplementedError

    def fn(self, name) -> Fn | None:
        return next((f for f in self.functions if f.name == name), None)


def _to_cs_gates(a, axis):
    """Book gate blocks i, f, g, o -> cs231n's i, f, o, g (the permutation is its own inverse)."""
    i, f, g, o = _gate_blocks(a, axis)
    return np.concatenate([i, f, o, g], axis=axis)


class Bptt(Convention):
    name, label = "bptt", "bptt's own (the book's names and shapes)"
    functions = (       # the tutorial's order
        Fn("dense_forward", "dense_forward", "", ("x", "M", "v"), ("out",)),
        Fn("dense_backward", "dense_backward", "", ("dout", "x", "M"), ("dx", "dM", "dv"),
           order=("dv", "dM", "dx")),
        Fn("step_forward", "step_forward", "rnn", ("x_t", "h_prev", "U", "W", "b"), ("h", "cache")),
        Fn("forward", "forward", "rnn", ("x", "h0", "U", "W", "b"), ("h", "cache")),
        Fn("step_backward", "step_backward", "rnn", ("dh", "cache"), ("dx", "dh_prev", "dU", "dW", "db"),
           order=("db", "dU", "dW", "dx", "dh_prev")),
        Fn("backward", "backward", "rnn", ("dh", "cache"), ("dx", "dh0", "dU", "dW", "db"),
           order=("dx", "dh0", "db", "dU", "dW")),
        Fn("softmax_loss", "loss", "", ("o", "y"), ("L", "do"), order=("L", "do")),
        Fn("truncated_backward", "truncated_backward", "rnn", ("dh", "cache", "k"), ("dx", "dU", "dW", "db"),
           order=("dx", "db", "dU", "dW")),
        Fn("clip_gradients", "clip", "", ("grads", "max_norm"), ("grads",)),
        Fn("lstm_cell_step_forward", "step_forward", "lstm", ("x_t", "h_prev", "s_prev", "U", "W", "b"),
           ("h", "s", "cache"), order=("s", "h")),
        Fn("lstm_cell_step_backward", "step_backward", "lstm", ("dh", "ds", "cache"),
           ("dx", "dh_prev", "ds_prev", "dU", "dW", "db"), order=("ds_prev", "db", "dU", "dW", "dx", "dh_prev")),
    )
    words = Words(U="U", W="W", b="b", x="x", h="h", dh="dh", dx="dx", at="[{t}]", x_t="x_t",
                  prev_h="h_prev", next_h="h", dnext_h="dh", dprev_h="dh_prev", h0="h0", dh0="dh0",
                  prev_c="s_prev", next_c="s", dnext_c="ds", dprev_c="ds_prev", caches="cache",
                  step="h = tanh(x_t @ U.T + h_prev @ W.T + b)", da="da", da_shape="(B, H)",
                  dU="da.T @ x_t", dW="da.T @ h_prev", db="da.sum(axis=0)",
                  back_h="da @ W", back_x="da @ U", gates="i, f, g, o")

    def params(self, cell, P):
        return {"U": P["U"], "W": P["W"], "b": P["b"]}

    def grads(self, cell, dU, dW, db):
        return {"dU": dU, "dW": dW, "db": db}


class Cs231n(Convention):
    name, label = "cs231n", "cs231n's rnn_layers.py"
    time_axis = 1
    functions = (       # the order of the assignment's notebooks: RNN_Captioning, then LSTM_Captioning
        Fn("rnn_step_forward", "step_forward", "rnn", ("x", "prev_h", "Wx", "Wh", "b"), ("next_h", "cache")),
        Fn("rnn_step_backward", "step_backward", "rnn", ("dnext_h", "cache"), ("dx", "dprev_h", "dWx", "dWh", "db"),
           order=("db", "dWx", "dWh", "dx", "dprev_h")),
        Fn("rnn_forward", "forward", "rnn", ("x", "h0", "Wx", "Wh", "b"), ("h", "cache")),
        Fn("rnn_backward", "backward", "rnn", ("dh", "cache"), ("dx", "dh0", "dWx", "dWh", "db"),
           order=("dx", "dh0", "db", "dWx", "dWh")),
        Fn("word_embedding_forward", "embed_forward", "", ("x", "W"), ("out", "cache")),
        Fn("word_embedding_backward", "embed_backward", "", ("dout", "cache"), ("dW",)),
        Fn("temporal_affine_forward", "dense_forward", "", ("x", "w", "b"), ("out", "cache")),
        Fn("temporal_affine_backward", "dense_backward", "", ("dout", "cache"), ("dx", "dw", "db"),
           order=("db", "dw", "dx")),
        Fn("temporal_softmax_loss", "loss", "", ("x", "y", "mask"), ("loss", "dx"), optional_args=1,
           order=("loss", "dx")),
        Fn("lstm_step_forward", "step_forward", "lstm", ("x", "prev_h", "prev_c", "Wx", "Wh", "b"),
           ("next_h", "next_c", "cache"), order=("next_c", "next_h")),
        Fn("lstm_step_backward", "step_backward", "lstm", ("dnext_h", "dnext_c", "cache"),
           ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"), order=("dprev_c", "db", "dWx", "dWh", "dx", "dprev_h")),
        Fn("lstm_forward", "forward", "lstm", ("x", "h0", "Wx", "Wh", "b"), ("h", "cache")),
        Fn("lstm_backward", "backward", "lstm", ("dh", "cache"), ("dx", "dh0", "dWx", "dWh", "db"),
           order=("dx", "dh0", "db", "dWx", "dWh")),
    )
    words = Words(U="Wx", W="Wh", b="b", x="x", h="h", dh="dh", dx="dx", at="[:, {t}]", x_t="x",
                  prev_h="prev_h", next_h="next_h", dnext_h="dnext_h", dprev_h="dprev_h", h0="h0", dh0="dh0",
                  prev_c="prev_c", next_c="next_c", dnext_c="dnext_c", dprev_c="dprev_c", caches="cache",
                  step="next_h = np.tanh(x @ Wx + prev_h @ Wh + b)", da="da", da_shape="(N, H)",
                  dU="x.T @ da", dW="prev_h.T @ da", db="da.sum(axis=0)",
                  back_h="da @ Wh.T", back_x="da @ Wx.T", gates="i, f, o, g")

    def seq(self, a):
        return a.transpose(1, 0, *range(2, a.ndim))

    def params(self, cell, P):
        if cell == "lstm":
            return {"Wx": _to_cs_gates(P["U"].T, 1), "Wh": _to_cs_gates(P["W"].T, 1), "b": _to_cs_gates(P["b"], 0)}
        return {"Wx": P["U"].T, "Wh": P["W"].T, "b": P["b"]}

    def grads(self, cell, dU, dW, db):
        p = self.params(cell, {"U": dU, "W": dW, "b": db})
        return {"d" + k: v for k, v in p.items()}


class Dlai(Convention):
    name, label = "dlai", "deeplearning.ai's column-major rnn_utils"
    time_axis = 2
    GATES = {"f": 1, "i": 0, "c": 2, "o": 3}      # their gate name -> book block
    functions = (       # the notebook's order: the forward passes (RNN, LSTM), then the backward passes
        Fn("rnn_cell_forward", "step_forward", "rnn", ("xt", "a_prev", "parameters"), ("a_next", "yt_pred", "cache"),
           order=("a_next", "yt_pred")),
        Fn("rnn_forward", "forward", "rnn", ("x", "a0", "parameters"), ("a", "y_pred", "caches"),
           order=("a", "y_pred")),
        Fn("lstm_cell_forward", "step_forward", "lstm", ("xt", "a_prev", "c_prev", "parameters"),
           ("a_next", "c_next", "yt_pred", "cache"), order=("c_next", "a_next", "yt_pred")),
        Fn("lstm_forward", "forward", "lstm", ("x", "a0", "parameters"), ("a", "y", "c", "caches"),
           order=("c", "a", "y")),
        Fn("rnn_cell_backward", "step_backward", "rnn", ("da_next", "cache"), ("dxt", "da_prev", "dWax", "dWaa", "dba"),
           returns_dict=True, order=("dba", "dWax", "dWaa", "dxt", "da_prev")),
        Fn("rnn_backward", "backward", "rnn", ("da", "caches"), ("dx", "da0", "dWax", "dWaa", "dba"),
           returns_dict=True, order=("dx", "da0", "dba", "dWax", "dWaa")),
        Fn("lstm_cell_backward", "step_backward", "lstm", ("da_next", "dc_next", "cache"),
           ("dxt", "da_prev", "dc_prev", "dWf", "dWi", "dWc", "dWo", "dbf", "dbi", "dbc", "dbo"), returns_dict=True,
           order=("dc_prev", "dbf", "dbi", "dbc", "dbo", "dWf", "dWi", "dWc", "dWo", "dxt", "da_prev")),
        Fn("lstm_backward", "backward", "lstm", ("da", "caches"),
           ("dx", "da0", "dWf", "dWi", "dWc", "dWo", "dbf", "dbi", "dbc", "dbo"), returns_dict=True,
           order=("dx", "da0", "dbf", "dbi", "dbc", "dbo", "dWf", "dWi", "dWc", "dWo")),
    )
    words = Words(U="Wax", W="Waa", b="ba", x="x", h="a", dh="da", dx="dx", at="[:, :, {t}]", x_t="xt",
                  prev_h="a_prev", next_h="a_next", dnext_h="da_next", dprev_h="da_prev", h0="a0", dh0="da0",
                  prev_c="c_prev", next_c="c_next", dnext_c="dc_next", dprev_c="dc_prev", caches="caches",
                  step="a_next = np.tanh(Wax @ xt + Waa @ a_prev + ba)", da="dz", da_shape="(n_a, m)",
                  dU="dz @ xt.T", dW="dz @ a_prev.T", db="np.sum(dz, axis=1, keepdims=True)",
                  back_h="Waa.T @ dz", back_x="Wax.T @ dz", gates="f, i, c, o (one matrix each)")

    def state(self, h):
        return h.T

    def seq(self, a):
        return a.transpose(2, 1, 0)

    def params(self, cell, P, readout=True):
        out = {}
        if cell == "lstm":
            U, W, b = (_gate_blocks(P[k], 0) for k in ("U", "W", "b"))
            for g, k in self.GATES.items():
                out["W" + g] = np.concatenate([W[k], U[k]], axis=1)        # (n_a, n_a + n_x) on [a_prev; xt]
                out["b" + g] = b[k][:, None]                              # (n_a, 1)
            if readout:
                out["Wy"], out["by"] = P["V"], P["c"][:, None]
        else:
            out = {"Wax": P["U"], "Waa": P["W"], "ba": P["b"][:, None]}
            if readout:
                out["Wya"], out["by"] = P["V"], P["c"][:, None]
        return out

    def grads(self, cell, dU, dW, db):
        p = self.params(cell, {"U": dU, "W": dW, "b": db}, readout=False)
        return {"d" + k: v for k, v in p.items()}


CONVENTIONS = {c.name: c for c in (Bptt(), Cs231n(), Dlai())}


def recognised(namespace, convention=None):
    """(convention, {name: function}) for the functions ``namespace`` defines, or (None, {}).

    The convention is the one whose names the namespace defines most of (cs231n and
    deeplearning.ai share ``rnn_forward``/``rnn_backward``; their arity tells them apart), unless
    ``convention`` names one, or the namespace sets ``BPTT_CONVENTION``.
    """
    convention = convention or namespace.get("BPTT_CONVENTION")
    candidates = [CONVENTIONS[convention]] if convention else list(CONVENTIONS.values())
    best, found = None, {}
    for conv in candidates:
        mine = {f.name: namespace[f.name] for f in conv.functions if callable(namespace.get(f.name))}
        score = sum(_arity_fits(f, mine[f.name]) for f in conv.functions if f.name in mine)
        if mine and (best is None or score > best[0]):
            best, found = (score, conv), mine
    return (best[1] if best else (CONVENTIONS[convention] if convention else None)), found


def arity(fn):
    """(required positional parameters, whether more can be passed) of a callable, or None."""
    import inspect
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    required = sum(1 for p in sig.parameters.values()
                   if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty)
    total = sum(1 for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    varargs = any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values())
    return required, (total if not varargs else 10 ** 6)


def _arity_fits(spec: Fn, fn) -> bool:
    a = arity(fn)
    return a is None or a[0] <= len(spec.args) <= a[1]
