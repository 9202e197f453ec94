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
from .dropout import dropout_masks
from .stages import (LayerTrace, backward_layers, forward_layers, last_states, readout, readout_backward,
                     readout_loss, stack_states, suffix, upward)
from .unroll import Workspace


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
    arrays (``data.text.Streams`` over a long text), read and checked a window at a time.
    A walk on new data (a new epoch, a reset) is a new TruncatedBPTT.

    dropout: p, the probability of dropping each entry of what a layer sends up (``dropout.py``;
    0: off); the masks of stream step t come from ``default_rng([*dropout_key, t])``, so the
    older steps a chain covers get the masks their forward had, and a restored walk the masks
    the interrupted one would have drawn.
    """

    def __init__(self, model, x, y, k1, k2=None, h0=None, s0=None, *, lazy=False, dropout=0.0, dropout_key=(0,)):
        self.model = model
        self.dropout = check.number_in("dropout", dropout, 0, 1, lo_open=False)
        self.dropout_key = tuple(dropout_key)
        self.k1 = check.positive_int("k1", k1)
        self.k2 = self.k1 if k2 is None else check.positive_int("k2", k2)
        self.lazy = bool(lazy)
        if self.lazy:
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
        """The carried states as ``forward`` takes them: {"h0": ..., ("s0": ...)}, copies."""
        return stack_states(last_states(self.history))

    @property
    def h(self) -> np.ndarray:
        return self.state0()["h0"]

    def next_update(self) -> Update | None:
        model, k1, k2 = self.model, self.k1, self.k2
        T_total = self.x.shape[0]
        start = self.position
        stop = min(start + k1, T_total)
        if start >= stop:
            return None
        n, B, H, O, dt = stop - start, self.x.shape[1], model.n_hidden, model.n_out, model.dtype
        work = self.work
        keep = max(k1, k2)
        # Forward over the new steps only, from the carried states, layer by layer. With
        # k2 <= k1 the history is this update's own buffers, which the next update's forward
        # reads its initial states from (copied into row 0 before anything is overwritten).
        carried = [{s: old.states[s][-1] for s in model.cell.states} for old in self.history]
        masks = self._masks(start, stop)
        layers = forward_layers(model, self._inputs(start, stop), carried, work=work, dropout=masks)
        history = []
        for old, new in zip(self.history, layers):
            if n >= keep:                 # k2 <= k1: the new steps are all the history needed
                history.append(LayerTrace({s: v[-(keep + 1):] for s, v in new.states.items()},
                                          {k: v[-keep:] for k, v in new.keeps.items()}))
            else:
                history.append(LayerTrace(
                    {s: np.concatenate([old.states[s], v[1:]])[-(keep + 1):] for s, v in new.states.items()},
                    {k: np.concatenate([old.keeps[k], v])[-keep:] for k, v in new.keeps.items()}))
        span = history[0].states["h"].shape[0] - 1
        first = stop - span                                                 # stream index of the history's first step
        # Readout, softmax and loss over the update's steps at once (dL/do overwrites yhat).
        h_loss = upward(layers, -1, masks)                                  # (n, B, H)
        o, yhat = readout(model, h_loss, out=(work.get("o", (n, B, O), dt), work.get("yhat", (n, B, O), dt)))
        loss, do, _ = readout_loss(model, o, yhat, self._targets(start, stop), out=work.get("yhat", (n, B, O), dt))
        dh_loss, dV, dc = readout_backward(model, do, h_loss, out=work.get("dh_loss", (n, B, H), dt))  # (n, B, H)
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
        grads, _, _ = backward_layers(model, self._inputs(first + c0, stop), chain, dh_top, work=work,
                                      dropout=self._masks(first + c0, stop))
        grads.update({"V": dV, "c": dc})
        self.history = history
        self.position = stop
        return Update(loss=float(loss), grads={k: grads[k] for k in model.params}, state=self.state0(),
                      start=start, stop=stop)

    def _masks(self, lo, hi):
        """The dropout masks of stream steps [lo, hi), or None when dropout is off."""
        if not self.dropout:
            return None
        m = self.model
        return dropout_masks(self.dropout, self.dropout_key, lo, hi, m.layers, self.x.shape[1], m.n_hidden, m.dtype)

    def _inputs(self, lo, hi):
        """Steps [lo, hi) of x, checked here when the walk is lazy."""
        if self.lazy:
            return check.inputs(self.x[lo:hi], self.model.n_in, self.model.dtype)
        return self.x[lo:hi]

    def _targets(self, lo, hi):
        if self.lazy:
            m = self.model
            return check.targets(self.y[lo:hi], m.output, hi - lo, self.x.shape[1], m.n_out, m.dtype)
        return self.y[lo:hi]

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
