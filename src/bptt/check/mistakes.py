"""The classic BPTT mistakes, computed, so that a departure can be named with its cause.

Each function returns the values a learner's function would give if it made one classic
mistake (in the learner's own convention, through ``run.conv``), with the hint that explains
it in the book's equations. A hint is given only when the learner's numbers equal the mistake's;
otherwise the hint states the equation of the quantity that departs.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from . import reference as ref
from .cases import lstm_states, rnn_states

GATE_EQ = {"i": "dL/dz_i = dL/ds(t) g(t) i(t) (1 - i(t))",
           "f": "dL/dz_f = dL/ds(t) s(t-1) f(t) (1 - f(t))",
           "g": "dL/dz_g = dL/ds(t) i(t) (1 - g(t)^2)",
           "o": "dL/dz_o = dL/dh(t) tanh(s(t)) o(t) (1 - o(t))"}


def missing_hint(name, names):
    if name == names.get("dh0"):
        return "; dh0 is what step 1 sends back to the initial state, W^T dL/da(1)"
    return ""


def shape_hint(conv, name, got, want):
    if len(got) == 2 and got == want[::-1]:
        return " (transposed: check which side of the product the weight goes on)"
    if conv == "dlai" and got == want[:1]:
        return " (keep the column axis: np.sum(..., axis=1, keepdims=True))"
    return ""


def equation_hint(cell, role, name, step, names):
    t, tm = step, step - 1
    if cell == "rnn":
        if role in ("step_forward", "forward"):
            if name in ("yt_pred", "y_pred"):
                return f"yhat({t}) = softmax(c + V h({t})), the softmax over the output units of each example"
            return f"h({t}) = tanh(a({t})), a({t}) = b + W h({tm}) + U x({t}) (book eqs. 10.8-10.9)"
        return {"db": f"db at step {t} is dL/da({t}) summed over the batch, dL/da({t}) = (1 - h({t})^2) * dL/dh({t})",
                "dx": f"dL/dx({t}) = U^T dL/da({t}), with dL/da({t}) = (1 - h({t})^2) * dL/dh({t})",
                "dprev_h": f"dL/dh({tm}) receives W^T dL/da({t}) from step {t}",
                }.get(_book_name(name), f"the contribution of step {t}: dU = dL/da({t}) x({t})^T, "
                                         f"dW = dL/da({t}) h({tm})^T, db = dL/da({t}), with "
                                         f"dL/da({t}) = (1 - h({t})^2) * dL/dh({t})")
    if role in ("step_forward", "forward"):
        return (f"z = b + W h({tm}) + U x({t}); i, f, o = sigmoid(z_i, z_f, z_o), g = tanh(z_g); "
                f"s({t}) = f s({tm}) + i g; h({t}) = o tanh(s({t}))")
    return (f"dL/ds({t}) = dL/dh({t}) o tanh'(s({t})) + f({t + 1}) dL/ds({t + 1}); "
            + "; ".join(GATE_EQ.values()) + f"; dL/ds({tm}) = f({t}) dL/ds({t})")


def _book_name(name):
    return {"dxt": "dx", "dx": "dx", "dprev_h": "dprev_h", "da_prev": "dprev_h", "dh_prev": "dprev_h",
            "db": "db", "dba": "db"}.get(name, name)


# ------------------------------------------------------------------------- step forward
def step_forward_mistakes(run, cell, case, t, hs, ss):
    if cell != "rnn":
        return _lstm_step_forward_mistakes(run, case, t, hs, ss)
    P, x, h_prev = case.P, case.x[t], hs[t]
    U, W, b = P["U"], P["W"], P["b"]
    T = t + 1
    out = []

    def add(h, text):
        out.append((run.step_expect(cell, h, None, P), text))
    add(np.tanh(x @ U.T + h_prev @ W + b),
        f"h({T}) uses W^T h({T - 1}): the recurrent weight is transposed; a(t) = b + W h(t-1) + U x(t)")
    add(np.tanh(x @ U.T + b), f"h({T}) lacks the recurrent term W h({T - 1}): a(t) = b + W h(t-1) + U x(t)")
    add(np.tanh(x @ U.T + h_prev @ W.T), f"h({T}) lacks the bias b: a(t) = b + W h(t-1) + U x(t)")
    add(x @ U.T + h_prev @ W.T + b, f"h({T}) is a({T}) itself: the tanh is missing, h(t) = tanh(a(t))")
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
    P = case.P
    own = {"cs231n": "i, f, o, g", "bptt": "i, f, g, o", "dlai": "f, i, c, o (one matrix each)"}[run.conv.name]
    out = []
    for perm, what in (([0, 1, 3, 2], "g and o"), ([1, 0, 2, 3], "i and f")):
        # A learner who reads two blocks in each other's place computes the book's step with them swapped.
        U2, W2, b2 = (np.concatenate([np.split(P[k], 4, axis=0)[j] for j in perm], 0) for k in ("U", "W", "b"))
        h, s, _ = ref.lstm_step_forward(case.x[t], hs[t], ss[t], U2, W2, b2)
        out.append((run.step_expect("lstm", h, s, P),
                    f"the {what} gate blocks are read in each other's place; this convention's blocks are {own}"))
    h, s, g = ref.lstm_step_forward(case.x[t], hs[t], ss[t], P["U"], P["W"], P["b"])
    out.append((run.step_expect("lstm", g["o"] * np.tanh(g["i"] * g["g"]), g["i"] * g["g"], P),
                f"s({t + 1}) lacks f({t + 1}) s({t}): the cell state carries over, s(t) = f s(t-1) + i g"))
    out.append((run.step_expect("lstm", g["o"] * s, s, P),
                f"h({t + 1}) = o tanh(s({t + 1})): the tanh of the cell state is missing"))
    return out


# ------------------------------------------------------------------------ step backward
def step_backward_mistakes(run, cell, case, t, hs, ss, dh, ds):
    n = run.names
    P, x = case.P, case.x[t]
    U, W = P["U"], P["W"]
    T = t + 1
    out = []
    if cell == "rnn":
        h_prev, h = hs[t], hs[t + 1]
        a = np.arctanh(np.clip(h, -1 + 1e-15, 1 - 1e-15))

        def grads(da, dW_state=h_prev, W_back=W):
            return {"dx": da @ U, "dh_prev": da @ W_back, "dU": da.T @ x, "dW": da.T @ dW_state, "db": da.sum(0)}

        def add(r, text):
            out.append((run.grads_expect(cell, r, n["dx"], n["dh_prev"]), text))
        add(grads(dh * (1 - a ** 2)), f"the derivative of tanh at step {T} is taken from the pre-activation, "
                                      f"1 - a({T})^2; it is 1 - h({T})^2 = 1 - tanh(a({T}))^2: "
                                      f"dL/da(t) = (1 - h(t)^2) * dL/dh(t)")
        add(grads(dh * (1 - h)), f"the derivative of tanh at step {T} is taken as 1 - h({T}); it is 1 - h({T})^2")
        add(grads(dh), f"the derivative of tanh is missing at step {T}: dL/da(t) = (1 - h(t)^2) * dL/dh(t)")
        da = dh * (1 - h ** 2)
        w_name = {"bptt": "dW", "cs231n": "dWh", "dlai": "dWaa"}[run.conv.name]
        add(grads(da, dW_state=h), f"{w_name} at step {T} uses h({T}); the contribution is "
                                   f"dL/da({T}) h({T - 1})^T, the state before the step")
        add(grads(da, W_back=W.T), f"{n['dh_prev']} at step {T} multiplies by the recurrent weight the wrong way "
                                   f"round: step t sends back W^T dL/da(t)")
        return out
    # LSTM
    s_prev = ss[t]
    r = ref.lstm_step_backward(dh, ds, x, hs[t], s_prev, U, W, P["b"], carry_f=False)
    out.append((run.grads_expect(cell, r, n["dx"], n["dh_prev"], n["ds_prev"]),
                f"{n['ds_prev']} at step {T} lacks the factor f({T}): the cell state's error is carried back "
                f"as dL/ds({T - 1}) = f({T}) dL/ds({T}) (the f * ds carry)"))
    r = ref.lstm_step_backward(dh, 0 * ds, x, hs[t], s_prev, U, W, P["b"])
    out.append((run.grads_expect(cell, r, n["dx"], n["dh_prev"], n["ds_prev"]),
                f"{n['ds_in']} is ignored at step {T}: dL/ds(t) = dL/dh(t) o tanh'(s(t)) + f(t+1) dL/ds(t+1) "
                f"adds the error arriving along the cell state"))
    return out


def gate_hint(run, cell, name, got, want, step):
    """For an LSTM gradient with one block per gate: name the gate whose block departs."""
    if cell != "lstm":
        return None
    conv = run.conv.name
    if conv == "dlai":
        gate = {"f": "f", "i": "i", "c": "g", "o": "o"}.get(name[-1])
        if name[:2] in ("dW", "db") and gate:
            return f"the {gate} gate's gradient departs at step {step}: {GATE_EQ[gate]}"
        return None
    g = np.asarray(got, dtype=float)
    if g.shape != want.shape or g.shape[-1] % 4:
        return None
    order = "ifog" if conv == "cs231n" else "ifgo"
    blocks = np.split(g - want, 4, axis=-1)
    bad = [order[k] for k, d in enumerate(blocks) if np.max(np.abs(d)) > 1e-6 * max(1.0, np.max(np.abs(want)))]
    if len(bad) == 1:
        return f"only the {bad[0]} gate's block of {name} departs at step {step}: {GATE_EQ[bad[0]]}"
    return None


# ---------------------------------------------------------------------- sequence forward
def forward_mistakes(run, cell, case, name):
    """Whole-sequence outputs of the classic forward-loop mistakes, in the learner's layout."""
    P = case.P
    seq = run.conv.seq
    h_name = run.names.get("seq_h", "h")
    out = []
    T = case.T
    if cell == "rnn":
        U, W, b = P["U"], P["W"], P["b"]
        restart = np.tanh(case.x @ U.T + case.h0 @ W.T + b)                  # every step from h0
        out.append(({h_name: seq(restart)}, "each h(t) is computed from h0, not from h(t-1): the loop must feed "
                                            "each step the state the previous step returned"))
        zero = ref.rnn_forward(case.x, 0 * case.h0, U, W, b)[1:]
        out.append(({h_name: seq(zero)}, "the loop starts from zeros instead of h0: h(1) = tanh(b + W h0 + U x(1))"))
        hs = ref.rnn_forward(case.x, case.h0, U, W, b)
        out.append(({h_name: seq(hs[:-1])}, "h is stored one step late: position t holds h(t-1); h(t) is the state "
                                            "after step t"))
    else:
        hs, ss, _ = lstm_states(case)
        z0 = lstm_states(replace(case, h0=0 * case.h0))[0]
        out.append(({h_name: seq(z0[1:])}, "the loop starts from zeros instead of h0"))
    return out


