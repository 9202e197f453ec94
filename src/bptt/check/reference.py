"""The reference a learner's functions are compared with, in the book's convention.

Row-vector batches: x_t (B, I), h (B, H); U (G*H, I), W (G*H, H), b (G*H,), G = 1 for the
simple RNN and 4 for the LSTM (gate order i, f, g, o, as PyTorch). Sequences are time-major:
x (T, B, I), h (T, B, H), hs (T+1, B, H) with hs[0] = h0.

The reference is bptt's own code: a layer's stages forward and backward (``stages.layer_forward``
/ ``layer_backward``, the cells' step pairs in the unfolded loop) and its per-step gradient
contributions (``stages.layer_grads_per_step``), the ones ``SimpleRNN.backward`` returns. The simple RNN's cell is
``cells.RNNCell``; the LSTM's is the library's
cell, ``cells.LSTMCell`` (gate order i, f, g, o), through the same loop (tested against
``torch.nn.LSTMCell`` in ``tests/check/test_check.py``).

Shape legend: T time, B batch, I inputs, H hidden, O outputs.
"""

from __future__ import annotations

import numpy as np

from ..nn.cells import LSTMCell, RNNCell
from ..nn.losses import softmax     # the readout's softmax, as the probes read it: ref.softmax
from ..nn.stages import layer_backward, layer_forward, layer_grads_per_step

CELL = RNNCell("tanh")
LSTM = LSTMCell()


# ------------------------------------------------------------- any cell, through the library
def _unrolled(cell, x, state0, U, W, b):
    """The library's forward over x (T, B, I) from state0 {name: (B, H)}: a LayerTrace."""
    return layer_forward(cell, {"U": U, "W": W, "b": b}, x, state0)


def _backward(cell, dh_out, x, state0, U, W, b, carry=None):
    """The library's reverse walk: errors at every state, dL/da (T, B, G*H), what reaches state0,
    the gradients and each step's contribution to them."""
    lp = {"U": U, "W": W, "b": b}
    lt = layer_forward(cell, lp, x, state0)
    grads, errors, carry0, dx = layer_backward(cell, lp, x, lt, dh_out, carry, send_down=True)
    steps = layer_grads_per_step(cell, lp, x, lt, errors, U.shape[1])
    return {"dstates": {n: errors[n] for n in cell.states}, "da": errors["a"], "dx": dx, "carry0": carry0,
            "dU": grads["U"], "dW": grads["W"], "db": grads["b"],
            "dU_t": steps["U"], "dW_t": steps["W"], "db_t": steps["b"]}


# ------------------------------------------------------------------------ the simple RNN
def rnn_step_forward(x_t, h_prev, U, W, b):
    """h(t) = tanh(b + W h(t-1) + U x(t)): x_t (B, I), h_prev (B, H) -> h (B, H)."""
    return _unrolled(CELL, x_t[None], {"h": h_prev}, U, W, b).states["h"][1]


def rnn_step_backward(dh, x_t, h_prev, h, U, W, b):
    """dL/dh(t) (B, H) -> dict of dx, dh_prev, dU, dW, db, da for one step."""
    r = rnn_backward(dh[None], x_t[None], np.stack([h_prev, h]), U, W, b)
    return {"da": r["da"][0], "dx": r["dx"][0], "dh_prev": r["dh0"], "dU": r["dU"], "dW": r["dW"], "db": r["db"]}


def rnn_forward(x, h0, U, W, b):
    """x (T, B, I), h0 (B, H) -> hs (T+1, B, H) with hs[0] = h0."""
    return _unrolled(CELL, x, {"h": h0}, U, W, b).states["h"]


def rnn_backward(dh_out, x, hs, U, W, b):
    """dh_out (T, B, H): what each step's own output sends back (V^T dL/do(t)).

    Returns every step's errors dh, da (T, B, H), dx (T, B, I), dh0 (B, H), the gradients
    dU, dW, db and their per-step contributions dU_t (T, H, I), dW_t (T, H, H), db_t (T, H).
    """
    r = _backward(CELL, dh_out, x, {"h": hs[0]}, U, W, b)
    return {"dh": r["dstates"]["h"], "dh0": r["carry0"]["h"], **r}


