"""Run a learner's functions on the cases and find the first place they depart from the reference.

Order (so that one early mistake is named once, where it is made): the layers without
recurrence, then for each cell the step forward, the step backward, the sequence forward, the
sequence backward. Within a function the steps are visited in the order the computation runs:
forward in increasing t, backward in decreasing t. A step function is fed the reference's states
(teacher forcing), so its first wrong step is its own. A sequence-level backward is opaque, so it
is probed: its dx(t) read in decreasing t shows the first step whose error is wrong; an upstream
error at one step only shows whether that step sends anything back to the one before; prefixes of
the sequence, with the full reference error placed at the prefix's last state, isolate each
step's contribution to a parameter gradient; h0 = 0 against h0 != 0 tells a lost initial state.
The hint comes from the classic mistakes (``mistakes.py``): when the learner's numbers at the
departure equal one of them, its hint is given, in the book's equations.

A learner function that raises, returns the wrong kind of value or the wrong shape is a finding
too; nothing the learner's code does ends the check.
"""

from __future__ import annotations

import copy

import numpy as np

from . import mistakes as M
from . import reference as ref
from .cases import Case, cases, lstm_states, rnn_states, with_zero_h0
from .report import Finding

TOL = 1e-6          # relative to the largest reference entry (and at least absolute 1e-6)

# The learner's names for the book's quantities, per convention.
NAMES = {
    "bptt": {"h": "h", "s": "s", "dx": "dx", "dh_prev": "dh_prev", "ds_prev": "ds_prev", "dh0": "dh0",
             "dh_in": "dh", "ds_in": "ds"},
    "cs231n": {"h": "next_h", "s": "next_c", "dx": "dx", "dh_prev": "dprev_h", "ds_prev": "dprev_c",
               "dh0": "dh0", "dh_in": "dnext_h", "ds_in": "dnext_c", "seq_h": "h"},
    "dlai": {"h": "a_next", "s": "c_next", "yhat": "yt_pred", "dx": "dxt", "dh_prev": "da_prev",
             "ds_prev": "dc_prev", "dh0": "da0", "dh_in": "da_next", "ds_in": "dc_next",
             "seq_h": "a", "seq_s": "c", "seq_yhat": "y_pred", "seq_dx": "dx"},
}
SEQ_YHAT = {"rnn": "y_pred", "lstm": "y"}


class Departure(Exception):
    def __init__(self, finding: Finding):
        super().__init__(finding.where())
        self.finding = finding


class Skip(Exception):
    """The function cannot be checked (its cache comes from a function that is missing or wrong)."""


def _copy(a):
    try:
        return copy.deepcopy(a)
    except Exception:      # an uncopyable cache is passed as it is
        return a


def _shape(a):
    if isinstance(a, np.ndarray):
        return str(a.shape)
    if isinstance(a, dict):
        return "dict of " + ", ".join(sorted(map(str, a)))
    return type(a).__name__


