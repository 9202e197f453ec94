"""Run a learner's functions on the cases and find where each one first departs from the reference.

Order (so that one early mistake is named once, where it is made): the convention's own order,
in which a step function comes before the sequence functions built on it and a forward before
its backward. Within a function the steps are visited in the order the computation runs:
forward in increasing t, backward in decreasing t. A step function is fed the reference's states
(teacher forcing), so its mistake is its own. A sequence forward is watched as it runs: the
cache each call of the learner's step function returns is copied when it returns, so a cache
changed afterwards (a view into an array a later step overwrites) is named at the step it was
computed. A sequence-level backward is opaque, so it is probed: its dx read in decreasing t
shows the first step whose error is wrong (or, when the right values sit at the wrong indices,
which step's dx was misplaced); an upstream error at one step only shows whether that step sends
anything back; an upstream error that leaves only one step's dL/da non-zero isolates that step's
contribution to each parameter gradient; h0 = 0 against h0 != 0 tells a lost initial state.
The hint comes from the classic mistakes (``mistakes.py``).

Every function gets a verdict (``Finding``): "ok"; "departs" with the reason, step, quantity and
hint; "not written" (``unfinished.py``); or "skipped" when it needs a function that departs, is
not written or is missing (its cache comes from it, or it calls it). A learner function that
raises is a finding with the file, line and source line where it raised; nothing the learner's
code does ends the check.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import io
import sys
from dataclasses import dataclass, replace

import numpy as np

from . import mistakes as M
from . import reference as ref
from .cases import cases, lstm_states, rnn_states, with_zero_h0
from .learner import signature_problem
from .report import Finding
from .unfinished import none_outputs_reason, not_written_reason, static_reason, stub_reason
from .where import assignment_of, calls, def_place, function_node, learner_frames, place, quantity_line

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
STATUS_WORDS = {"departs": "departs", "not written": "is not written yet", "skipped": "could not be checked"}


@dataclass(frozen=True)
class Ctx:
    """Where a call stands: direction, the learner's step (or None), the case's B and T, its words."""

    direction: str
    step: int | None = None
    B: int | None = None
    T: int | None = None
    words: str = ""

    def at(self, step):
        return replace(self, step=step)


class Departure(Exception):
    def __init__(self, ctx: Ctx, quantity, reason, hint="", *, error=None, where=None):
        super().__init__(reason)
        self.ctx, self.quantity, self.reason, self.hint, self.error, self.where = ctx, quantity, reason, hint, error, where


class NotWritten(Exception):
    def __init__(self, reason, where=None):
        super().__init__(reason)
        self.reason, self.where = reason, where


class Skip(Exception):
    """The function cannot be checked (it needs a function that is missing, departs or is not written)."""


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
    if isinstance(a, (list, tuple)):
        return f"{type(a).__name__} of {len(a)}"
    return type(a).__name__


def _message(err):
    msg = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {msg}" if msg else type(err).__name__


def _first_change(now, then, path=""):
    """The path ("[1]", "['prev_h']") of the first array in ``now`` whose values differ from ``then``."""
    if isinstance(now, np.ndarray) and isinstance(then, np.ndarray):
        same = now.shape == then.shape and np.array_equal(now, then, equal_nan=True)
        return None if same else (path or "the value")
    if isinstance(now, (tuple, list)) and isinstance(then, (tuple, list)) and len(now) == len(then):
        for k, (a, b) in enumerate(zip(now, then)):
            hit = _first_change(a, b, f"{path}[{k}]")
            if hit:
                return hit
    if isinstance(now, dict) and isinstance(then, dict):
        for k in now:
            if k in then:
                hit = _first_change(now[k], then[k], f"{path}[{k!r}]")
                if hit:
                    return hit
    return None


def _get(obj, path):
    """The element of ``obj`` at a path made by ``_first_change``."""
    import ast as _ast
    for part in path.strip("[]").split("]["):
        if not part:
            continue
        obj = obj[_ast.literal_eval(part)]
    return obj


class Run:
    """The checks of one convention's functions, sharing the learner's functions and verdicts."""

    def __init__(self, conv, fns, learner, seed=0):
        self.conv, self.fns, self.learner, self.seed = conv, fns, learner, seed
        self.ok = set()        # (cell, role) of the functions that passed
        self.status = {}       # function name -> its status
        self.names = NAMES[conv.name]
        self.w = conv.words
        self.codes = {fn.__code__: name for name, fn in fns.items() if hasattr(fn, "__code__")}

    # ================================================================== one function's verdict
    def check(self, spec) -> Finding:
        fn = self.fns[spec.name]
        problem = signature_problem(self.conv, spec.name, fn)
        try:
            unfinished = static_reason(self.learner, fn, spec)
            if unfinished:
                raise NotWritten(*unfinished)
            if problem:
                raise Departure(Ctx("forward"), "signature", problem,
                                f"the assignment's signature is {spec.signature}")
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                getattr(self, "check_" + spec.role)(spec)
            self.ok.add((spec.cell, spec.role))
            found = self.finding(spec, "ok")
        except NotWritten as n:
            found = self.finding(spec, "not written", reason=n.reason, where=n.where)
        except Skip as s:
            found = self.finding(spec, "skipped", reason=str(s))
        except Departure as d:
            trouble = self.troubled_callee(spec)
            if trouble:
                name, status = trouble
                found = self.finding(spec, "skipped", reason=f"calls {name}, which {STATUS_WORDS[status]}")
            else:
                c = d.ctx
                where = d.where or self.quantity_place(spec, d.quantity)
                found = self.finding(spec, "departs", direction=c.direction, quantity=d.quantity, step=c.step,
                                     B=c.B, T=c.T, reason=d.reason + (f" {c.words}" if c.words else ""),
                                     hint=d.hint, where=where, error=d.error)
        self.status[spec.name] = found.status
        return found

    def finding(self, spec, status, *, where=None, **fields):
        where = where or def_place(self.learner, self.fns[spec.name])
        if where is not None:
            fields.update(file=where.file, line=where.line, source=where.source)
        error = fields.pop("error", None)
        return Finding(spec.name, status, max_abs_error=None if error is None or not np.isfinite(error) else error,
                       **fields)

    def quantity_place(self, spec, quantity):
        if quantity in ("dL/dh", "dL/ds"):
            quantity = spec.outputs[0]
        return quantity_line(self.learner, self.fns[spec.name], spec, quantity)

    def troubled_callee(self, spec):
        """(name, status) of a convention function ``spec``'s code calls that is not ok, or None."""
        called = calls(self.fns[spec.name])
        for other in self.conv.functions:
            if other.name != spec.name and other.name in called and other.name in self.fns:
                status = self.status.get(other.name)
                if status in STATUS_WORDS:
                    return other.name, status
        return None

    # ================================================================================ calling
    def call(self, spec, args, ctx: Ctx):
        fn = self.fns[spec.name]
        try:
            out = fn(*[_copy(a) for a in args])
        except KeyboardInterrupt:
            raise
        except BaseException as err:  # the learner's exception (a sys.exit too) is the finding
            self.raised(spec, err, ctx, args)
        if out is None:
            raise NotWritten(stub_reason(self.learner, fn))
        outs = self.unpack(spec, out, ctx)
        reason = none_outputs_reason(spec, outs)
        if reason:
            raise NotWritten(reason)
        return outs

    def raised(self, spec, err, ctx, args):
        learner = self.learner
        frames = learner_frames(learner, err.__traceback__)
        own = self.fns[spec.name].__code__ if hasattr(self.fns[spec.name], "__code__") else None
        inner = [(code, line) for code, line in frames if code is not own]
        callee = next((self.codes[c] for c, _ in inner if c in self.codes), None)
        if callee is not None and self.status.get(callee) in STATUS_WORDS:
            raise Skip(f"calls {callee}, which {STATUS_WORDS[self.status[callee]]}")
        deepest = frames[-1] if frames else None
        if deepest is not None:
            why = not_written_reason(learner, err, *deepest)
            if why:
                if deepest[0] is own:
                    raise NotWritten(why, place(learner, deepest[0].co_filename, deepest[1]))
                if callee is not None:
                    raise Skip(f"calls {callee}, which is not written yet ({why})")
                raise NotWritten(f"it calls {deepest[0].co_name}, which {why}",
                                 place(learner, deepest[0].co_filename, deepest[1]))
        if isinstance(err, NameError) and getattr(err, "name", None):
            needs = self.missing_module_for(err.name)
            if needs:
                raise Skip(needs)
        shapes = ", ".join(f"{n} {_shape(a)}" for n, a in zip(spec.args, args))
        where = place(learner, deepest[0].co_filename, deepest[1]) if deepest is not None else None
        inside = ""
        if deepest is not None and deepest[0] is not own:
            call_line = next((line for code, line in frames if code is own), None)
            inside = f" in {deepest[0].co_name}" + (f" (called from line {call_line})" if call_line else "")
        equation = M.equation_hint(self, spec.cell or "rnn", spec.role, "", ctx.step) \
            if spec.role in ("step_forward", "step_backward", "forward", "backward") else ""
        msg = str(err).splitlines()[0] if str(err) else ""
        raise Departure(ctx, "exception", f"{spec.name} raised {type(err).__name__}{inside}"
                                          f"{': ' + msg if msg else ''} (called with {shapes})",
                        M.exception_hint(err, spec, self.w, ctx.B, ctx.T, equation), where=where)

    def missing_module_for(self, name):
        """One line naming the missing module that would have defined ``name``, or None."""
        for module, (where, names, text) in self.learner.missing.items():
            if name in names:
                return f"needs {name}, which {module} defines, and {module} is not there ({where}: {text})"
        star = [(m, where, text) for m, (where, names, text) in self.learner.missing.items() if "*" in names]
        if star:
            module, where, text = star[0]
            return (f"needs {name}, which is defined nowhere in the file: it comes from {module}, which is not "
                    f"there ({where}: {text}); put {module.split('.')[-1]}.py beside the file")
        return None

    def unpack(self, spec, out, ctx):
        names = spec.outputs
        if spec.returns_dict:
            if not isinstance(out, dict):
                self._bad_return(spec, f"a dict with the keys {', '.join(names)}", out, ctx)
            missing = [n for n in names if n not in out]
            if missing:
                raise Departure(ctx, missing[0], f"{spec.name} returned no {missing[0]!r}",
                                f"return a dict with the keys {', '.join(names)}")
            return dict(out)
        if len(names) == 1 and not isinstance(out, (tuple, list)):
            return {names[0]: out}
        if not isinstance(out, (tuple, list)) or len(out) != len(names):
            self._bad_return(spec, f"a tuple ({', '.join(names)})", out, ctx)
        return dict(zip(names, out))

    def _bad_return(self, spec, expected, out, ctx):
        got = f"a tuple of {len(out)}" if isinstance(out, (tuple, list)) else _shape(out)
        raise Departure(ctx, "return value", f"{spec.name} returned {got}; expected {expected}",
                        f"return {expected}, in that order")

    # ============================================================================== comparing
    def error(self, spec, name, got, want, ctx):
        """Max |got - want|, or raise Departure for a value that is not an array of want's shape."""
        if got is None:
            raise Departure(ctx, name, f"{name} is None", f"{spec.name} must return {name}, an array of shape "
                                                         f"{want.shape}{M.missing_hint(name, self.w)}")
        try:
            g = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            raise Departure(ctx, name, f"{name} is {type(got).__name__}, not a numeric array of shape {want.shape}",
                            f"{spec.name} returns {name} as a NumPy array")
        if g.shape != want.shape:
            raise Departure(ctx, name, f"{name} has shape {g.shape}; expected {want.shape}",
                            f"{name} must be {want.shape}" + M.shape_hint(self.conv.name, name, g.shape, want.shape,
                                                                          ctx.B, ctx.T))
        diff = np.abs(g - want)
        return float(np.max(diff)) if np.all(np.isfinite(g)) else float("inf")

    def departs(self, err, want):
        return not err <= TOL * max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)

    def first_wrong(self, spec, outs, expected, ctx):
        """The first output (in ``spec.order``) that departs: (name, max abs error) or None."""
        for name in (spec.order or spec.outputs):
            if name in expected:
                err = self.error(spec, name, outs[name], expected[name], ctx)
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

    @staticmethod
    def off(name, err):
        return f"{name} differs from the reference by up to {err:.3g}" if np.isfinite(err) else \
            f"{name} is not finite (inf or nan)"

    # ================================================================================ helpers
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
                         Ctx("forward", None, case.B, None, case.words))
        return outs["cache" if "cache" in outs else spec.outputs[-1]]

    def needs(self, cell, role, spec):
        dep = self.spec_for(cell, role)
        if dep is None:
            raise Skip(f"needs {self._role_name(cell, role)} for its cache, and the file does not define it")
        if (cell, role) not in self.ok:
            raise Skip(f"its cache comes from {dep.name}, which {STATUS_WORDS.get(self.status.get(dep.name), 'departs')}")
        return dep

    def _role_name(self, cell, role):
        spec = next((f for f in self.conv.functions if f.cell == cell and f.role == role), None)
        return spec.name if spec else role

    # ============================================================================ step forward
    def check_step_forward(self, spec):
        cell = spec.cell
        for case in cases(cell, self.seed, steps=False):
            ctx = Ctx("forward", None, case.B, None, case.words)
            if cell == "lstm":
                hs, ss, gates = lstm_states(case, case.s0)
            else:
                hs, ss = rnn_states(case), None
            for t in range(case.T):
                s_prev = None if ss is None else ss[t]
                outs = self.call(spec, self.step_forward_args(cell, case.x[t], hs[t], s_prev, case.P), ctx)
                want = self.step_expect(cell, hs[t + 1], None if ss is None else ss[t + 1], case.P)
                bad = self.first_wrong(spec, outs, want, ctx)
                if bad:
                    name, err = bad
                    cands = M.step_forward_mistakes(self, cell, case, t, hs, ss)
                    hint = self.hint(cands, name, outs[name], M.equation_hint(self, cell, "step_forward", name))
                    raise Departure(ctx, name, self.off(name, err), hint, error=err)

    # =========================================================================== step backward
    def check_step_backward(self, spec):
        cell = spec.cell
        self.needs(cell, "step_forward", spec)
        n = self.names
        st = self.conv.state
        for case in cases(cell, self.seed, steps=False):
            ctx = Ctx("backward", None, case.B, None, case.words)
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
                outs = self.call(spec, args, ctx)
                bad = self.first_wrong(spec, outs, want, ctx)
                if bad:
                    name, err = bad
                    cands = M.step_backward_mistakes(self, cell, case, t, hs, ss, dh,
                                                     case.ds_step if cell == "lstm" else None)
                    hint = self.hint(cands, name, outs[name],
                                     M.gate_hint(self, cell, name, outs[name], want[name])
                                     or M.equation_hint(self, cell, "step_backward", name))
                    raise Departure(ctx, name, self.off(name, err), hint, error=err)

    # ======================================================================== sequence forward
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

    @contextlib.contextmanager
    def watching(self, spec):
        """Record every call the learner's forward makes to their own step function: what it
        returned, a copy of it made as it returned, the arguments and the calling line."""
        step = self.spec_for(spec.cell, "step_forward")
        fn = self.fns[spec.name]
        g = getattr(fn, "__globals__", None)
        if step is None or g is None or g.get(step.name) is not self.fns.get(step.name):
            yield None
            return
        original, record = g[step.name], []

        def watched(*args, **kwargs):
            out = original(*args, **kwargs)
            caller = sys._getframe(1)
            record.append((out, _copy(out), args, caller.f_code, caller.f_lineno))
            return out
        g[step.name] = watched
        try:
            yield record
        finally:
            g[step.name] = original

    def check_forward(self, spec):
        cell = spec.cell
        for case in cases(cell, self.seed) + [with_zero_h0(cases(cell, self.seed)[0])]:
            ctx = Ctx("forward", None, case.B, case.T, case.words)
            with self.watching(spec) as record:
                outs = self.call(spec, self.forward_args(cell, case), ctx)
            want, hs, ss = self.forward_expect(cell, case)
            for name in (spec.order or spec.outputs):        # shapes first, then step by step
                if name in want:
                    self.error(spec, name, outs[name], want[name], ctx)
            for t in range(case.T):
                for name in (spec.order or spec.outputs):
                    if name not in want:
                        continue
                    got_t = self.conv.at(np.asarray(outs[name], dtype=float), t)
                    want_t = self.conv.at(want[name], t)
                    err = float(np.max(np.abs(got_t - want_t)))
                    if self.departs(err, want_t) or not np.isfinite(err):
                        cands = M.forward_mistakes(self, cell, case, t)
                        hint = self.hint([({name: self.conv.at(m[name], t)}, h) for m, h in cands if name in m],
                                         name, got_t, M.equation_hint(self, cell, "forward", name, t))
                        raise Departure(ctx.at(t), name, self.off(f"{self.w.of(name, t)}", err), hint, error=err)
            if record:
                self.changed_caches(spec, case, ctx, record, outs)

    def changed_caches(self, spec, case, ctx, record, outs):
        """Departure when a cache the step function returned was changed after it returned."""
        w = self.w
        step = self.spec_for(spec.cell, "step_forward")
        h_name = self.names.get("seq_h", "h")
        h_seq = np.asarray(outs[h_name])
        for t, (out, then, args, code, line) in enumerate(record):
            if not isinstance(out, (tuple, list)) or not out or not isinstance(then, (tuple, list)):
                continue
            now_cache, then_cache = out[-1], then[-1]
            path = _first_change(now_cache, then_cache)
            if path is None or self.harmless(spec.cell, now_cache, then_cache, np.shape(out[0])):
                continue
            now = np.asarray(_get(now_cache, path))
            try:
                arg_names = list(inspect.signature(self.fns[step.name]).parameters)
            except (TypeError, ValueError):
                arg_names = []
            named = next((arg_names[k] for k, a in enumerate(args) if k < len(arg_names)
                          and a is _get(now_cache, path)), None)
            what = f"cache{path} ({step.name}'s argument {named})" if named else f"cache{path}"
            holds = next((j for j in range(case.T) if now.shape == self.conv.at(h_seq, j).shape
                          and np.array_equal(now, self.conv.at(h_seq, j))), None)
            now_holds = f"the state of step t = {holds}, {w.of('h', holds)}" if holds is not None else "other values"
            view = np.shares_memory(now, h_seq) if isinstance(h_seq, np.ndarray) else False
            node = function_node(self.learner, self.fns[spec.name].__code__)
            culprit = assignment_of(node, w.h0) if node is not None else None
            where = place(self.learner, code.co_filename, culprit.lineno if culprit else line)
            reason = (f"the cache {step.name} returned at t = {t} was changed after it was computed: its {what} "
                      f"now holds {now_holds}" + (f"; it is a view into {w.h}, which a later step overwrote" if view else ""))
            hint = (f"a view is a window onto another array, not a copy: the {named or 'array'} cached at t = {t} "
                    f"shares its memory with {w.h}, so when step t = {holds if holds is not None else 'later'} "
                    f"writes there, the cache of step t = {t} no longer holds what it was computed from. Keep the "
                    f"previous state in its own variable ({w.prev_h} = {w.h0} before the loop, then the {w.next_h} "
                    f"each step returns) or pass a copy (.copy())")
            if culprit is not None:
                hint += f"; {where.source} stores {w.h0} where a later step writes"
            raise Departure(ctx.at(t), "cache", reason, hint, where=where)

    def harmless(self, cell, now_cache, then_cache, state_shape):
        """Whether the learner's step backward gives the same on the changed and the original cache."""
        back = self.spec_for(cell, "step_backward")
        if back is None:
            return False
        rng = np.random.default_rng(self.seed + 9)
        ups = [rng.normal(size=state_shape) for _ in range(2 if cell == "lstm" else 1)]
        try:
            with np.errstate(all="ignore"):
                a = self.fns[back.name](*_copy(ups), _copy(now_cache))
                b = self.fns[back.name](*_copy(ups), _copy(then_cache))
        except Exception:
            return False
        return _first_change(a, b) is None

    # ======================================================================= sequence backward
    def learner_forward(self, cell, case):
        fspec = self.spec_for(cell, "forward")
        outs = self.call(fspec, self.forward_args(cell, case), Ctx("forward", None, case.B, case.T, case.words))
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
            ctx = Ctx("backward", None, case.B, case.T, case.words)
            cache = self.learner_forward(cell, case)
            r, states = self.backward_reference(cell, case)
            outs = self.call(spec, [self.conv.seq(case.dh_out), cache], ctx)
            want = self.backward_expect(spec, cell, r)
            for name in spec.outputs:
                if name in want:
                    self.error(spec, name, outs[name], want[name], ctx)
            # 1. dx in decreasing t: the first step whose error at a(t) is wrong.
            got_dx = np.asarray(outs[dx_name], dtype=float)
            for t in reversed(range(case.T)):
                g, wt = self.conv.at(got_dx, t), self.conv.at(want[dx_name], t)
                err = float(np.max(np.abs(g - wt)))
                if self.departs(err, wt) or not np.isfinite(err):
                    quantity, step, hint = M.backward_dx_hint(self, spec, cell, case, states, t, g, got_dx, want[dx_name])
                    raise Departure(ctx.at(step), quantity, self.off(f"{self.w.of('dx', step)}", err)
                                    if quantity == dx_name else
                                    f"the error reaching step t = {step} is wrong: {self.w.of('dx', step)} differs "
                                    f"from the reference by up to {err:.3g}", hint, error=err)
            # 2. dh0: what step 0 sends back.
            err = float(np.max(np.abs(np.asarray(outs[dh0_name], dtype=float) - want[dh0_name])))
            if self.departs(err, want[dh0_name]):
                raise Departure(ctx.at(0), dh0_name, self.off(dh0_name, err),
                                M.dh0_hint(self, cell, case, r, outs[dh0_name], dh0_name), error=err)
            # 3. The parameter gradients: each step's contribution, isolated.
            for name in (spec.order or spec.outputs):
                if name in (dx_name, dh0_name) or name not in want:
                    continue
                err = float(np.max(np.abs(np.asarray(outs[name], dtype=float) - want[name])))
                if self.departs(err, want[name]):
                    step, hint = M.gradient_hint(self, spec, cell, case, r, states, name, outs[name])
                    raise Departure(ctx.at(step), name, self.off(name, err), hint, error=err)

    def sends_nothing_back(self, spec, cell, case, k):
        """Probe: an upstream error at step k (0-based) only. Does the learner's dx at step k-1 stay
        zero where the reference's is not (nothing sent back from step k)?"""
        single = np.zeros_like(case.dh_out)
        single[k] = case.dh_out[k]
        probe = replace(case, dh_out=single)
        r, _ = self.backward_reference(cell, probe)
        outs = self.call(spec, [self.conv.seq(single), self.learner_forward(cell, probe)],
                         Ctx("backward", k, case.B, case.T, case.words))
        got = self.conv.at(np.asarray(outs[spec.outputs[0]], dtype=float), k - 1)
        return np.max(np.abs(got)) == 0 and np.max(np.abs(r["dx"][k - 1])) > 0

    def isolated_departure(self, spec, cell, case, name):
        """The first step k (decreasing) whose own contribution to ``name`` departs, or None.

        The upstream error is case.dh_out at step k, and at step k-1 minus what step k sends back,
        so that the reference's dL/da is non-zero at step k only: the gradient is then step k's
        contribution alone, computed from the learner's own forward cache of the whole sequence.
        (For the LSTM the cell state also carries the error back: no such isolation.)
        """
        if cell != "rnn":
            return None
        hs = rnn_states(case)
        U, W, b = case.P["U"], case.P["W"], case.P["b"]
        cache = self.learner_forward(cell, case)
        for k in reversed(range(case.T)):
            dh = np.zeros_like(case.dh_out)
            dh[k] = case.dh_out[k]
            if k > 0:
                dh[k - 1] = -((dh[k] * (1 - hs[k + 1] ** 2)) @ W)
            r = ref.rnn_backward(dh, case.x, hs, U, W, b)
            outs = self.call(spec, [self.conv.seq(dh), cache], Ctx("backward", k, case.B, case.T, case.words))
            want = self.conv.grads(cell, r["dU"], r["dW"], r["db"])[name]
            if not self.matches(outs[name], want):
                return k
        return None

    # ============================================================================ truncation
    def check_truncated_backward(self, spec):
        cell = spec.cell
        self.needs(cell, "forward", spec)
        w = self.w
        all_cases = cases(cell, self.seed)
        main = all_cases[0]
        dx_name = spec.outputs[0]
        for case, k in ((main, 2), (main, 5), (main, 1), (all_cases[1], 3), (all_cases[2], 2)):
            ctx = Ctx("backward", None, case.B, case.T, (case.words + " and" if case.words else "with") + f" k = {k}")
            cache = self.learner_forward(cell, case)
            hs = rnn_states(case)
            U, W, b = case.P["U"], case.P["W"], case.P["b"]
            r = ref.rnn_truncated_backward(case.dh_out, case.x, hs, U, W, b, k)
            outs = self.call(spec, [self.conv.seq(case.dh_out), cache, k], ctx)
            want = {dx_name: self.conv.seq(r["dx"]), **self.conv.grads(cell, r["dU"], r["dW"], r["db"])}
            for name in spec.outputs:
                self.error(spec, name, outs[name], want[name], ctx)
            got = np.asarray(outs[dx_name], dtype=float)
            full = ref.rnn_backward(case.dh_out, case.x, hs, U, W, b)["dx"]
            T = case.T
            ends = list(range(T, 0, -k))[::-1]                         # windows counted from the end
            from_end = np.concatenate([ref.rnn_truncated_backward(case.dh_out[max(0, e - k):e], case.x[max(0, e - k):e],
                                                                  hs[max(0, e - k):e + 1], U, W, b, k)["dx"]
                                       for e in ends])
            for t in reversed(range(T)):
                g, wt = self.conv.at(got, t), self.conv.at(want[dx_name], t)
                err = float(np.max(np.abs(g - wt)))
                if not (self.departs(err, wt) or not np.isfinite(err)):
                    continue
                start = (t // k) * k
                if self.matches(g, self.conv.state(full[t])):
                    hint = (f"the error from step t = {start + k} crossed the window's edge into t = {t}: windows of "
                            f"k = {k} steps start at t = 0, {k}, {2 * k}, ...; at each window's first step, what it "
                            f"sends back ({w.dprev_h}) is dropped, as truncated BPTT drops it at a chunk's edge")
                elif self.matches(g, self.conv.state(from_end[t])):
                    hint = (f"the windows are counted from the end of the sequence; they start at t = 0, {k}, "
                            f"{2 * k}, ..., as the stream is read and the state carried forward")
                else:
                    nxt = f" + what step t = {t + 1} sent back" if t + 1 < min(start + k, T) else \
                        " alone: it is the window's last step"
                    hint = (f"within the window t = {start}, ..., {min(start + k, T) - 1} the error fed to step t = {t} "
                            f"is {w.of('dh', t)}{nxt}; nothing comes back across the window's first step "
                            f"(book: BPTT truncated to windows of k = {k} steps)")
                raise Departure(ctx.at(t), dx_name, self.off(w.of("dx", t), err), hint, error=err)
            bad = self.first_wrong(spec, outs, want, ctx)
            if bad:
                name, err = bad
                raise Departure(ctx, name, self.off(name, err),
                                f"{name} is the sum of every window's contributions, each step's as in the "
                                f"full backward (book: {M.BOOK_EQ.get(M.BOOK_PARAM.get(name, name), '')} summed "
                                f"over t)", error=err)

    # ================================================================================ clipping
    def check_clip(self, spec):
        rng = np.random.default_rng(self.seed + 5)
        grads = {"U": rng.normal(size=(4, 5)), "W": rng.normal(size=(4, 4)) * 3, "b": rng.normal(size=4),
                 "V": rng.normal(size=(3, 4)), "c": rng.normal(size=3) * 0.1}
        norm = float(np.sqrt(sum((g ** 2).sum() for g in grads.values())))
        for max_norm, words in ((norm / 3, "with a gradient norm above max_norm"),
                                (norm * 2, "with a gradient norm below max_norm")):
            ctx = Ctx("backward", None, None, None, words)
            outs = self.call(spec, [grads, max_norm], ctx)
            got = outs["grads"]
            if not isinstance(got, dict):
                raise Departure(ctx, "grads", f"{spec.name} returned {_shape(got)}; expected a dict with the keys "
                                              f"{', '.join(grads)}", "return a dict with the same keys as grads")
            scale = min(1.0, max_norm / norm)
            for key, g in grads.items():
                q = f"grads[{key!r}]"
                if key not in got:
                    raise Departure(ctx, q, f"the returned dict has no {key!r}", "keep every key of grads")
                want = g * scale
                err = self.error(spec, q, got[key], want, ctx)
                if not self.departs(err, want):
                    continue
                mine = got[key]
                if self.matches(mine, g * min(1.0, max_norm / np.sqrt((g ** 2).sum()))):
                    hint = ("each array is clipped by its own norm; clip by the global norm, over every array "
                            "together: total = sqrt(sum of (g**2).sum() over the arrays)")
                elif self.matches(mine, np.clip(g, -max_norm, max_norm)):
                    hint = ("np.clip limits each entry; clipping by norm scales the whole gradient, keeping its "
                            "direction: g * max_norm / total when total > max_norm")
                elif self.matches(mine, g * max_norm / norm):
                    hint = "the gradient is rescaled although its norm is below max_norm: clip only when total > max_norm"
                else:
                    hint = ("total = sqrt(sum over every array of (g**2).sum()); when total > max_norm, every array is "
                            "multiplied by max_norm / total, else returned as it is (Pascanu et al., 2013)")
                raise Departure(ctx, q, self.off(q, err), hint, error=err)

    # ========================================================================= no recurrence
    def check_dense_forward(self, spec):
        rng = np.random.default_rng(self.seed)
        for shape in ((3, 5), (4, 2, 5), (1, 1, 5)):
            x = rng.normal(size=shape); Mw = rng.normal(size=(4, 5)); v = rng.normal(size=4)
            want_book = x @ Mw.T + v
            ctx = Ctx("forward", None, None, None, f"with x of shape {shape}")
            if self.conv.name == "cs231n":
                if x.ndim != 3:
                    continue
                args, want = [x, Mw.T, v], {"out": want_book}
            else:
                args, want = [x, Mw, v], {"out": want_book}
            outs = self.call(spec, args, ctx)
            bad = self.first_wrong(spec, outs, want, ctx)
            if bad:
                raise Departure(ctx, bad[0], self.off(bad[0], bad[1]),
                                "out = x M^T + v: each output unit is a weighted sum of the inputs plus its bias "
                                "(the book's o(t) = c + V h(t))", error=bad[1])

    def check_dense_backward(self, spec):
        rng = np.random.default_rng(self.seed + 1)
        for shape in ((3, 5), (4, 2, 5), (1, 1, 5)):
            x = rng.normal(size=shape); Mw = rng.normal(size=(4, 5)); v = rng.normal(size=4)
            dout = rng.normal(size=(*shape[:-1], 4))
            dx, dM, dv = dout @ Mw, dout.reshape(-1, 4).T @ x.reshape(-1, 5), dout.reshape(-1, 4).sum(0)
            ctx = Ctx("backward", None, None, None, f"with x of shape {shape}")
            if self.conv.name == "cs231n":
                if x.ndim != 3:
                    continue
                fspec = self.conv.fn("temporal_affine_forward")
                if fspec.name not in self.fns:
                    raise Skip("needs temporal_affine_forward for its cache, and the file does not define it")
                if self.status.get(fspec.name) != "ok":
                    raise Skip(f"its cache comes from temporal_affine_forward, which "
                               f"{STATUS_WORDS.get(self.status.get(fspec.name), 'departs')}")
                cache = self.call(fspec, [x, Mw.T, v], ctx)["cache"]
                args, want = [dout, cache], {"dx": dx, "dw": dM.T, "db": dv}
            else:
                args, want = [dout, x, Mw], {"dx": dx, "dM": dM, "dv": dv}
            outs = self.call(spec, args, ctx)
            bad = self.first_wrong(spec, outs, want, ctx)
            if bad:
                name, err = bad
                hint = {"dx": "dL/dx = dL/dout M: each input receives the errors of the units it feeds, weighted",
                        "dM": "dL/dM = sum over every leading axis (batch, time) of dL/dout^T x",
                        "dw": "dw = x.T @ dout, summed over N and T (book: dL/dV = sum_t dL/do(t) h(t)^T)",
                        "dv": "dL/dv = the sum of dL/dout over every leading axis (batch and time)",
                        "db": "db = dout summed over N and T"}.get(name, "")
                raise Departure(ctx, name, self.off(name, err), hint, error=err)

    def check_embed_forward(self, spec):
        rng = np.random.default_rng(self.seed + 2)
        x = rng.integers(0, 4, size=(3, 5)); x[0, :2] = 1; Wv = rng.normal(size=(6, 4))
        ctx = Ctx("forward", None, 3, 5)
        outs = self.call(spec, [x, Wv], ctx)
        bad = self.first_wrong(spec, outs, {"out": Wv[x]}, ctx)
        if bad:
            raise Departure(ctx, bad[0], self.off(bad[0], bad[1]), "out[n, t] = W[x[n, t]]: row x of W", error=bad[1])

    def check_embed_backward(self, spec):
        fspec = self.conv.fn("word_embedding_forward")
        if fspec.name not in self.fns:
            raise Skip("needs word_embedding_forward for its cache, and the file does not define it")
        if self.status.get(fspec.name) != "ok":
            raise Skip(f"its cache comes from word_embedding_forward, which "
                       f"{STATUS_WORDS.get(self.status.get(fspec.name), 'departs')}")
        rng = np.random.default_rng(self.seed + 3)
        x = rng.integers(0, 4, size=(3, 5)); x[0, :2] = 1; Wv = rng.normal(size=(6, 4))
        dout = rng.normal(size=(3, 5, 4))
        ctx = Ctx("backward", None, 3, 5)
        cache = self.call(fspec, [x, Wv], ctx)["cache"]
        outs = self.call(spec, [dout, cache], ctx)
        dW = np.zeros_like(Wv); np.add.at(dW, x, dout)
        bad = self.first_wrong(spec, outs, {"dW": dW}, ctx)
        if bad:
            once = np.zeros_like(Wv); once[x] = dout
            hint = ("dW[v] must sum dout over every (n, t) where x = v: a word that appears twice adds twice "
                    "(np.add.at, not dW[x] = dout)" if self.matches(outs["dW"], once)
                    else "dW[v] = sum of dout[n, t] over every (n, t) with x[n, t] = v")
            raise Departure(ctx, bad[0], self.off(bad[0], bad[1]), hint, error=bad[1])

    def check_loss(self, spec):
        rng = np.random.default_rng(self.seed + 4)
        T, B, O = 4, 3, 5
        o = rng.normal(size=(T, B, O)) * 2; y = rng.integers(0, O, size=(T, B))
        yhat = ref.softmax(o)
        t_idx, b_idx = np.indices((T, B))
        ctx = Ctx("backward", None, B, T)
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
        outs = self.call(spec, args, ctx)
        bad = self.first_wrong(spec, outs, want, ctx)
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
            raise Departure(replace(ctx, direction=direction), name, self.off(name, err), hint, error=err)

