"""The page's forward-mode view: dz(t)/dW[r, c] carried forward, beside BPTT's errors for that entry.

Real-time recurrent learning (``nn/rtrl.py``) carries the influence M(t) = dz(t)/dtheta forward,
M(t) = J(t) M(t-1) + I(t), and adds dL(t)/dz(t) M(t) at every step; BPTT adds, at every step of
its backward walk, dL/da(t)[r] h(t-1)[c]. Both sums are dL/dW[r, c]. For a few entries of W, the
view gets the column of M(t) for that entry (the state's sensitivity to it, step by step), each
step's forward term, and each step's backward term, all from the library's own RTRL and BPTT.

Shape legend: T time, H hidden, G gate blocks, Z = S*H the state's width (h, and the LSTM's s).
"""

from __future__ import annotations

import numpy as np

from ..nn.online import Layout, OnlineWalk
from ..nn.rtrl import ExactInfluence

ROWS_PER_GATE = 2          # the entries offered: W[g*H + r, c] for the first r, c of every gate block
COLS = 2


class _Watched:
    """Exact RTRL's influence, recording the columns of M(t) for ``cols`` and dL(t)/dz(t) M(t)[:, cols]."""

    def __init__(self, influence, cols):
        self.influence, self.cols = influence, cols
        self.columns, self.terms = [], []

    def step(self, step):
        self.influence.step(step)
        self.columns.append(self.influence.M[0][:, self.cols].copy())           # (Z, entries)

    def add_grads(self, dz, grads):
        self.influence.add_grads(dz, grads)
        self.terms.append(dz.reshape(-1) @ self.influence.M[0][:, self.cols])   # (entries,)


def forward_mode(model, x, y, per_step_W, shown) -> dict | None:
    """The view's numbers for one layer's model on one sequence (B = 1); None for a stack.

    x, y (T, 1); per_step_W (T, G*H, H): BPTT's per-step dL/dW; shown: the hidden units the page
    draws. Returns entries [[row, col]] (W's indices), and per entry: sens (T, S, shown) the
    sensitivity dz(t)/dW[row, col] of each shown unit's states, fwd (T,) dL(t)/dz(t) M(t) for the
    entry, bwd (T,) BPTT's per-step term, their running sums fwd_cum (from the start) and bwd_cum
    (from the end), and the gradient grad = fwd_sum = bwd_sum.
    """
    if model.layers != 1:
        return None
    H, G, S = model.n_hidden, model.cell.gates, len(model.cell.states)
    layout = Layout.of(model)
    entries = [[g * H + r, c] for g in range(G) for r in range(min(ROWS_PER_GATE, H)) for c in range(min(COLS, H))]
    cols = np.array([layout.offsets["W"] + r * H + c for r, c in entries])
    watched = _Watched(ExactInfluence(model, 1), cols)
    result = OnlineWalk(model, watched, 1).run(x, y)
    M = np.stack(watched.columns)                                                # (T, Z, entries)
    sens = M.reshape(len(x), S, H, len(entries))[:, :, shown]                    # (T, S, shown, entries)
    fwd = np.stack(watched.terms)                                                # (T, entries)
    bwd = np.stack([per_step_W[:, r, c] for r, c in entries], axis=-1)            # (T, entries)

    def f(a):
        return np.asarray(a, dtype=np.float64).tolist()

    return {"entries": entries, "states": list(model.cell.states),
            "sens": [f(sens[..., e]) for e in range(len(entries))],
            "fwd": f(fwd.T), "bwd": f(bwd.T),
            "grad": f([result.grads["W"][r, c] for r, c in entries]),
            "fwd_cum": f(np.cumsum(fwd, axis=0).T), "bwd_cum": f(np.cumsum(bwd[::-1], axis=0)[::-1].T),
            "fwd_sum": f(fwd.sum(axis=0)), "bwd_sum": f(bwd.sum(axis=0))}
