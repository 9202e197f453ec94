"""Truncated back-propagation through time: Williams & Peng's BPTT(h; h'), h = k2, h' = k1.

Full BPTT renews the parameters once per whole sequence. Truncated BPTT walks a long stream
and, every k1 steps, yields the loss of the last k1 steps and its gradient back-propagated
through at most k2 steps: the states at t-k2 (h, and the LSTM's s; every layer's) are held
constant. With k2 > k1 the windows
overlap (the k2 - k1 older steps carry no loss of this update, only the recurrent chain);
with k2 < k1 the losses of steps at or before the cut still train V and c, but send nothing
into the recurrence.

Forward runs once per step, over the new k1 steps, with the parameters as they are when the
update is asked for, so a trainer that applies each update before asking for the next gets
online truncated BPTT; the older steps a backward needs come from a rolling history of the
last max(k1, k2) steps.

Shape legend: T time, B batch, H hidden, O outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate as check
from .dense import dense_backward, dense_forward
from .losses import LOSSES, OUTPUTS
from .network import LayerTrace, suffix
from .unroll import forward_through_time


class Workspace:
    """Scratch arrays kept from one call to the next, by name.

    A training step makes a dozen (T, B, H) arrays; allocated afresh each time, their pages
    are faulted in by the kernel on every update. Reused, they cost nothing after the first.
    """

    def __init__(self):
        self._arrays = {}

    def get(self, name, shape, dtype):
        arr = self._arrays.get(name)
        if arr is None or arr.shape != tuple(shape) or arr.dtype != dtype:
            arr = self._arrays[name] = np.empty(shape, dtype=dtype)
        return arr


@dataclass(frozen=True)
class Update:
    """One truncated-BPTT update: steps [start, stop) of the stream carry its loss.

    loss: sum over those steps of L(t), averaged over the batch; grads: dict like params;
    state: {"h0": ..., ("s0": ...)} the states after step stop - 1, to carry on, as ``forward``
    takes them ((B, H), or (L, B, H) for a stack); n_steps = stop - start.
    """

    loss: float
    grads: dict
    state: dict
    start: int
    stop: int

    @property
    def h(self) -> np.ndarray:
        return self.state["h0"]

    @property
    def n_steps(self) -> int:
        return self.stop - self.start


class TruncatedBPTT:
    """The state of a walk along one stream: position, carried states, rolling history.

    ``next_update()`` returns the next Update, or None at the end of the stream. The state
    (``position``, ``history``) can be saved and restored, so a resumed walk is bit for bit
    the walk that was interrupted. The history holds, for each layer, the last steps' states
    (n+1, B, H) (the state before each of the n steps, then after the last) and what the cell
    keeps for backward (n, B, width*H).

    x, y: the stream as ``forward`` and ``backward`` take them, checked whole here; or, with
    ``lazy=True``, anything with a ``shape`` (T_total, B) whose slices x[a:b], y[a:b] are such
    arrays (``data.text.Streams`` over a long text, which gather a window's ids as the walk
    reaches it): their first step is checked here, the rest is trusted as it is read.
    """

    def __init__(self, model, x, y, k1, k2=None, h0=None, s0=None, *, lazy=False):
        self.model = model
        self.k1 = check.positive_int("k1", k1)
        self.k2 = self.k1 if k2 is None else check.positive_int("k2", k2)
        if lazy:
            B = check.inputs(x[:1], model.n_in, model.dtype).shape[1]
            check.targets(y[:1], model.output, 1, B, model.n_out, model.dtype)
            self.x, self.y = x, y
        else:
            self.x = check.inputs(x, model.n_in, model.dtype)                # (T_total, B[, I])
            T_total, B = self.x.shape[:2]
            self.y = check.targets(y, model.output, T_total, B, model.n_out, model.dtype)
        state0 = model.initial_states(B, h0=h0, s0=s0)
        self.position = 0
        H, cell = model.n_hidden, model.cell
        self.history = [LayerTrace({n: state0[layer][n][None].copy() for n in cell.states},
                                   {n: np.empty((0, B, w * H), model.dtype) for n, w in cell.keeps})
                        for layer in range(model.layers)]
        self.work = Workspace()           # every update's scratch arrays, reused

    def state0(self) -> dict:
        """The carried states as ``forward`` takes them: {"h0": ..., ("s0": ...)}."""
        m = self.model
        if m.layers == 1:
            return {f"{n}0": self.history[0].states[n][-1] for n in m.cell.states}
        return {f"{n}0": np.stack([lt.states[n][-1] for lt in self.history]) for n in m.cell.states}

    @property
    def h(self) -> np.ndarray:
        return self.state0()["h0"]

    def next_update(self) -> Update | None:
        model, p, k1, k2, cell = self.model, self.model.params, self.k1, self.k2, self.model.cell
        T_total = self.x.shape[0]
        start = self.position
        stop = min(start + k1, T_total)
        if start >= stop:
            return None
        n, B, H, O, dt = stop - start, self.x.shape[1], model.n_hidden, model.n_out, model.dtype
        GH = cell.gates * H
        work = self.work
        keep = max(k1, k2)
        # Forward over the new steps only, from the carried states, layer by layer. With
        # k2 <= k1 the history is this update's own buffers, which the next update's forward
        # reads its initial states from (copied into row 0 before anything is overwritten).
        below = self.x[start:stop]
        history = []
        for layer, old in enumerate(self.history):
            xu = model.project_inputs(below, layer, out=work.get(f"xu{layer}", (n, B, GH), dt))  # (n, B, G*H)
            buffers = ({s: work.get(f"{s}s{layer}", (n + 1, B, H), dt) for s in cell.states},
                       {k: work.get(f"{k}{layer}", (n, B, w * H), dt) for k, w in cell.keeps})
            states, keeps = forward_through_time(cell, model.weights(layer), xu,
                                                 {s: old.states[s][-1] for s in cell.states}, out=buffers)
            if n >= keep:                 # k2 <= k1: the new steps are all the history needed
                history.append(LayerTrace({s: v[-(keep + 1):] for s, v in states.items()},
                                          {k: v[-keep:] for k, v in keeps.items()}))
            else:
                history.append(LayerTrace(
                    {s: np.concatenate([old.states[s], v[1:]])[-(keep + 1):] for s, v in states.items()},
                    {k: np.concatenate([old.keeps[k], v])[-keep:] for k, v in keeps.items()}))
            below = states["h"][1:]                                         # (n, B, H)
        span = history[0].states["h"].shape[0] - 1
        first = stop - span                                                 # stream index of the history's first step
        # Readout, softmax and loss over the update's steps at once.
        h_loss = below                                                      # (n, B, H)
        o = dense_forward(h_loss, p["V"], p["c"], out=work.get("o", (n, B, O), dt))       # (n, B, O)
        yhat = OUTPUTS[model.output](o, out=work.get("yhat", (n, B, O), dt))
        loss, do, _ = LOSSES[model.output](o, yhat, self.y[start:stop], out=work.get("yhat", (n, B, O), dt))
        dh_loss, dV, dc = dense_backward(do, h_loss, p["V"], out=work.get("dh_loss", (n, B, H), dt))  # (n, B, H)
        # The recurrent chain covers the last min(k2, span) steps; the states at its start are constant.
        depth = min(k2, span)
        n_in_chain = min(depth, n)
        if depth == n:                    # the chain is exactly the loss window (k1 = k2)
            dh_top = dh_loss
        else:
            dh_top = np.zeros((depth, B, H), dtype=dt)                      # (depth, B, H)
            dh_top[depth - n_in_chain:] = dh_loss[n - n_in_chain:]
        c0 = span - depth
        chain = [LayerTrace({s: v[c0:] for s, v in lt.states.items()}, {k: v[c0:] for k, v in lt.keeps.items()})
                 for lt in history]
        grads, _, _ = model.backward_layers(self._inputs(first + c0, stop), chain, dh_top, work=work)
        grads.update({"V": dV, "c": dc})
        self.history = history
        self.position = stop
        state = {k: v.copy() for k, v in self.state0().items()}
        return Update(loss=float(loss), grads={k: grads[k] for k in p}, state=state, start=start, stop=stop)

    def _inputs(self, lo, hi):
        return self.x[lo:hi]

    def state(self) -> dict:
        """Arrays that, with ``restore``, resume the walk exactly: the position, and for each
        layer its states' history ("hs", "ss"; "hs_l1" for layer 1) and what the cell keeps
        ("a"; "gates", "tanh_s"; ...)."""
        out = {"position": np.array(self.position)}
        for layer, lt in enumerate(self.history):
            out.update({f"{s}s{suffix(layer)}": v for s, v in lt.states.items()})
            out.update({f"{k}{suffix(layer)}": v for k, v in lt.keeps.items()})
        return out

    def state_keys(self) -> set:
        """The names in ``state()`` of the states' histories (n+1 rows; the keeps have n)."""
        return {f"{s}s{suffix(layer)}" for layer in range(self.model.layers) for s in self.model.cell.states}

    def restore(self, state: dict) -> None:
        dt, cell = self.model.dtype, self.model.cell
        self.position = int(state["position"])
        self.history = [LayerTrace({s: np.array(state[f"{s}s{suffix(layer)}"], dtype=dt) for s in cell.states},
                                   {k: np.array(state[f"{k}{suffix(layer)}"], dtype=dt) for k, _ in cell.keeps})
                        for layer in range(self.model.layers)]


def truncated_bptt(model, x, y, k1, k2=None, h0=None, s0=None):
    """Yield one Update per k1 steps of the stream x, y (T_total, B), BPTT(k2; k1).

    The last window is shorter when T_total is not a multiple of k1. Nothing is applied to
    the model: the caller updates the parameters, and the next window's forward sees them.
    Each Update owns its arrays, so ``list(truncated_bptt(...))`` holds valid results.
    """
    walk = TruncatedBPTT(model, x, y, k1, k2, h0, s0)
    while (update := walk.next_update()) is not None:
        yield update
