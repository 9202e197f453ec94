"""The unfolded recurrence: the loop over time, forward and backward, for any cell.

Only this middle stage is sequential. Before it, the input projection b + U x(t) is done for
all T at once; after it, the readout o(t) = c + V h(t) for all T at once (``stages.py``). The
cell (``cells/``) owns only its step pair; its contract is written in ``cells/__init__.py``.
``Weights`` is what a step reads, ``Workspace`` the arrays the loop and the stages around it
reuse from one training update to the next.

Shape legend: T time, B batch, H hidden, G gate blocks of the cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .. import _threads
from .cells._scratch import fresh


class Workspace:
    """Scratch arrays kept from one call to the next, by name.

    A training step makes a dozen (T, B, H) arrays; allocated afresh each time, their pages
    are faulted in by the kernel on every update. Reused, they cost nothing after the first.
    ``get`` is a ``scratch(name, shape, dtype)`` (see ``_scratch.fresh``, the default that keeps
    nothing); ``scratch(tag)`` is one whose names end in ``tag`` (a layer's number), so the
    layers of a stack keep their arrays apart.
    """

    def __init__(self):
        self._arrays = {}

    def get(self, name, shape, dtype):
        arr = self._arrays.get(name)
        if arr is None or arr.shape != tuple(shape) or arr.dtype != dtype:
            arr = self._arrays[name] = np.empty(shape, dtype=dtype)
        return arr

    def scratch(self, tag):
        def get(name, shape, dtype):
            return self.get(f"{name}{tag}", shape, dtype)
        return get


@dataclass(frozen=True)
class Weights:
    """One layer's recurrent weights as a step uses them: W (G*H, H), its transpose made
    C-contiguous once per loop (OpenBLAS multiplies it faster than the strided view W.T at
    these sizes), and the cell's extra parameters by name."""

    W: np.ndarray
    extra: dict

    @cached_property
    def W_T(self) -> np.ndarray:
        """Made on the forward loop's first step; backward, which multiplies by W, never pays for it."""
        return np.ascontiguousarray(self.W.T)

    @classmethod
    def of(cls, cell, W, params=None, suffix=""):
        extra = {k: params[k + suffix] for k in cell.extra_params(1)} if params is not None else {}
        return cls(W=W, extra=extra)


def forward_through_time(cell, P, xu, state0, out=None):
    """Run the recurrence over every step and keep every step's values.

    xu (T, B, G*H): b + U x(t) for all t;  state0: {name: (B, H)} for each of ``cell.states``.
    Returns states {name: (T+1, B, H)} (index 0 the initial state, t+1 the state after step t;
    the book counts steps from 1, arrays from 0) and keeps {name: (T, B, width*H)}.
    ``out``: (states, keeps) buffers to reuse.
    """
    T, B, GH = xu.shape
    H = GH // cell.gates
    if out is None:
        states = {n: np.empty((T + 1, B, H), dtype=xu.dtype) for n in cell.states}
        keeps = {n: np.empty((T, B, w * H), dtype=xu.dtype) for n, w in cell.keeps}
    else:
        states, keeps = out
    for n in cell.states:
        states[n][0] = state0[n]
    prev = [states[n][:-1] for n in cell.states]
    new = [states[n][1:] for n in cell.states]
    kept = [keeps[n] for n, _ in cell.keeps]
    step = cell.step_forward
    with _threads.for_steps(B, H, GH):               # small per-step products: one BLAS thread (_threads.py)
        for views in zip(xu, *prev, *new, *kept):    # one step's views of every buffer
            step(P, *views)
    return states, keeps


def backward_through_time(cell, P, dh_out, states, keeps, carry=None, out=None, scratch=None):
    """Walk the steps in reverse, keeping only the recurrent chain.

    dh_out (T, B, H): what each step's h(t) receives from outside the recurrence: V^T dL/do(t)
    from the readout, or the error sent down by the layer above. The error at h(t) adds what
    step t+1 sends back (book eq. 10.21):
        dL/dh(t) = V^T dL/do(t) + W^T dL/da(t+1)
    ``carry`` {name: (B, H)}: what later steps, outside this stretch, send back into its last
    states (zeros by default: the stretch ends the sequence). Segments of one long sequence
    chain their backward passes through it. ``out``: (dstates, errors) buffers to reuse;
    ``scratch(name, shape, dtype)``: where the cell's ``backward_locals`` takes its arrays
    (a ``Workspace``'s, so a training walk reuses them; fresh arrays by default).
    Returns dstates {name: (T, B, H)} (the total error at each state), errors {name: (T, B, G*H)}
    and the carry sent to the initial states {name: (B, H)}.
    """
    T, B, H = dh_out.shape
    GH = cell.gates * H
    if out is None:
        dstates = {n: np.empty((T, B, H), dtype=dh_out.dtype) for n in cell.states}
        errors = {n: np.empty((T, B, GH), dtype=dh_out.dtype) for n in cell.errors}
    else:
        dstates, errors = out
    local = cell.backward_locals(states, keeps, errors, scratch or fresh)   # (T, B, ...) each, for all t at once
    carried = [np.zeros((B, H), dtype=dh_out.dtype) if carry is None
               else np.array(carry[n], dtype=dh_out.dtype) for n in cell.states]   # written in place
    per_step = [dh_out, *(dstates[n] for n in cell.states), *local, *(errors[n] for n in cell.errors)]
    step = cell.step_backward
    with _threads.for_steps(B, H, GH):
        for views in zip(*(a[::-1] for a in per_step)):     # t = T-1, ..., 0
            step(P, *carried, *views)
    return dstates, errors, dict(zip(cell.states, carried))