# --------------------------------------------------------------------- sequence backward
def backward_dx_hint(run, spec, cell, case, states, t, got):
    """(quantity, hint) for the first step t (0-based, in decreasing order) whose dx departs."""
    T = case.T
    hs, ss, gates = states
    conv = run.conv
    trusted = (cell, "step_backward") in run.ok
    err_name = "dL/dh"
    cands = []
    U, W = case.P["U"], case.P["W"]
    if cell == "rnn":
        fprime = 1 - hs[1:] ** 2
        lone = (fprime * case.dh_out) @ U                                       # no recurrent term
        cands.append(("dL/dh", lone[t], f"dL/dh({t + 1}) lacks the error that step {t + 2} sends back through W: "
                                        f"dL/dh(t) = V^T dL/do(t) + W^T dL/da(t+1)"))
        if t + 1 < T:    # "dhnext" read as the next step's upstream error instead of what it sends back
            confused = (fprime[t] * (case.dh_out[t] + case.dh_out[t + 1])) @ U
            cands.append(("dL/dh", confused, f"dL/dh({t + 1}) adds step {t + 2}'s upstream error dh({t + 2}); it "
                                             f"must add what step {t + 2} sends back through W, W^T dL/da({t + 2}) "
                                             f"(the dprev_h that step's backward returned)"))
        # the cache of the neighbouring step
        for shift, word in ((-1, "before"), (1, "after")):
            src = t + shift
            if 0 <= src < T:
                r = ref.rnn_backward(case.dh_out, case.x, hs, U, W, case.P["b"])
                alt = ref.rnn_step_backward(r["dh"][t], case.x[src], hs[src], hs[src + 1], U, W, case.P["b"])["dx"]
                cands.append((spec.outputs[0], alt, f"step {t + 1} used the cache of step {src + 1}, the step {word} "
                                                    f"it: each step's backward needs its own x(t), h(t-1), h(t)"))
    else:
        r = ref.lstm_backward(case.dh_out, case.x, hs[0], ss[0], U, W, case.P["b"], carry_s=False)
        cands.append(("dL/ds", r["dx"][t], f"dL/ds({t + 1}) lacks f({t + 2}) dL/ds({t + 2}), the error step {t + 2} "
                                           f"carries back along the cell state: dL/ds(t) = dL/dh(t) o(t) "
                                           f"(1 - tanh^2 s(t)) + f(t+1) dL/ds(t+1)"))
        lone = np.empty_like(r["dx"])
        for k in range(T):
            lone[k] = ref.lstm_step_backward(case.dh_out[k], np.zeros_like(case.h0), case.x[k], hs[k], ss[k],
                                             U, W, case.P["b"])["dx"]
        cands.append(("dL/dh", lone[t], f"dL/dh({t + 1}) lacks the error that step {t + 2} sends back through W "
                                        f"(and dL/ds({t + 1}) the cell state's): dL/dh(t) = V^T dL/do(t) + "
                                        f"W^T dL/dz(t+1)"))
    learner_t = lambda book: conv.state(book)           # one step of dx, in the learner's layout
    if np.max(np.abs(got)) == 0:
        if t == T - 1:
            return spec.outputs[0], (f"dx at step {T} is zero: step {T} is never visited; the reverse loop must run "
                                     f"t = T, T-1, ..., 1 (range(T-1, -1, -1) over 0-based arrays)")
        if t == 0:
            return spec.outputs[0], (f"dx at step 1 is zero: the reverse loop stops before step 1 "
                                     f"(range(T-1, 0, -1) misses index 0); dh0 is what step 1 sends back")
    for quantity, alt, text in cands:
        if run.matches(got, learner_t(alt)):
            return quantity, text
    if t + 1 < T and run.sends_nothing_back(spec, cell, case, t + 1):
        return "dL/dh", (f"with an upstream error at step {t + 2} only, dx at step {t + 1} is zero: nothing reaches "
                         f"h({t + 1}) from step {t + 2}; dL/dh(t) = V^T dL/do(t) + W^T dL/da(t+1)")
    if trusted:
        return err_name, (f"your step backward is right, so the error fed to step {t + 1} is wrong: "
                          f"dL/dh({t + 1}) = V^T dL/do({t + 1}) (this step's upstream dh) + W^T dL/da({t + 2}) "
                          f"(what step {t + 2} sent back)")
    return spec.outputs[0], f"dL/dx({t + 1}) = U^T dL/da({t + 1}), dL/da(t) = (1 - h(t)^2) dL/dh(t)"