class Run:
    """The checks of one convention's functions, sharing the learner's functions and verdicts."""

    def __init__(self, conv, fns, seed=0):
        self.conv, self.fns, self.seed = conv, fns, seed
        self.ok = set()        # (cell, role) of the functions that passed
        self.names = NAMES[conv.name]

    # ------------------------------------------------------------------------- calling
    def call(self, spec, args, T, direction, step=None):
        fn = self.fns[spec.name]
        try:
            out = fn(*[_copy(a) for a in args])
        except Exception as err:  # the learner's exception is the finding
            shapes = ", ".join(f"{n} {_shape(a)}" for n, a in zip(spec.args, args))
            msg = str(err).splitlines()[0] if str(err) else ""
            raise Departure(Finding(spec.name, direction, "exception", step, T, None,
                                    f"{spec.name} raised {type(err).__name__}: {msg} (called with {shapes})"))
        return self.unpack(spec, out, T, direction, step)

    def unpack(self, spec, out, T, direction, step):
        names = spec.outputs
        if spec.returns_dict:
            if not isinstance(out, dict):
                self._bad_return(spec, f"a dict with the keys {', '.join(names)}", out, T, direction, step)
            missing = [n for n in names if n not in out]
            if missing:
                raise Departure(Finding(spec.name, direction, missing[0], step, T, None,
                                        f"{spec.name} returned no {missing[0]!r}: expected a dict with the keys "
                                        f"{', '.join(names)}"))
            return dict(out)
        if len(names) == 1 and not isinstance(out, (tuple, list)):
            return {names[0]: out}
        if not isinstance(out, (tuple, list)) or len(out) != len(names):
            self._bad_return(spec, f"a tuple ({', '.join(names)})", out, T, direction, step)
        return dict(zip(names, out))

    def _bad_return(self, spec, expected, out, T, direction, step):
        got = f"a tuple of {len(out)}" if isinstance(out, (tuple, list)) else _shape(out)
        raise Departure(Finding(spec.name, direction, "return value", step, T, None,
                                f"{spec.name} returned {got}; expected {expected}"))

    # ----------------------------------------------------------------------- comparing
    def error(self, spec, name, got, want, T, direction, step):
        """Max |got - want|, or raise Departure for a value that is not an array of want's shape."""
        if got is None:
            raise Departure(Finding(spec.name, direction, name, step, T, None,
                                    f"{name} is None: {spec.name} must return it, an array of shape {want.shape}"
                                    + M.missing_hint(name, self.names)))
        try:
            g = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            raise Departure(Finding(spec.name, direction, name, step, T, None,
                                    f"{name} is {type(got).__name__}, not a numeric array of shape {want.shape}"))
        if g.shape != want.shape:
            raise Departure(Finding(spec.name, direction, name, step, T, None,
                                    f"{name} has shape {g.shape}; expected {want.shape}"
                                    + M.shape_hint(self.conv.name, name, g.shape, want.shape)))
        diff = np.abs(g - want)
        return float(np.max(diff)) if np.all(np.isfinite(g)) else float("inf")

    def departs(self, err, want):
        return not err <= TOL * max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)

    def first_wrong(self, spec, outs, expected, T, direction, step):
        """The first output (in ``spec.order``) that departs: (name, max abs error) or None."""
        for name in (spec.order or spec.outputs):
            if name in expected:
                err = self.error(spec, name, outs[name], expected[name], T, direction, step)
                if self.departs(err, expected[name]):
                    return name, err
        return None

    def matches(self, got, want):
        try:
            g = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            return False
        return g.shape == want.shape and not self.departs(float(np.max(np.abs(g - want))) if g.size else 0.0, want)

    def hint(self, candidates, name, got, fallback):
        """The hint of the first classic mistake whose value of ``name`` equals the learner's."""
        for mistake_outs, text in candidates:
            if name in mistake_outs and self.matches(got, mistake_outs[name]):
                return text
        return fallback

    # -------------------------------------------------------------------------- helpers
    def spec_for(self, cell, role):
        return next((f for f in self.conv.functions if f.cell == cell and f.role == role and f.name in self.fns), None)

    def param_args(self, cell, P):
        p = self.conv.params(cell, P)
        return [p] if self.conv.name == "dlai" else list(p.values())

    def step_expect(self, cell, h, s=None, P=None):
        st = self.conv.state
        out = {self.names["h"]: st(h)}
        if s is not None:
            out[self.names["s"]] = st(s)
        if self.conv.name == "dlai":
            out["yt_pred"] = st(ref.softmax(h @ P["V"].T + P["c"]))
        return out

    def grads_expect(self, cell, r, dx_name, dprev_name, ds_name=None):
        st = self.conv.state
        out = {dx_name: st(r["dx"]), dprev_name: st(r["dh_prev"])}
        if ds_name:
            out[ds_name] = st(r["ds_prev"])
        out.update(self.conv.grads(cell, r["dU"], r["dW"], r["db"]))
        return out

    def step_forward_args(self, cell, x_t, h, s, P):
        st = self.conv.state
        states = [st(x_t), st(h)] + ([st(s)] if cell == "lstm" else [])
        return states + self.param_args(cell, P)

    def learner_cache(self, cell, case, t, hs, ss=None):
        spec = self.spec_for(cell, "step_forward")
        outs = self.call(spec, self.step_forward_args(cell, case.x[t], hs[t], None if ss is None else ss[t], case.P),
                         case.T, "forward", t + 1)
        return outs["cache" if "cache" in outs else spec.outputs[-1]]

    def needs(self, cell, role, spec):
        dep = self.spec_for(cell, role)
        if dep is None:
            raise Skip(f"needs {self._role_name(cell, role)} for its cache")
        if (cell, role) not in self.ok:
            raise Skip(f"its cache comes from {dep.name}, which is wrong")
        return dep

    def _role_name(self, cell, role):
        spec = next((f for f in self.conv.functions if f.cell == cell and f.role == role), None)
        return spec.name if spec else role

    # ======================================================================= the checks
    def check(self, spec):
        getattr(self, "check_" + spec.role)(spec)
        self.ok.add((spec.cell, spec.role))

    # --------------------------------------------------------------- step forward
    def check_step_forward(self, spec):
        cell = spec.cell
        for case in cases(cell, self.seed):
            if cell == "lstm":
                hs, ss, gates = lstm_states(case, case.s0)
            else:
                hs, ss = rnn_states(case), None
            for t in range(case.T):
                s_prev = None if ss is None else ss[t]
                outs = self.call(spec, self.step_forward_args(cell, case.x[t], hs[t], s_prev, case.P),
                                 case.T, "forward", t + 1)
                want = self.step_expect(cell, hs[t + 1], None if ss is None else ss[t + 1], case.P)
                bad = self.first_wrong(spec, outs, want, case.T, "forward", t + 1)
                if bad:
                    name, err = bad
                    cands = M.step_forward_mistakes(self, cell, case, t, hs, ss)
                    hint = self.hint(cands, name, outs[name], M.equation_hint(cell, "step_forward", name, t + 1, self.names))
                    raise Departure(Finding(spec.name, "forward", name, t + 1, case.T, err, hint))

    # -------------------------------------------------------------- step backward
    def check_step_backward(self, spec):
        cell = spec.cell
        self.needs(cell, "step_forward", spec)
        n = self.names
        st = self.conv.state
        for case in cases(cell, self.seed):
            U, W = case.P["U"], case.P["W"]
            if cell == "lstm":
                hs, ss, gates = lstm_states(case, case.s0)
                full = ref.lstm_backward(case.dh_out, case.x, hs[0], ss[0], U, W, case.P["b"])
            else:
                hs, ss = rnn_states(case), None
                full = ref.rnn_backward(case.dh_out, case.x, hs, U, W, case.P["b"])
            for t in reversed(range(case.T)):
                cache = self.learner_cache(cell, case, t, hs, ss)
                dh = full["dh"][t]
                if cell == "lstm":
                    ds = case.ds_step                                   # an error arriving at s(t) from step t+1
                    r = ref.lstm_step_backward(dh, ds, case.x[t], hs[t], ss[t], U, W, case.P["b"])
                    args = [st(dh), st(ds), cache]
                    want = self.grads_expect(cell, r, n["dx"], n["dh_prev"], n["ds_prev"])
                else:
                    r = ref.rnn_step_backward(dh, case.x[t], hs[t], hs[t + 1], U, W, case.P["b"])
                    args = [st(dh), cache]
                    want = self.grads_expect(cell, r, n["dx"], n["dh_prev"])
                outs = self.call(spec, args, case.T, "backward", t + 1)
                bad = self.first_wrong(spec, outs, want, case.T, "backward", t + 1)
                if bad:
                    name, err = bad
                    cands = M.step_backward_mistakes(self, cell, case, t, hs, ss, dh,
                                                     case.ds_step if cell == "lstm" else None)
                    hint = self.hint(cands, name, outs[name],
                                     M.gate_hint(self, cell, name, outs[name], want[name], t + 1)
                                     or M.equation_hint(cell, "step_backward", name, t + 1, n))
                    raise Departure(Finding(spec.name, "backward", name, t + 1, case.T, err, hint))

    # ------------------------------------------------------------ sequence forward
    def forward_args(self, cell, case):
        return [self.conv.seq(case.x), self.conv.state(case.h0)] + self.param_args(cell, case.P)

    def forward_expect(self, cell, case):
        if cell == "lstm":
            hs, ss, _ = lstm_states(case)
        else:
            hs, ss = rnn_states(case), None
        seq = self.conv.seq
        h_name = self.names.get("seq_h", "h")
        want = {h_name: seq(hs[1:])}
        if self.conv.name == "dlai":
            want[SEQ_YHAT[cell]] = seq(ref.softmax(hs[1:] @ case.P["V"].T + case.P["c"]))
            if cell == "lstm":
                want["c"] = seq(ss[1:])
        return want, hs, ss

    def check_forward(self, spec):
        cell = spec.cell
        for case in cases(cell, self.seed) + [with_zero_h0(cases(cell, self.seed)[0])]:
            outs = self.call(spec, self.forward_args(cell, case), case.T, "forward")
            want, hs, ss = self.forward_expect(cell, case)
            for name in (spec.order or spec.outputs):        # shapes first, then step by step
                if name in want:
                    self.error(spec, name, outs[name], want[name], case.T, "forward", None)
            for t in range(case.T):
                for name in (spec.order or spec.outputs):
                    if name not in want:
                        continue
                    got_t = self.conv.at(np.asarray(outs[name], dtype=float), t)
                    want_t = self.conv.at(want[name], t)
                    err = float(np.max(np.abs(got_t - want_t)))
                    if self.departs(err, want_t) or not np.isfinite(err):
                        cands = M.forward_mistakes(self, cell, case, name)
                        hint = self.hint([({name: self.conv.at(m[name], t)}, h) for m, h in cands if name in m],
                                         name, got_t, M.equation_hint(cell, "forward", name, t + 1, self.names))
                        raise Departure(Finding(spec.name, "forward", name, t + 1, case.T, err, hint))

    # ----------------------------------------------------------- sequence backward
    def learner_forward(self, cell, case):
        fspec = self.spec_for(cell, "forward")
        outs = self.call(fspec, self.forward_args(cell, case), case.T, "forward")
        return outs[fspec.outputs[-1]]

    def backward_reference(self, cell, case, dh_out=None):
        dh_out = case.dh_out if dh_out is None else dh_out
        U, W = case.P["U"], case.P["W"]
        if cell == "lstm":
            hs, ss, gates = lstm_states(case)
            return ref.lstm_backward(dh_out, case.x, hs[0], ss[0], U, W, case.P["b"]), (hs, ss, gates)
        hs = rnn_states(case)
        return ref.rnn_backward(dh_out, case.x, hs, U, W, case.P["b"]), (hs, None, None)

    def backward_expect(self, spec, cell, r):
        conv = self.conv
        dx_name, dh0_name = spec.outputs[0], spec.outputs[1]
        want = {dx_name: conv.seq(r["dx"]), dh0_name: conv.state(r["dh0"])}
        want.update(conv.grads(cell, r["dU"], r["dW"], r["db"]))
        return want

    def check_backward(self, spec):
        cell = spec.cell
        self.needs(cell, "forward", spec)
        dx_name, dh0_name = spec.outputs[0], spec.outputs[1]
        main = cases(cell, self.seed)[0]
        for case in [main] + cases(cell, self.seed)[1:] + [with_zero_h0(main)]:
            cache = self.learner_forward(cell, case)
            r, states = self.backward_reference(cell, case)
            outs = self.call(spec, [self.conv.seq(case.dh_out), cache], case.T, "backward")
            want = self.backward_expect(spec, cell, r)
            for name in spec.outputs:
                if name in want:
                    self.error(spec, name, outs[name], want[name], case.T, "backward", None)
            # 1. dx(t) in decreasing t: the first step whose error at a(t) is wrong.
            got_dx = np.asarray(outs[dx_name], dtype=float)
            for t in reversed(range(case.T)):
                g, w = self.conv.at(got_dx, t), self.conv.at(want[dx_name], t)
                err = float(np.max(np.abs(g - w)))
                if self.departs(err, w) or not np.isfinite(err):
                    quantity, hint = M.backward_dx_hint(self, spec, cell, case, states, t, g)
                    raise Departure(Finding(spec.name, "backward", quantity, t + 1, case.T, err, hint))
            # 2. dh0: what step 1 sends back.
            err = float(np.max(np.abs(np.asarray(outs[dh0_name], dtype=float) - want[dh0_name])))
            if self.departs(err, want[dh0_name]):
                raise Departure(Finding(spec.name, "backward", dh0_name, 1, case.T, err,
                                        M.dh0_hint(self, cell, case, r, outs[dh0_name], dh0_name)))
            # 3. The parameter gradients: each step's contribution, isolated by prefixes.
            for name in (spec.order or spec.outputs):
                if name in (dx_name, dh0_name) or name not in want:
                    continue
                err = float(np.max(np.abs(np.asarray(outs[name], dtype=float) - want[name])))
                if self.departs(err, want[name]):
                    step, hint = M.gradient_hint(self, spec, cell, case, r, states, name, outs[name])
                    raise Departure(Finding(spec.name, "backward", name, step, case.T, err, hint))

    def sends_nothing_back(self, spec, cell, case, k):
        """Probe: an upstream error at step k (0-based) only. Does the learner's dx at step k-1 stay
        zero where the reference's is not (nothing sent back from step k)?"""
        from dataclasses import replace
        single = np.zeros_like(case.dh_out)
        single[k] = case.dh_out[k]
        probe = replace(case, dh_out=single)
        r, _ = self.backward_reference(cell, probe)
        outs = self.call(spec, [self.conv.seq(single), self.learner_forward(cell, probe)], case.T, "backward")
        got = self.conv.at(np.asarray(outs[spec.outputs[0]], dtype=float), k - 1)
        return np.max(np.abs(got)) == 0 and np.max(np.abs(r["dx"][k - 1])) > 0

    def prefix_gradient(self, spec, cell, case, r, k, name):
        """The learner's ``name`` on the first k steps, the full reference error placed at h(k).

        Its difference between k and k-1 is the learner's contribution of step k, comparable to
        the reference's per-step contribution (the errors dL/dh(t), t <= k, are the full ones).
        """
        from dataclasses import replace
        if k == 0:
            return None
        sub = replace(case, x=case.x[:k], dh_out=case.dh_out[:k].copy())
        sub.dh_out[k - 1] = r["dh"][k - 1]
        if cell == "lstm":       # the cell state's error at s(k) cannot be injected: use dh only
            return None
        cache = self.learner_forward(cell, sub)
        outs = self.call(spec, [self.conv.seq(sub.dh_out), cache], k, "backward")
        return np.asarray(outs[name], dtype=float)

    # --------------------------------------------------------------- no recurrence
    def check_dense_forward(self, spec):
        rng = np.random.default_rng(self.seed)
        for shape in ((3, 5), (4, 2, 5), (1, 1, 5)):
            x = rng.normal(size=shape); Mw = rng.normal(size=(4, 5)); v = rng.normal(size=4)
            want_book = x @ Mw.T + v
            if self.conv.name == "cs231n":
                if x.ndim != 3:
                    continue
                args, want = [x, Mw.T, v], {"out": want_book}
            else:
                args, want = [x, Mw, v], {"out": want_book}
            outs = self.call(spec, args, 1, "forward")
            bad = self.first_wrong(spec, outs, want, 1, "forward", None)
            if bad:
                raise Departure(Finding(spec.name, "forward", bad[0], None, 1, bad[1],
                                        "out = x M^T + v: each output unit is a weighted sum of the inputs plus its bias "
                                        "(the book's o(t) = c + V h(t))"))

    def check_dense_backward(self, spec):
        rng = np.random.default_rng(self.seed + 1)
        for shape in ((3, 5), (4, 2, 5), (1, 1, 5)):
            x = rng.normal(size=shape); Mw = rng.normal(size=(4, 5)); v = rng.normal(size=4)
            dout = rng.normal(size=(*shape[:-1], 4))
            dx, dM, dv = dout @ Mw, dout.reshape(-1, 4).T @ x.reshape(-1, 5), dout.reshape(-1, 4).sum(0)
            if self.conv.name == "cs231n":
                if x.ndim != 3:
                    continue
                fspec = self.conv.fn("temporal_affine_forward")
                if fspec.name not in self.fns:
                    raise Skip("needs temporal_affine_forward for its cache")
                cache = self.call(fspec, [x, Mw.T, v], 1, "forward")["cache"]
                args, want = [dout, cache], {"dx": dx, "dw": dM.T, "db": dv}
            else:
                args, want = [dout, x, Mw], {"dx": dx, "dM": dM, "dv": dv}
            outs = self.call(spec, args, 1, "backward")
            bad = self.first_wrong(spec, outs, want, 1, "backward", None)
            if bad:
                name, err = bad
                hint = {"dx": "dL/dx = dL/dout M: each input receives the errors of the units it feeds, weighted",
                        "dM": "dL/dM = sum over every leading axis (batch, time) of dL/dout^T x",
                        "dw": "dL/dw = x^T dL/dout, summed over N and T",
                        "dv": "dL/dv = the sum of dL/dout over every leading axis (batch and time)",
                        "db": "dL/db = the sum of dL/dout over N and T"}.get(name, "")
                raise Departure(Finding(spec.name, "backward", name, None, 1, err, hint))

    def check_embed_forward(self, spec):
        rng = np.random.default_rng(self.seed + 2)
        x = rng.integers(0, 4, size=(3, 5)); x[0, :2] = 1; Wv = rng.normal(size=(6, 4))
        outs = self.call(spec, [x, Wv], 5, "forward")
        bad = self.first_wrong(spec, outs, {"out": Wv[x]}, 5, "forward", None)
        if bad:
            raise Departure(Finding(spec.name, "forward", bad[0], None, 5, bad[1], "out[n, t] = W[x[n, t]]: row x of W"))

    def check_embed_backward(self, spec):
        fspec = self.conv.fn("word_embedding_forward")
        if fspec.name not in self.fns:
            raise Skip("needs word_embedding_forward for its cache")
        rng = np.random.default_rng(self.seed + 3)
        x = rng.integers(0, 4, size=(3, 5)); x[0, :2] = 1; Wv = rng.normal(size=(6, 4))
        dout = rng.normal(size=(3, 5, 4))
        cache = self.call(fspec, [x, Wv], 5, "forward")["cache"]
        outs = self.call(spec, [dout, cache], 5, "backward")
        dW = np.zeros_like(Wv); np.add.at(dW, x, dout)
        bad = self.first_wrong(spec, outs, {"dW": dW}, 5, "backward", None)
        if bad:
            once = np.zeros_like(Wv); once[x] = dout
            hint = ("dW[v] must sum dout over every (n, t) where x = v: a word that appears twice adds twice "
                    "(np.add.at, not dW[x] = dout)" if self.matches(outs["dW"], once)
                    else "dW[v] = sum of dout[n, t] over every (n, t) with x[n, t] = v")
            raise Departure(Finding(spec.name, "backward", bad[0], None, 5, bad[1], hint))

    def check_loss(self, spec):
        rng = np.random.default_rng(self.seed + 4)
        T, B, O = 4, 3, 5
        o = rng.normal(size=(T, B, O)) * 2; y = rng.integers(0, O, size=(T, B))
        yhat = ref.softmax(o)
        t_idx, b_idx = np.indices((T, B))
        if self.conv.name == "cs231n":
            mask = rng.random((B, T)) > 0.3; mask[0] = True
            m = mask.T
            L = -(np.log(yhat[t_idx, b_idx, y]) * m).sum() / B
            do = yhat.copy(); do[t_idx, b_idx, y] -= 1; do *= m[..., None] / B
            args, want = [o.transpose(1, 0, 2), y.T, mask], {"loss": np.asarray(L), "dx": do.transpose(1, 0, 2)}
            names = ("loss", "dx")
        else:
            L = -np.log(yhat[t_idx, b_idx, y]).sum() / B
            do = yhat.copy(); do[t_idx, b_idx, y] -= 1; do /= B
            args, want = [o, y], {"L": np.asarray(L), "do": do}
            names = ("L", "do")
        outs = self.call(spec, args, T, "backward")
        bad = self.first_wrong(spec, outs, want, T, "backward", None)
        if bad:
            name, err = bad
            direction = "forward" if name == names[0] else "backward"
            got = outs[name]
            if name == names[1] and self.matches(got, want[name] / T):
                hint = (f"{name} is divided by T as well as by the batch, while the loss sums the T steps' losses: "
                        f"L = sum_t L(t) averaged over the batch, so dL/do(t) = (yhat(t) - onehot(y(t))) / B")
            elif name == names[0] and self.matches(got, want[name] / T):
                hint = "the loss is averaged over T; it is the sum over t of L(t), averaged over the batch only"
            elif self.conv.name == "cs231n" and name == "dx" and self.matches(
                    got, (yhat - np.eye(O)[y]).transpose(1, 0, 2) / B):
                hint = "dx ignores the mask: steps with mask = 0 carry no loss and send back no error"
            else:
                hint = ("L(t) = -log yhat(t)[y(t)], yhat = softmax(o); dL/do(t) = yhat(t) - onehot(y(t)) "
                        "(book eq. 10.18), divided by the batch size")
            raise Departure(Finding(spec.name, direction, name, None, T, err, hint))

