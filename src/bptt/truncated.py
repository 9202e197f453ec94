"""Truncated back-propagation through time: Williams & Peng's BPTT(h; h'), h = k2, h' = k1.

Full BPTT renews the parameters once per whole sequence. Truncated BPTT walks a long stream
and, every k1 steps, yields the loss of the last k1 steps and its gradient back-propagated
through at most k2 steps: the state h(t-k2) is held constant. With k2 > k1 the windows
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

from . import _validate as check
from .dense import dense_backward, dense_forward
from .losses import LOSSES, OUTPUTS
from .unroll import backward_through_time, forward_through_time


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
    h (B, H): the state after step stop - 1, to carry on; n_steps = stop - start.
    """

    loss: float
    grads: dict
    h: np.ndarray
    start: int
    stop: int

    @property
    def n_steps(self) -> int:
        return self.stop - self.start


class TruncatedBPTT:
    """The state of a walk along one stream: position, carried state, rolling history.

    ``next_update()`` returns the next Update, or None at the end of the stream. The state
    (``position``, ``history``) can be saved and restored, so a resumed walk is bit for bit
    the walk that was interrupted.
    """

    def __init__(self, model, x, y, k1, k2=None, h0=None):
        self.model = model
        self.k1 = check.positive_int("k1", k1)
        self.k2 = self.k1 if k2 is None else check.positive_int("k2", k2)
        self.x = check.inputs(x, model.n_in, model.dtype)                    # (T_total, B[, I])
        T_total, B = self.x.shape[:2]
        self.y = check.targets(y, model.output, T_total, B, model.n_out, model.dtype)
        h0 = check.state("h0", h0, B, model.n_hidden, model.dtype)
        self.position = 0
        # The last steps' values: hs (n+1, B, H) holds the state before each of the n steps.
        self.history = {"hs": h0[None].copy(), "a": np.empty((0, B, model.n_hidden), model.dtype)}
        self.work = Workspace()           # every update's scratch arrays, reused

    @property
    def h(self) -> np.ndarray:
        return self.history["hs"][-1]

    def next_update(self) -> Update | None:
        model, p, k1, k2 = self.model, self.model.params, self.k1, self.k2
        T_total = self.x.shape[0]
        start = self.position
        stop = min(start + k1, T_total)
        if start >= stop:
            return None
        n, B, H, O, dt = stop - start, self.x.shape[1], model.n_hidden, model.n_out, model.dtype
        work = self.work
        # Forward over the new steps only, from the carried state. With k2 <= k1 the history
        # is this update's own buffers, which the next update's forward reads h from (hs[-1],
        # copied into its hs[0] before anything is overwritten) and then reuses.
        xu = model.project_inputs(self.x[start:stop], out=work.get("xu", (n, B, H), dt))    # (n, B, H)
        a_new, hs_new = forward_through_time(model.cell, xu, self.h, p["W"],
                                             out=(work.get("a", (n, B, H), dt), work.get("hs", (n + 1, B, H), dt)))
        keep = max(k1, k2)
        if stop - start >= keep:          # k2 <= k1: the new steps are all the history needed
            hs, a = hs_new[-(keep + 1):], a_new[-keep:]
        else:
            hs = np.concatenate([self.history["hs"], hs_new[1:]])[-(keep + 1):]  # (span+1, B, H)
            a = np.concatenate([self.history["a"], a_new])[-keep:]              # (span, B, H)
        span = a.shape[0]
        first = stop - span                                                 # stream index of a[0]
        # Readout, softmax and loss over the update's steps at once.
        h_loss = hs_new[1:]                                                 # (n, B, H)
        o = dense_forward(h_loss, p["V"], p["c"], out=work.get("o", (n, B, O), dt))       # (n, B, O)
        yhat = OUTPUTS[model.output](o, out=work.get("yhat", (n, B, O), dt))
        loss, do, _ = LOSSES[model.output](o, yhat, self.y[start:stop], out=work.get("yhat", (n, B, O), dt))
        dh_loss, dV, dc = dense_backward(do, h_loss, p["V"], out=work.get("dh_loss", (n, B, H), dt))  # (n, B, H)
        # The recurrent chain covers the last min(k2, span) steps; h(stop - k2) is constant.
        depth = min(k2, span)
        n_in_chain = min(depth, n)
        if depth == n:                    # the chain is exactly the loss window (k1 = k2)
            dh_out = dh_loss
        else:
            dh_out = np.zeros((depth, B, H), dtype=dt)                      # (depth, B, H)
            dh_out[depth - n_in_chain:] = dh_loss[n - n_in_chain:]
        _, da, _ = backward_through_time(model.cell, dh_out, hs[span - depth:], p["W"],
                                         out=(work.get("dh", (depth, B, H), dt), work.get("da", (depth, B, H), dt)))
        c0 = span - depth
        dU, dW, db = model.input_grads(self._inputs(first + c0, stop), da, hs[c0:span])
        self.history = {"hs": hs, "a": a}
        self.position = stop
        return Update(loss=float(loss), grads={"U": dU, "W": dW, "b": db, "V": dV, "c": dc},
                      h=hs[-1].copy(), start=start, stop=stop)

    def _inputs(self, lo, hi):
        return self.x[lo:hi]

    def state(self) -> dict:
        """Arrays that, with ``restore``, resume the walk exactly."""
        return {"position": np.array(self.position), "hs": self.history["hs"], "a": self.history["a"]}

    def restore(self, state: dict) -> None:
        self.position = int(state["position"])
        self.history = {"hs": np.array(state["hs"], dtype=self.model.dtype),
                        "a": np.array(state["a"], dtype=self.model.dtype)}


def truncated_bptt(model, x, y, k1, k2=None, h0=None):
    """Yield one Update per k1 steps of the stream x, y (T_total, B), BPTT(k2; k1).

    The last window is shorter when T_total is not a multiple of k1. Nothing is applied to
    the model: the caller updates the parameters, and the next window's forward sees them.
    Each Update owns its arrays, so ``list(truncated_bptt(...))`` holds valid results.
    """
    walk = TruncatedBPTT(model, x, y, k1, k2, h0)
    while (update := walk.next_update()) is not None:
        yield update
