"""The classic BPTT mistakes, computed, so that a departure can be named with its cause.

Each function returns the values a learner's function would give if it made one classic
mistake (in the learner's own convention, through ``run.conv``), with the hint that explains
it. A hint is given only when the learner's numbers equal the mistake's; otherwise the hint
states the equation of the quantity that departs.

Hints speak the learner's words (``run.w``: ``dprev_h``, ``Wh``, ``cache``; ``h[:, 3]``) and
count steps as their loop does, ``t = 0, ..., T-1``; the book's notation (steps 1 to T,
``h(0) = h0``) stands beside it in parentheses: the learner's step t is the book's step t+1.
A step function is not tied to a step: its hints name none.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from . import reference as ref
from .cases import lstm_states

GATE_EQ = {"i": "dL/dz_i = dL/ds(t) g(t) i(t) (1 - i(t))",
           "f": "dL/dz_f = dL/ds(t) s(t-1) f(t) (1 - f(t))",
           "g": "dL/dz_g = dL/ds(t) i(t) (1 - g(t)^2)",
           "o": "dL/dz_o = dL/dh(t) tanh(s(t)) o(t) (1 - o(t))"}
BOOK_PARAM = {"dU": "dU", "dWx": "dU", "dWax": "dU", "dW": "dW", "dWh": "dW", "dWaa": "dW",
              "db": "db", "dba": "db"}
BOOK_EQ = {"dU": "dL/da(t) x(t)^T", "dW": "dL/da(t) h(t-1)^T", "db": "dL/da(t)"}


def book_step(t):
    """The book's name for the learner's step t (0-based): its step t+1."""
    return t + 1


# ------------------------------------------------------------------------ shapes, None, raising
def shape_hint(conv, name, got, want, case_B=None, case_T=None):
    if len(got) == 2 and got == want[::-1]:
        return " (transposed: check which side of the product each weight goes on)"
    if conv == "dlai" and got == want[:1]:
        return " (keep the column axis: np.sum(..., axis=1, keepdims=True))"
    if case_B not in (None, 1) and tuple(got) in ((case_B,), (1, case_B), (case_B, 1)) and case_B not in want:
        axis = "axis=1, keepdims=True" if conv == "dlai" else "axis=0"
        return (f" (summed over the wrong axis: {name} sums over the batch of {case_B}, "
                f"np.sum(..., {axis}), and keeps one entry per unit)")
    if tuple(d for d in want if d != 1) == tuple(got) and len(got) < len(want):
        lost = "the batch axis" if case_B == 1 else "the time axis" if case_T == 1 else "an axis of length 1"
        return (f" ({lost} was dropped: .squeeze() or np.squeeze removes every axis of length 1, so "
                f"the shape depends on the data; index or reshape instead)")
    return ""


def missing_hint(name, w):
    if name == w.dh0:
        return f"; {w.dh0} is the {w.dprev_h} that step t = 0 sends back (book: W^T dL/da(1))"
    return ""


def exception_hint(err, spec, w, case_B, case_T, equation):
    """A hint for an exception raised in the learner's code."""
    msg = str(err)
    name = type(err).__name__
    if isinstance(err, TypeError) and "as a data type" in msg:
        return ("np.zeros (and np.ones, np.empty) takes the shape as one tuple: np.zeros(W.shape) or "
                "np.zeros((H, H)); np.zeros(*W.shape) passes the second size where the dtype goes")
    if isinstance(err, TypeError) and ("slice indices must be integers" in msg or "as an integer" in msg
                                       or "only integers" in msg or "'float' object cannot be" in msg):
        return ("an index or a shape is a float: in Python 3, / always gives a float (H / 4 is 1.0 for H = 4); "
                "use // for sizes and indices")
    if isinstance(err, ValueError) and ("matmul" in msg or "not aligned" in msg or "shapes" in msg
                                        or "broadcast" in msg or "could not be broadcast" in msg):
        sizes = "with a batch of one (B = 1)" if case_B == 1 else "with a single step (T = 1)" if case_T == 1 else ""
        return (f"the shapes of a product or a sum do not fit{' ' + sizes if sizes else ''}: check which side of "
                f"each product a weight goes on and whether it needs .T ({w.U} {_shape_word(w, 'U')}, "
                f"{w.W} {_shape_word(w, 'W')}); {equation}")
    if isinstance(err, IndexError):
        if case_T == 1:
            return f"an index runs past the sequence with a single step (T = 1): the steps are t = 0, ..., T-1"
        if case_B == 1:
            return "an index runs past an axis with a batch of one (B = 1)"
        return f"an index runs past an array's end: the steps are t = 0, ..., T-1; {equation}"
    if isinstance(err, NameError):
        return f"{getattr(err, 'name', 'a name')} is not defined where {spec.name} runs: define or import it in your file"
    if name == "KeyError":
        return f"the key {msg} is not there: {spec.name}'s dicts use the assignment's names ({', '.join(spec.outputs)})"
    return equation


