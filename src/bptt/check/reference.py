"""The reference a learner's functions are compared with, in the book's convention.

Row-vector batches: x_t (B, I), h (B, H); U (G*H, I), W (G*H, H), b (G*H,), G = 1 for the
simple RNN and 4 for the LSTM (gate order i, f, g, o, as PyTorch). Sequences are time-major:
x (T, B, I), h (T, B, H), hs (T+1, B, H) with hs[0] = h0.

The simple RNN's reference is bptt's own code: the cell's step pair (``cells.RNNCell``) and the
unfolded loop (``unroll.forward_through_time`` / ``backward_through_time``), whose errors and
per-step contributions are the ones ``SimpleRNN.backward`` returns. The LSTM's is a small step
pair written here (tested against ``torch.nn.LSTMCell``), until the library has its own LSTM cell.

Shape legend: T time, B batch, I inputs, H hidden, O outputs.
"""

from __future__ import annotations

import numpy as np

from ..cells import RNNCell
from ..dense import dense_forward
from ..unroll import Weights, backward_through_time, forward_through_time

CELL = RNNCell("tanh")


# ------------------------------------------------------------------------ the simple RNN
def _unrolled(x, h0, U, W, b):
    P = Weights.of(CELL, W)
    states, keeps = forward_through_time(CELL, P, dense_forward(x, U, b), {"h": h0})
    return P, states, keeps


def rnn_step_forward(x_t, h_prev, U, W, b):
    """h(t) = tanh(b + W h(t-1) + U x(t)): x_t (B, I), h_prev (B, H) -> h (B, H)."""
    return _unrolled(x_t[None], h_prev, U, W, b)[1]["h"][1]


def rnn_step_backward(dh, x_t, h_prev, h, U, W, b):
    """dL/dh(t) (B, H) -> dict of dx, dh_prev, dU, dW, db, da for one step."""
    r = rnn_backward(dh[None], x_t[None], np.stack([h_prev, h]), U, W, b)
    return {"da": r["da"][0], "dx": r["dx"][0], "dh_prev": r["dh0"], "dU": r["dU"], "dW": r["dW"], "db": r["db"]}


def rnn_forward(x, h0, U, W, b):
    """x (T, B, I), h0 (B, H) -> hs (T+1, B, H) with hs[0] = h0."""
    return _unrolled(x, h0, U, W, b)[1]["h"]


def rnn_backward(dh_out, x, hs, U, W, b):
    """dh_out (T, B, H): what each step's own output sends back (V^T dL/do(t)).

    Returns every step's errors dh, da (T, B, H), dx (T, B, I), dh0 (B, H), the gradients
    dU, dW, db and their per-step contributions dU_t (T, H, I), dW_t (T, H, H), db_t (T, H).
    """
    P, states, keeps = _unrolled(x, hs[0], U, W, b)
    dstates, errors, carry = backward_through_time(CELL, P, dh_out, states, keeps)
    dh, da, dh0 = dstates["h"], errors["a"], carry["h"]
    dU_t = np.einsum("tbh,tbi->thi", da, x)
    dW_t = np.einsum("tbh,tbk->thk", da, hs[:-1])
    db_t = da.sum(axis=1)
    return {"dh": dh, "da": da, "dx": da @ U, "dh0": dh0, "dU": dU_t.sum(0), "dW": dW_t.sum(0),
            "db": db_t.sum(0), "dU_t": dU_t, "dW_t": dW_t, "db_t": db_t}


# ------------------------------------------------------------------------------ the LSTM
def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))            # no overflow for large |z|


def lstm_step_forward(x_t, h_prev, s_prev, U, W, b):
    """One LSTM step. x_t (B, I), h_prev, s_prev (B, H); U (4H, I), W (4H, H), b (4H,).

        z = b + W h(t-1) + U x(t);  i, f, o = sigmoid(z_i, z_f, z_o);  g = tanh(z_g)
        s(t) = f * s(t-1) + i * g;  h(t) = o * tanh(s(t))
    Returns h, s (B, H) and the gates {"i", "f", "g", "o"} (B, H) each.
    """
    H = h_prev.shape[1]
    z = x_t @ U.T + h_prev @ W.T + b                                  # (B, 4H)
    i, f, o = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H]), sigmoid(z[:, 3 * H:])
    g = np.tanh(z[:, 2 * H:3 * H])
    s = f * s_prev + i * g
    h = o * np.tanh(s)
    return h, s, {"i": i, "f": f, "g": g, "o": o}