# ------------------------------------------------------------------------------ the LSTM
def lstm_step_forward(x_t, h_prev, s_prev, U, W, b):
    """One LSTM step (bptt's LSTMCell). x_t (B, I), h_prev, s_prev (B, H); U (4H, I), W (4H, H), b (4H,).

        z = b + W h(t-1) + U x(t);  i, f, o = sigmoid(z_i, z_f, z_o);  g = tanh(z_g)
        s(t) = f * s(t-1) + i * g;  h(t) = o * tanh(s(t))
    Returns h, s (B, H) and the gates {"i", "f", "g", "o"} (B, H) each.
    """
    lt = _unrolled(LSTM, x_t[None], {"h": h_prev, "s": s_prev}, U, W, b)
    gates = dict(zip("ifgo", np.split(lt.keeps["gates"][0], 4, axis=-1)))
    return lt.states["h"][1], lt.states["s"][1], gates


def lstm_step_backward(dh, ds, x_t, h_prev, s_prev, U, W, b, carry_f=True):
    """dL/dh(t), the error f(t+1) dL/ds(t+1) that step t+1 sends along the cell state (B, H)
    -> dict of this step's errors and gradients.

        dL/ds(t) = dL/dh(t) o (1 - tanh^2 s(t)) + f(t+1) dL/ds(t+1);  ds_prev = f(t) dL/ds(t)
    ``carry_f=False`` gives the classic mistake of sending dL/ds(t) back without the f factor.
    """
    r = _backward(LSTM, dh[None], x_t[None], {"h": h_prev, "s": s_prev}, U, W, b,
                  carry={"h": np.zeros_like(dh), "s": ds})
    ds_total = r["dstates"]["s"][0]
    return {"dz": r["da"][0], "ds": ds_total, "dx": r["dx"][0], "dh_prev": r["carry0"]["h"],
            "ds_prev": r["carry0"]["s"] if carry_f else ds_total, "dU": r["dU"], "dW": r["dW"], "db": r["db"]}


def lstm_forward(x, h0, s0, U, W, b):
    """x (T, B, I) -> hs, ss (T+1, B, H) and the gates of every step (list of dicts)."""
    lt = _unrolled(LSTM, x, {"h": h0, "s": s0}, U, W, b)
    gates = [dict(zip("ifgo", np.split(g, 4, axis=-1))) for g in lt.keeps["gates"]]
    return lt.states["h"], lt.states["s"], gates


def lstm_backward(dh_out, x, h0, s0, U, W, b, carry_s=True):
    """dh_out (T, B, H) -> every step's dh, ds, dz, dx and dh0, ds0, dU, dW, db (+ per step).

    ``carry_s=False``: the cell-state error is not carried from step to step (a mistake), so
    the steps are walked one at a time here with nothing sent along s.
    """
    if carry_s:
        r = _backward(LSTM, dh_out, x, {"h": h0, "s": s0}, U, W, b)
        return {"dh": r["dstates"]["h"], "ds": r["dstates"]["s"], "dz": r["da"], "dh0": r["carry0"]["h"],
                "ds0": r["carry0"]["s"], **r}
    hs, ss, _ = lstm_forward(x, h0, s0, U, W, b)
    T, B, H = dh_out.shape
    dx = np.empty(x.shape)
    dh_next = np.zeros((B, H))
    for t in reversed(range(T)):
        r = lstm_step_backward(dh_out[t] + dh_next, np.zeros((B, H)), x[t], hs[t], ss[t], U, W, b)
        dx[t], dh_next = r["dx"], r["dh_prev"]
    return {"dx": dx, "dh0": dh_next}


# ------------------------------------------------------------------- truncated BPTT
def rnn_truncated_backward(dh_out, x, hs, U, W, b, k):
    """The reverse walk in windows of k steps from the start, [0, k), [k, 2k), ...: nothing is sent
    back across a window's first step (truncated BPTT with k1 = k2 = k, the state carried forward).

    dh_out (T, B, H), hs (T+1, B, H) the forward's states -> dx (T, B, I), dU, dW, db summed over windows.
    """
    T = len(x)
    dx = np.empty(x.shape)
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros_like(b)
    for start in range(0, T, k):
        end = min(start + k, T)
        r = rnn_backward(dh_out[start:end], x[start:end], hs[start:end + 1], U, W, b)
        dx[start:end] = r["dx"]
        dU, dW, db = dU + r["dU"], dW + r["dW"], db + r["db"]
    return {"dx": dx, "dU": dU, "dW": dW, "db": db}