def dh0_hint(run, cell, case, r, got, name):
    if got is None or np.max(np.abs(np.asarray(got, dtype=float))) == 0:
        return f"{name} is not returned (it is zero): it is what step 1 sends back, W^T dL/da(1)"
    if run.matches(got, run.conv.state(r["dh"][0])):
        return f"{name} is dL/dh(1), the error at the first state; dh0 is one step further back, W^T dL/da(1)"
    return f"{name} = W^T dL/da(1): what step 1 sends back to the initial state"


def gradient_hint(run, spec, cell, case, r, states, name, got):
    """(step, hint) for a departing parameter gradient of a sequence-level backward."""
    conv = run.conv
    T = case.T
    per_step = [conv.grads(cell, r["dU_t"][k], r["dW_t"][k], r["db_t"][k])[name] for k in range(T)]
    total = conv.grads(cell, r["dU"], r["dW"], r["db"])[name]
    book = {"dU": "dU", "dWx": "dU", "dWax": "dU", "dW": "dW", "dWh": "dW", "dWaa": "dW",
            "db": "db", "dba": "db"}.get(name, name)
    eq = {"dU": "dL/da(t) x(t)^T", "dW": "dL/da(t) h(t-1)^T", "db": "dL/da(t)"}.get(book, "its contribution")
    if T > 1 and run.matches(got, per_step[0]):
        return T, (f"{name} holds step 1's contribution alone: each step's contribution must be added (+=), "
                   f"{book} = sum_t {eq}")
    if T > 1 and run.matches(got, per_step[-1]):
        return 1, (f"{name} holds step {T}'s contribution alone: each step's contribution must be added (+=), "
                   f"{book} = sum_t {eq}")
    if T > 1 and run.matches(got, total / T):
        return None, (f"{name} is divided by T: the loss sums the steps' losses, so the gradient is the sum "
                      f"of the steps' contributions, {book} = sum_t {eq}")
    if cell == "rnn" and book == "dW":
        hs = states[0]
        with_h = conv.grads(cell, r["dU"], np.einsum("tbh,tbk->hk", r["da"], hs[1:]), r["db"])[name]
        if run.matches(got, with_h):
            return T, (f"{name} at step {T} uses h({T}); the contribution is dL/da({T}) h({T - 1})^T, "
                       f"the state before the step")
    # Localise by prefixes: the learner's contribution of step k = D(k) - D(k-1).
    prev = None
    D = {}
    for k in range(1, T + 1):
        D[k] = run.prefix_gradient(spec, cell, case, r, k, name)
        if D[k] is None:
            break
    if all(D.get(k) is not None for k in range(1, T + 1)):
        for k in reversed(range(1, T + 1)):
            contrib = D[k] - (D[k - 1] if k > 1 else 0)
            if not run.matches(contrib, per_step[k - 1]):
                return k, f"the contribution of step {k} to {name} departs: it is {eq.replace('(t', f'({k}').replace('t-1', f'{k - 1}')}"
    return None, f"{name} = sum_t {eq}: the sum over every step of that step's contribution"