def _shape_word(w, which):
    return {("Wx", "U"): "(D, H)", ("Wh", "W"): "(H, H)", ("Wax", "U"): "(n_a, n_x)", ("Waa", "W"): "(n_a, n_a)",
            ("U", "U"): "(H, I)", ("W", "W"): "(H, H)"}.get((getattr(w, which), which), "")


# ------------------------------------------------------------------------------ equations
def equation_hint(run, cell, role, name, t=None):
    """The equation of ``name`` in the learner's words, the book's beside; t: the learner's step."""
    w = run.w
    if cell == "rnn":
        if role in ("step_forward", "forward"):
            if name in ("yt_pred", "y_pred"):
                return ("yt_pred = softmax(Wya @ a_next + by), over the output units of each example "
                        "(book: yhat(t) = softmax(c + V h(t)))")
            if t is None:
                return f"{w.step} (book eqs. 10.8-10.9: a(t) = b + W h(t-1) + U x(t), h(t) = tanh(a(t)))"
            k = book_step(t)
            return (f"{w.of('h', t)} is the {w.next_h} of step t = {t}: {w.step} with {w.prev_h} = "
                    f"{w.of('h', t - 1) if t else w.h0} (book: h({k}) = tanh(b + W h({k - 1}) + U x({k})))")
        book = _book_name(w, name)
        da = f"{w.da} = {w.dnext_h} * (1 - {w.next_h}**2)"
        return {"db": f"{name} = {w.db}, {da} (book: dL/db = sum over the batch of dL/da(t), "
                      f"dL/da(t) = (1 - h(t)^2) dL/dh(t))",
                "dx": f"{name} = {w.back_x}, {da} (book: dL/dx(t) = U^T dL/da(t))",
                "dprev_h": f"{name} = {w.back_h}, {da} (book: step t sends W^T dL/da(t) back to h(t-1))",
                "dU": f"{name} = {w.dU}, {da} (book: dL/dU = dL/da(t) x(t)^T)",
                "dW": f"{name} = {w.dW}, {da} (book: dL/dW = dL/da(t) h(t-1)^T)",
                }.get(book, f"{da}, then the products (book: dL/da(t) = (1 - h(t)^2) dL/dh(t))")
    if role in ("step_forward", "forward"):
        return (f"z = {w.x_t} and {w.prev_h} through the weights + the bias; i, f, o = sigmoid(z_i, z_f, z_o), "
                f"g = tanh(z_g) (blocks {w.gates}); {w.next_c} = f * {w.prev_c} + i * g; {w.next_h} = o * "
                f"tanh({w.next_c}) (book: s(t) = f s(t-1) + i g, h(t) = o tanh(s(t)))")
    return (f"dc = {w.dnext_c} + {w.dnext_h} * o * (1 - tanh({w.next_c})**2); then each gate's error; "
            f"{w.dprev_c} = f * dc (book: dL/ds(t) = dL/dh(t) o tanh'(s(t)) + f(t+1) dL/ds(t+1); "
            + "; ".join(GATE_EQ.values()) + "; dL/ds(t-1) = f(t) dL/ds(t))")