def lstm_step_backward(dh, ds, x_t, h_prev, s_prev, s, gates, U, W, carry_f=True):
    """dL/dh(t), the error dL/ds(t) sent back from step t+1 (B, H) -> dict of this step's errors.

    The cell state's error adds the path through h(t) to what step t+1 sends back:
        dL/ds(t) = dL/dh(t) o (1 - tanh^2 s(t)) + f(t+1) dL/ds(t+1)
    ``ds`` here is the second term already (f(t+1) dL/ds(t+1)); ds_prev is f(t) dL/ds(t).
    ``carry_f=False`` gives the classic mistake of sending dL/ds(t) back without the f factor.
    """
    i, f, g, o = gates["i"], gates["f"], gates["g"], gates["o"]
    tanh_s = np.tanh(s)
    ds_total = ds + dh * o * (1 - tanh_s ** 2)                        # (B, H)
    dz = np.concatenate([ds_total * g * i * (1 - i),                   # i
                         ds_total * s_prev * f * (1 - f),              # f
                         ds_total * i * (1 - g ** 2),                  # g
                         dh * tanh_s * o * (1 - o)], axis=1)           # o   (B, 4H)
    return {"dz": dz, "ds": ds_total, "dx": dz @ U, "dh_prev": dz @ W,
            "ds_prev": ds_total * f if carry_f else ds_total,
            "dU": dz.T @ x_t, "dW": dz.T @ h_prev, "db": dz.sum(axis=0)}


def lstm_forward(x, h0, s0, U, W, b):
    """x (T, B, I) -> hs, ss (T+1, B, H) and the gates of every step (list of dicts)."""
    T = x.shape[0]
    hs = np.empty((T + 1, *h0.shape)); ss = np.empty_like(hs)
    hs[0], ss[0] = h0, s0
    gates = []
    for t in range(T):
        hs[t + 1], ss[t + 1], gt = lstm_step_forward(x[t], hs[t], ss[t], U, W, b)
        gates.append(gt)
    return hs, ss, gates


def lstm_backward(dh_out, x, hs, ss, gates, U, W, carry_s=True):
    """dh_out (T, B, H) -> every step's dh, ds, dz, dx and dh0, ds0, dU, dW, db (+ per step).

    ``carry_s=False``: the cell-state error is not carried from step to step (a mistake).
    """
    T, B, H = dh_out.shape
    dh, ds = np.empty_like(dh_out), np.empty_like(dh_out)
    dz = np.empty((T, B, 4 * H)); dx = np.empty(x.shape)
    dU_t = np.empty((T, *U.shape)); dW_t = np.empty((T, *W.shape)); db_t = np.empty((T, 4 * H))
    dh_next, ds_next = np.zeros((B, H)), np.zeros((B, H))
    for t in reversed(range(T)):
        dh[t] = dh_out[t] + dh_next
        r = lstm_step_backward(dh[t], ds_next if carry_s else 0 * ds_next, x[t], hs[t], ss[t],
                               ss[t + 1], gates[t], U, W)
        ds[t], dz[t], dx[t] = r["ds"], r["dz"], r["dx"]
        dU_t[t], dW_t[t], db_t[t] = r["dU"], r["dW"], r["db"]
        dh_next, ds_next = r["dh_prev"], r["ds_prev"]
    return {"dh": dh, "ds": ds, "dz": dz, "dx": dx, "dh0": dh_next, "ds0": ds_next,
            "dU": dU_t.sum(0), "dW": dW_t.sum(0), "db": db_t.sum(0),
            "dU_t": dU_t, "dW_t": dW_t, "db_t": db_t}


# ------------------------------------------------------------------- dense layer and loss
def softmax(o):
    z = np.exp(o - o.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)
