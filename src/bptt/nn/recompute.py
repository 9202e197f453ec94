"""Full BPTT over very long sequences in little memory: store every k-th state, recompute.

Plain BPTT keeps a(t), h(t) (and the errors) for all T steps: memory grows with T. Here the
forward pass keeps only the state at the start of each segment of k steps (T/k states of
B x H); the backward pass walks the segments in reverse, recomputes one segment's forward
from its stored state, back-propagates through it, and hands the recurrent error on to the
previous segment. With k = sqrt(T) (Chen et al. 2016) memory is O(sqrt(T) B H) for about one
extra forward pass; ``memory_budget`` picks k to fit a byte budget instead.

The gradients are the plain path's, summed in another order (float64: equal to ~1e-15).
Shape legend: T time, B batch, H hidden, O outputs.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _validate as check
from .cells import RNNCell
from .network import Backward
from .stages import backward_layers, forward_layers, last_states, readout, readout_backward, readout_loss, stack_states


def local_width(cell) -> int:
    """How many H-wide arrays per step ``cell.backward_locals`` allocates (views of what the
    forward kept cost nothing): read off one call on a single step, whatever the cell."""
    H, dt = 2, np.float64
    states = {n: np.zeros((2, 1, H), dt) for n in cell.states}                     # (T+1, B, H), T = 1
    keeps = {n: np.zeros((1, 1, w * H), dt) for n, w in cell.keeps}
    errors = {n: np.zeros((1, 1, cell.gates * H), dt) for n in cell.errors}
    given = [*states.values(), *keeps.values(), *errors.values()]
    made = [a for a in cell.backward_locals(states, keeps, errors)
            if not any(np.shares_memory(a, g) for g in given)]
    return -(-sum(a.size for a in made) // H)


def step_bytes(cell, layers, B, H, O, itemsize) -> tuple[int, int]:
    """(bytes stored per segment start, bytes live per step of the segment being back-propagated).

    A segment start keeps every layer's states (B, H). Per step of the live segment, each layer
    holds its forward trace (b + U x(t), the states, what the cell keeps) and, once
    back-propagated, its errors (one per state, the cell's G-wide ones) and what it sends down;
    the layer being back-propagated adds its ``backward_locals`` and about one G-wide array of
    temporaries (the derivatives' and the products' intermediates: measured, not derived, by
    ``tests/nn/test_recompute.py``, which holds the walk to its budget with tracemalloc); the
    readout holds o, yhat, dL/do (O each) and what it sends to h (H).
    """
    S, G = len(cell.states), cell.gates
    K = sum(w for _, w in cell.keeps)
    E = len(cell.errors) * G
    per_layer = G + S + K + S + E + 1
    stored = layers * S * B * H * itemsize
    live = (B * H * (layers * (per_layer + G) + local_width(cell) + 1) + 3 * B * O) * itemsize
    return stored, live


def segment_length(T, B, H, O, itemsize, memory_budget=None, cell=None, layers=1) -> int:
    """sqrt(T) by default; with a budget (bytes), the k that minimises stored + live memory
    (T/k segment starts, plus one segment of k live steps: ``step_bytes``) among those that fit,
    or a clear error if none does. Without ``cell``, a simple RNN's accounting. The gradients
    themselves (the parameters' size) and the (T, B) per-step losses are not in the budget."""
    if memory_budget is None:
        return max(1, math.isqrt(T - 1) + 1)
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, (int, float)) \
            or not math.isfinite(memory_budget) or memory_budget <= 0:
        raise ValueError(f"memory_budget: expected a positive number of bytes, got {memory_budget!r}")
    cell = RNNCell() if cell is None else cell
    per_state, per_step = step_bytes(cell, layers, B, H, O, itemsize)

    def cost(k):
        return math.ceil(T / k) * per_state + k * per_step

    # cost(k) ~ T/k per_state + k per_step is least near sqrt(T per_state / per_step)
    centre = int(math.sqrt(T * per_state / per_step))
    best = min((min(T, max(1, centre + d)) for d in range(-2, 3)), key=cost)
    if cost(best) > memory_budget:
        raise ValueError(f"memory_budget: expected at least {cost(best):,} bytes for T={T}, B={B}, H={H}, "
                         f"{layers} layer(s) of {cell.name}, got {memory_budget:,}")
    return best


def low_memory_gradients(model, x, y, h0=None, mask=None, *, s0=None, segment=None,
                         memory_budget=None) -> Backward:
    """Loss, gradients and dL/dh0 (dL/ds0) of full BPTT over x (T, B[, I]), storing every ``segment``-th state.

    segment: steps per segment (default sqrt(T), or chosen to fit ``memory_budget`` bytes).
    Returns a Backward whose ``errors`` and ``per_step`` are None and ``losses`` is (T, B):
    keeping every step's errors is what this path avoids.
    """
    cell = model.cell
    x = check.inputs(x, model.n_in, model.dtype)
    T, B = x.shape[:2]
    state = model.initial_states(B, h0=h0, s0=s0)                       # [{name: (B, H)}] per layer
    mask = check.mask(mask, T, B, model.dtype)
    y = check.targets(y, model.output, T, B, model.n_out, model.dtype, mask)
    itemsize = np.dtype(model.dtype).itemsize
    k = (check.positive_int("segment", segment) if segment is not None
         else segment_length(T, B, model.n_hidden, model.n_out, itemsize, memory_budget, cell, model.layers))
    starts = list(range(0, T, k))
    # Forward: keep only each segment's incoming states.
    stored = []
    for s in starts:
        stored.append(state)
        state = last_states(forward_layers(model, x[s:s + k], state))
    # Backward, segment by segment in reverse, recomputing each segment's forward.
    grads = {name: np.zeros_like(v) for name, v in model.params.items()}
    losses = np.empty((T, B), dtype=model.dtype)
    total = 0.0
    carry = None
    for i in reversed(range(len(starts))):
        s = starts[i]
        e = min(s + k, T)
        seg_x = x[s:e]
        layers = forward_layers(model, seg_x, stored[i])
        h = layers[-1].states["h"][1:]                                          # (k, B, H)
        o, yhat = readout(model, h)                                             # (k, B, O)
        loss, do, l = readout_loss(model, o, yhat, y[s:e], None if mask is None else mask[s:e])
        total += loss
        losses[s:e] = l
        dh_out, dV, dc = readout_backward(model, do, h)
        seg_grads, _, carry = backward_layers(model, seg_x, layers, dh_out, carry)
        seg_grads.update({"V": dV, "c": dc})
        for name, g in seg_grads.items():
            grads[name] += g
        # Let go of this segment before the next one is recomputed: two live at once would
        # double what the budget allows for.
        del layers, h, o, yhat, do, l, dh_out, seg_grads
    d0 = stack_states(carry)
    return Backward(loss=float(total), losses=losses, grads=grads, dh0=d0["h0"], ds0=d0.get("s0"),
                    errors=None, per_step=None)