def _book_name(w, name):
    if name in (w.dx, "dxt", "dx"):
        return "dx"
    if name in (w.dprev_h, "dprev_h", "da_prev", "dh_prev"):
        return "dprev_h"
    return BOOK_PARAM.get(name, name)


# ------------------------------------------------------------------------- step forward
def step_forward_mistakes(run, cell, case, t, hs, ss):
    if cell != "rnn":
        return _lstm_step_forward_mistakes(run, case, t, hs, ss)
    w = run.w
    P, x, h_prev = case.P, case.x[t], hs[t]
    U, W, b = P["U"], P["W"], P["b"]
    out = []

    def add(h, text):
        out.append((run.step_expect(cell, h, None, P), text))
    eq = f"{w.step} (book: a(t) = b + W h(t-1) + U x(t))"
    add(np.tanh(x @ U.T + h_prev @ W + b), f"{w.next_h} uses {w.W} the wrong way round (transposed): {eq}")
    add(np.tanh(x @ U.T + b), f"{w.next_h} lacks the recurrent term, {w.W} with {w.prev_h}: {eq}")
    add(np.tanh(x @ U.T + h_prev @ W.T), f"{w.next_h} lacks the bias {w.b}: {eq}")
    add(x @ U.T + h_prev @ W.T + b, f"{w.next_h} is the pre-activation itself: the tanh is missing, {eq}")
    if run.conv.name == "dlai":
        h = hs[t + 1]
        o = h @ P["V"].T + P["c"]
        z = np.exp(o - o.max(axis=0, keepdims=True))
        wrong = run.step_expect(cell, h, None, P)
        wrong["yt_pred"] = (z / z.sum(axis=0, keepdims=True)).T
        out.append((wrong, "yt_pred normalises over the examples; the softmax runs over the output units "
                           "(axis 0 in column-major arrays)"))
    return out


def _lstm_step_forward_mistakes(run, case, t, hs, ss):
    w = run.w
    P = case.P
    out = []
    for perm, what in (([0, 1, 3, 2], "g and o"), ([1, 0, 2, 3], "i and f")):
        # A learner who reads two blocks in each other's place computes the book's step with them swapped.
        U2, W2, b2 = (np.concatenate([np.split(P[k], 4, axis=0)[j] for j in perm], 0) for k in ("U", "W", "b"))
        h, s, _ = ref.lstm_step_forward(case.x[t], hs[t], ss[t], U2, W2, b2)
        out.append((run.step_expect("lstm", h, s, P),
                    f"the {what} gate blocks are read in each other's place; {run.conv.label}'s blocks are {w.gates}"))
    h, s, g = ref.lstm_step_forward(case.x[t], hs[t], ss[t], P["U"], P["W"], P["b"])
    out.append((run.step_expect("lstm", g["o"] * np.tanh(g["i"] * g["g"]), g["i"] * g["g"], P),
                f"{w.next_c} lacks the forget gate's carry f * {w.prev_c}: {w.next_c} = f * {w.prev_c} + i * g "
                f"(book: s(t) = f(t) s(t-1) + i(t) g(t))"))
    s_nof = ss[t] + g["i"] * g["g"]
    out.append((run.step_expect("lstm", g["o"] * np.tanh(s_nof), s_nof, P),
                f"{w.next_c} adds {w.prev_c} whole: the forget gate is missing, {w.next_c} = f * {w.prev_c} + i * g "
                f"(book: s(t) = f(t) s(t-1) + i(t) g(t))"))
    out.append((run.step_expect("lstm", g["o"] * s, s, P),
                f"{w.next_h} = o * tanh({w.next_c}): the tanh of the cell state is missing (book: h(t) = o tanh(s(t)))"))
    return out


