"""The unfolded network: the loop over time, forward and backward, for any cell.

Only this middle stage is sequential. Before it, the input projection b + U x(t) is done for
all T at once; after it, the readout o(t) = c + V h(t) for all T at once (``dense.py``).

Shape legend: T time, B batch, H hidden.
"""

from __future__ import annotations

import numpy as np


def forward_through_time(cell, xu, h0, W, out=None):
    """Run the recurrence over every step and keep every step's values.

    xu (T, B, H): b + U x(t) for all t;  h0 (B, H).
    Returns a (T, B, H) and hs (T+1, B, H), where hs[0] = h0 and hs[t+1] = h(t+1)
    (the book counts steps from 1; arrays count from 0). ``out``: (a, hs) buffers to reuse.
    """
    T, B, H = xu.shape
    if out is None:
        out = np.empty_like(xu), np.empty((T + 1, B, H), dtype=xu.dtype)
    a, hs = out                                       # (T, B, H), (T+1, B, H)
    hs[0] = h0
    W_T = np.ascontiguousarray(W.T)                   # (H, H)
    for t in range(T):
        cell.step_forward(xu[t], hs[t], W_T, a[t], hs[t + 1])
    return a, hs


def backward_through_time(cell, dh_out, hs, W, carry=None, out=None):
    """Walk the steps in reverse, keeping only the recurrent chain.

    dh_out (T, B, H): what each step's own output sends back, V^T dL/do(t).
    The error at h(t) adds what step t+1 sends back through W       (book eq. 10.21):
        dL/dh(t) = V^T dL/do(t) + W^T dL/da(t+1)
    ``carry`` (B, H): what later steps, outside this stretch, send back into its last state
    (zero by default: the stretch ends the sequence). Segments of one long sequence chain
    their backward passes through it.
    ``out``: (dh, da) buffers to reuse.
    Returns dh (T, B, H), da (T, B, H) and W^T dL/da(0), the error sent to h0 (B, H).
    """
    T, B, H = dh_out.shape
    if out is None:
        out = np.empty_like(dh_out), np.empty_like(dh_out)
    dh, da = out                                      # (T, B, H) each
    cell.derivative(hs[1:], out=da)                   # f'(a(t)) for every t; step t overwrites it with dL/da(t)
    if carry is None:
        carry = np.zeros((B, H), dtype=dh_out.dtype)  # W^T dL/da(t+1)
    else:
        carry = np.array(carry, dtype=dh_out.dtype)   # a copy: the loop writes into it
    for t in reversed(range(T)):
        np.add(dh_out[t], carry, out=dh[t])
        cell.step_backward(dh[t], da[t], W, da[t], carry)
    return dh, da, carry

