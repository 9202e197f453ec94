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

from . import _validate as check
from .dense import dense_backward, dense_forward
from .losses import LOSSES, OUTPUTS
from .network import Backward
from .unroll import backward_through_time, forward_through_time


def segment_length(T, B, H, O, itemsize, memory_budget=None) -> int:
    """sqrt(T) by default; with a budget (bytes), the k that minimises stored + live memory
    (T/k checkpoints of B H, plus one segment's a, h, errors and outputs, ~k B (4 H + 3 O))
    among those that fit, or a clear error if none does."""
    if memory_budget is None:
        return max(1, math.isqrt(T - 1) + 1)
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, (int, float)) \
            or not math.isfinite(memory_budget) or memory_budget <= 0:
        raise ValueError(f"memory_budget: expected a positive number of bytes, got {memory_budget!r}")
    per_state = B * H * itemsize
    per_step = B * (4 * H + 3 * O) * itemsize

    def cost(k):
        return math.ceil(T / k) * per_state + k * per_step

    # cost(k) ~ T/k per_state + k per_step is least near sqrt(T per_state / per_step)
    centre = int(math.sqrt(T * per_state / per_step))
    best = min((min(T, max(1, centre + d)) for d in range(-2, 3)), key=cost)
    if cost(best) > memory_budget:
        raise ValueError(f"memory_budget: expected at least {cost(best):,} bytes for T={T}, B={B}, H={H}, "
                         f"got {memory_budget:,}")
    return best


def low_memory_gradients(model, x, y, h0=None, mask=None, *, segment=None, memory_budget=None) -> Backward:
    """Loss, gradients and dL/dh0 of full BPTT over x (T, B[, I]), storing every ``segment``-th state.

    segment: steps per segment (default sqrt(T), or chosen to fit ``memory_budget`` bytes).
    Returns a Backward whose ``errors`` and ``per_step`` are None and ``losses`` is (T, B):
    keeping every step's errors is what this path avoids.
    """
    p = model.params
    x = check.inputs(x, model.n_in, model.dtype)
    T, B = x.shape[:2]
    h0 = check.state("h0", h0, B, model.n_hidden, model.dtype)
    y = check.targets(y, model.output, T, B, model.n_out, model.dtype)
    mask = check.mask(mask, T, B, model.dtype)
    itemsize = np.dtype(model.dtype).itemsize
    k = (check.positive_int("segment", segment) if segment is not None
         else segment_length(T, B, model.n_hidden, model.n_out, itemsize, memory_budget))
    starts = list(range(0, T, k))
    # Forward: keep only each segment's incoming state.
    states = np.empty((len(starts), B, model.n_hidden), dtype=model.dtype)   # (T/k, B, H)
    h = h0
    for i, s in enumerate(starts):
        states[i] = h
        _, hs = forward_through_time(model.cell, model.project_inputs(x[s:s + k]), h, p["W"])
        h = hs[-1].copy()
        del hs
    # Backward, segment by segment in reverse, recomputing each segment's forward.
    grads = {name: np.zeros_like(v) for name, v in p.items()}
    losses = np.empty((T, B), dtype=model.dtype)
    total = 0.0
    carry = None
    for i in reversed(range(len(starts))):
        s = starts[i]
        e = min(s + k, T)
        seg_x = x[s:e]
        _, hs = forward_through_time(model.cell, model.project_inputs(seg_x), states[i], p["W"])
        o = dense_forward(hs[1:], p["V"], p["c"])                                # (k, B, O)
        seg_mask = None if mask is None else mask[s:e]
        loss, do, l = LOSSES[model.output](o, OUTPUTS[model.output](o), y[s:e], seg_mask)
        total += loss
        losses[s:e] = l
        dh_out, dV, dc = dense_backward(do, hs[1:], p["V"])
        _, da, carry = backward_through_time(model.cell, dh_out, hs, p["W"], carry)
        dU, dW, db = model.input_grads(seg_x, da, hs[:-1])
        for name, g in (("U", dU), ("W", dW), ("b", db), ("V", dV), ("c", dc)):
            grads[name] += g
    return Backward(loss=float(total), losses=losses, grads=grads, dh0=carry, errors=None, per_step=None)