# ------------------------------------------------------------------------ step backward
def step_backward_mistakes(run, cell, case, t, hs, ss, dh, ds):
    w = run.w
    n = run.names
    P, x = case.P, case.x[t]
    U, W = P["U"], P["W"]
    out = []
    if cell == "rnn":
        h_prev, h = hs[t], hs[t + 1]
        a = np.arctanh(np.clip(h, -1 + 1e-15, 1 - 1e-15))

        def grads(da, dW_state=h_prev, W_back=W):
            return {"dx": da @ U, "dh_prev": da @ W_back, "dU": da.T @ x, "dW": da.T @ dW_state, "db": da.sum(0)}

        def add(r, text):
            out.append((run.grads_expect(cell, r, n["dx"], n["dh_prev"]), text))
        book = "(book: dL/da(t) = (1 - h(t)^2) dL/dh(t))"
        add(grads(dh * (1 - a ** 2)), f"tanh's derivative is taken from the pre-activation, 1 - a**2; it is "
                                      f"1 - {w.next_h}**2 = 1 - tanh(a)**2: {w.da} = {w.dnext_h} * "
                                      f"(1 - {w.next_h}**2) {book}")
        add(grads(dh * (1 - h)), f"tanh's derivative is taken as 1 - {w.next_h}; it is 1 - {w.next_h}**2 {book}")
        add(grads(dh), f"the derivative of tanh is missing: {w.da} = {w.dnext_h} * (1 - {w.next_h}**2) {book}")
        da = dh * (1 - h ** 2)
        w_name = run.conv.grads("rnn", U, W, P["b"]).keys()
        w_name = [k for k in w_name if BOOK_PARAM.get(k) == "dW"][0]
        add(grads(da, dW_state=h), f"{w_name} uses {w.next_h}; it is {w.dW}, with {w.prev_h}, the state before "
                                   f"the step (book: dL/dW = dL/da(t) h(t-1)^T)")
        add(grads(da, W_back=W.T), f"{w.dprev_h} multiplies by {w.W} the wrong way round: it is {w.back_h} "
                                   f"(book: step t sends W^T dL/da(t) back)")
        return out
    s_prev = ss[t]
    r = ref.lstm_step_backward(dh, ds, x, hs[t], s_prev, U, W, P["b"], carry_f=False)
    out.append((run.grads_expect(cell, r, n["dx"], n["dh_prev"], n["ds_prev"]),
                f"{w.dprev_c} lacks the forget gate's factor: it is f * dc, the cell state's error carried back "
                f"(book: dL/ds(t-1) = f(t) dL/ds(t), the f * ds carry)"))
    r = ref.lstm_step_backward(dh, 0 * ds, x, hs[t], s_prev, U, W, P["b"])
    out.append((run.grads_expect(cell, r, n["dx"], n["dh_prev"], n["ds_prev"]),
                f"{w.dnext_c} is ignored: dc = {w.dnext_c} + {w.dnext_h} * o * (1 - tanh({w.next_c})**2) adds the "
                f"error arriving along the cell state (book: dL/ds(t) = dL/dh(t) o(t) tanh'(s(t)) + f(t+1) dL/ds(t+1))"))
    return out


def gate_hint(run, cell, name, got, want):
    """For an LSTM gradient with one block per gate: name the gate whose block departs."""
    if cell != "lstm":
        return None
    conv = run.conv.name
    if conv == "dlai":
        gate = {"f": "f", "i": "i", "c": "g", "o": "o"}.get(name[-1])
        if name[:2] in ("dW", "db") and gate:
            return f"the {name[-1]} gate's gradient {name} departs (book: {GATE_EQ[gate]})"
        return None
    g = np.asarray(got, dtype=float)
    if g.shape != want.shape or g.shape[-1] % 4:
        return None
    order = "ifog" if conv == "cs231n" else "ifgo"
    blocks = np.split(g - want, 4, axis=-1)
    bad = [order[k] for k, d in enumerate(blocks) if np.max(np.abs(d)) > 1e-6 * max(1.0, np.max(np.abs(want)))]
    if len(bad) == 1:
        return f"only the {bad[0]} gate's block of {name} departs (book: {GATE_EQ[bad[0]]})"
    return None


# ---------------------------------------------------------------------- sequence forward
def forward_mistakes(run, cell, case, t):
    """Whole-sequence outputs of the classic forward-loop mistakes, in the learner's layout, for step t."""
    w = run.w
    P = case.P
    seq = run.conv.seq
    h_name = run.names.get("seq_h", "h")
    out = []
    k = book_step(t)
    if cell == "rnn":
        U, W, b = P["U"], P["W"], P["b"]
        restart = np.tanh(case.x @ U.T + case.h0 @ W.T + b)                  # every step from h0
        out.append(({h_name: seq(restart)},
                    f"{w.of('h', t)} is computed from {w.h0}, not from the state step t = {t - 1} returned: feed each "
                    f"step the {w.next_h} of the step before (book: h({k}) = tanh(b + W h({k - 1}) + U x({k})))"))
        zero = ref.rnn_forward(case.x, 0 * case.h0, U, W, b)[1:]
        out.append(({h_name: seq(zero)}, f"the loop starts from zeros instead of {w.h0}: step t = 0 starts from "
                                         f"{w.h0} (book: h(1) = tanh(b + W h(0) + U x(1)), h(0) = h0)"))
        hs = ref.rnn_forward(case.x, case.h0, U, W, b)
        out.append(({h_name: seq(hs[:-1])}, f"{w.of('h', t)} holds the state before step t = {t}: store each step's "
                                            f"{w.next_h} at its own index t (book: h({k}) is the state after step {k})"))
    else:
        z0 = lstm_states(replace(case, h0=0 * case.h0))[0]
        out.append(({h_name: seq(z0[1:])}, f"the loop starts from zeros instead of {w.h0}"))
    return out


# --------------------------------------------------------------------- sequence backward
def backward_dx_hint(run, spec, cell, case, states, t, got, got_all, want_all):
    """(quantity, step, hint) for the first step t (0-based, in decreasing order) whose dx departs."""
    w = run.w
    T = case.T
    hs, ss, gates = states
    conv = run.conv
    k = book_step(t)
    cands = []
    U, W = case.P["U"], case.P["W"]
    step_bwd = run.spec_for(cell, "step_backward")
    step_name = step_bwd.name if step_bwd else "the step backward"
    # A misplaced dx: each step's value stored at another step's index.
    moved = misplaced(run, got_all, want_all, T)
    if moved is not None:
        return moved
    if cell == "rnn":
        fprime = 1 - hs[1:] ** 2
        lone = (fprime * case.dh_out) @ U                                       # no recurrent term
        if t + 1 < T:
            cands.append(("dL/dh", lone[t],
                          f"{w.of('dh', t)} is used alone at t = {t}: add {w.dprev_h}, what step t = {t + 1} sent back "
                          f"through {w.W} (book: dL/dh({k}) = V^T dL/do({k}) + W^T dL/da({k + 1}); "
                          f"dL/dh({k}) lacks the error that step {k + 1} sends back)"))
            confused = (fprime[t] * (case.dh_out[t] + case.dh_out[t + 1])) @ U
            cands.append(("dL/dh", confused,
                          f"at t = {t} you add {w.of('dh', t + 1)}, the next step's upstream error; add instead the "
                          f"{w.dprev_h} that step t = {t + 1}'s {step_name} returned (book: dL/dh({k}) adds "
                          f"W^T dL/da({k + 1}), not dh({k + 1}))"))
        r = ref.rnn_backward(case.dh_out, case.x, hs, U, W, case.P["b"])
        for shift, word in ((-1, "before"), (1, "after")):
            src = t + shift
            if 0 <= src < T:
                alt = ref.rnn_step_backward(r["dh"][t], case.x[src], hs[src], hs[src + 1], U, W, case.P["b"])["dx"]
                cands.append((spec.outputs[0], alt,
                              f"step t = {t} used the cache of step t = {src}, the step {word} it: each step's "
                              f"backward needs its own {w.caches}[{t}]"))
    else:
        r = ref.lstm_backward(case.dh_out, case.x, hs[0], ss[0], U, W, case.P["b"], carry_s=False)
        if t + 1 < T:
            cands.append(("dL/ds", r["dx"][t],
                          f"the {w.dprev_c} of step t = {t + 1} is not passed on to step t = {t} as its {w.dnext_c}: "
                          f"the cell state's error is carried back along the cell state (book: dL/ds({k}) = "
                          f"dL/dh({k}) o({k}) tanh'(s({k})) + f({k + 1}) dL/ds({k + 1}))"))
        lone = np.empty_like(r["dx"])
        for j in range(T):
            lone[j] = ref.lstm_step_backward(case.dh_out[j], np.zeros_like(case.h0), case.x[j], hs[j], ss[j],
                                             U, W, case.P["b"])["dx"]
        if t + 1 < T:
            cands.append(("dL/dh", lone[t],
                          f"{w.of('dh', t)} is used alone at t = {t}: add the {w.dprev_h} and {w.dprev_c} that step "
                          f"t = {t + 1} sent back (book: dL/dh({k}) = V^T dL/do({k}) + W^T dL/dz({k + 1}))"))
    if np.max(np.abs(got)) == 0:
        if t == T - 1:
            return spec.outputs[0], t, (f"{w.of('dx', t)} is zero: step t = {t} is never visited; the reverse loop "
                                        f"runs t = {T - 1}, ..., 0: for t in reversed(range(T)) (book: step {T} is "
                                        f"never visited)")
        if t == 0:
            return spec.outputs[0], t, (f"{w.of('dx', 0)} is zero: the reverse loop stops before t = 0 "
                                        f"(range(T-1, 0, -1) misses index 0; book: it stops before step 1)")
    for quantity, alt, text in cands:
        if run.matches(got, conv.state(alt)):
            return quantity, t, text
    if t + 1 < T and run.sends_nothing_back(spec, cell, case, t + 1):
        return "dL/dh", t, (f"with an upstream error at t = {t + 1} only, {w.of('dx', t)} is zero: nothing reaches step "
                            f"t = {t} from step t = {t + 1}; add its {w.dprev_h} (book: dL/dh({k}) = V^T dL/do({k}) "
                            f"+ W^T dL/da({k + 1}))")
    if (cell, "step_backward") in run.ok:
        nxt = (f" + the {w.dprev_h} step t = {t + 1} returned (book: dL/dh({k}) = V^T dL/do({k}) + "
               f"W^T dL/da({k + 1}))") if t + 1 < T else f" alone, the last step (book: dL/dh({k}) = V^T dL/do({k}))"
        return "dL/dh", t, (f"your {step_name} is right, so the error fed to step t = {t} is wrong: it is "
                            f"{w.of('dh', t)}{nxt}")
    return spec.outputs[0], t, (f"{w.of('dx', t)} = {w.back_x} at t = {t} (book: dL/dx({k}) = U^T dL/da({k}), "
                                f"dL/da(t) = (1 - h(t)^2) dL/dh(t))")


def misplaced(run, got_all, want_all, T):
    """(quantity, step, hint) when the learner's dx holds the right values at the wrong indices."""
    if T < 2:
        return None
    w = run.w
    at = run.conv.at
    where = {}                   # step s -> the index p holding its value
    for s in range(T):
        want_s = at(want_all, s)
        for p in range(T):
            if run.matches(at(got_all, p), want_s):
                where.setdefault(s, p)
    moved = [s for s in reversed(range(T)) if s in where and where[s] != s and not run.matches(at(got_all, s), at(want_all, s))]
    if not moved:
        return None
    s = moved[0]
    p = where[s]
    shift = "one place early" if p == s - 1 else "one place late" if p == s + 1 else f"at index {p}"
    holder = next((q for q in range(T) if where.get(q) == s), None)
    held = f"; {w.of('dx', s)} holds step t = {holder}'s" if holder is not None else ""
    return (run.w.dx, s,
            f"step t = {s}'s {w.dx} is stored {shift}, in {w.of('dx', p)}{held}: store each step's input error at "
            f"the index of its input, {w.of('dx', 't')} for {w.of('x', 't')} (a loop over t writing dx at t - 1 "
            f"shifts every step, and at t = 0 wraps round to index -1)")


def dh0_hint(run, cell, case, r, got, name):
    w = run.w
    if got is None or np.max(np.abs(np.asarray(got, dtype=float))) == 0:
        return (f"{name} is not returned (it is zero): it is the {w.dprev_h} that step t = 0 sends back "
                f"(book: W^T dL/da(1))")
    if run.matches(got, run.conv.state(r["dh"][0])):
        return (f"{name} is the error at step t = 0 itself (book: dL/dh(1)); {name} is one step further back, the "
                f"{w.dprev_h} step t = 0 returns (book: W^T dL/da(1))")
    return f"{name} is the {w.dprev_h} that step t = 0 sends back to {w.h0} (book: W^T dL/da(1))"


def gradient_hint(run, spec, cell, case, r, states, name, got):
    """(step, hint) for a departing parameter gradient of a sequence-level backward."""
    conv, w = run.conv, run.w
    T = case.T
    per_step = [conv.grads(cell, r["dU_t"][k], r["dW_t"][k], r["db_t"][k])[name] for k in range(T)]
    total = conv.grads(cell, r["dU"], r["dW"], r["db"])[name]
    book = BOOK_PARAM.get(name, name)
    eq = BOOK_EQ.get(book, "its contribution")
    mine = {"dU": w.dU, "dW": w.dW, "db": w.db}.get(book, "its contribution")
    if T > 1 and run.matches(got, per_step[0]):
        return T - 2, (f"{name} holds step t = 0's contribution alone: from t = {T - 2} on, each step's contribution "
                       f"replaced the sum instead of adding to it ({name} += ...) (book: {book} = sum_t {eq})")
    if T > 1 and run.matches(got, per_step[-1]):
        return T - 2, (f"{name} holds step t = {T - 1}'s contribution alone: the steps after it, t = {T - 2}, ..., 0, "
                       f"are not added ({name} += ...) (book: {book} = sum_t {eq})")
    if T > 1 and run.matches(got, total / T):
        return None, (f"{name} is divided by T: the loss sums the steps' losses, so the gradient is the sum of the "
                      f"steps' contributions (book: {book} = sum_t {eq})")
    if cell == "rnn" and book == "dW":
        hs = states[0]
        with_h = conv.grads(cell, r["dU"], np.einsum("tbh,tbk->hk", r["da"], hs[1:]), r["db"])[name]
        if run.matches(got, with_h):
            return T - 1, (f"{name} uses {w.next_h} at every step; step t's contribution is {w.dW}, with "
                           f"{w.prev_h}, the state before the step (book: dL/da(t) h(t-1)^T)")
    k = run.isolated_departure(spec, cell, case, name)
    if k is not None:
        kk = book_step(k)
        first = (f"; at t = 0, {w.prev_h} is {w.h0}: is step t = 0's cache still holding it?"
                 if k == 0 and book == "dW" else "")
        return k, (f"the contribution of step t = {k} to {name} departs: it is {mine} at t = {k} (book: "
                   f"{eq.replace('t-1', str(kk - 1)).replace('(t)', f'({kk})')}){first}")
    return None, f"{name} = the sum over t = 0, ..., T-1 of {mine} (book: {book} = sum_t {eq})"
