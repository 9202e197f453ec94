"""The simple RNN of Goodfellow et al., *Deep Learning*, ch. 10, unfolded in time.

    a(t) = b + W h(t-1) + U x(t)        (10.8)
    h(t) = f(a(t))                      (10.9, f = tanh in the book; relu and linear here too)
    o(t) = c + V h(t)                   (10.10)
    yhat(t) = softmax(o(t))             (10.11; or the identity, for squared error)
    L = sum_t L(t), averaged over the batch

Parameters U (H, I), W (H, H), b (H,), V (O, H), c (O,) are shared by every time step.
Errors dL/do(t), dL/dh(t), dL/da(t) depend on t; so do the per-step gradient contributions,
whose sum over t is the gradient that updates the parameters once.

Shape legend: T time, B batch, I inputs, H hidden, O outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate as check
from .activations import ACTIVATIONS
from .cells import RNNCell
from .dense import dense_backward, dense_backward_per_step, dense_forward
from .losses import LOSSES, OUTPUTS
from .unroll import backward_through_time, forward_through_time

PARAM_NAMES = ("U", "W", "b", "V", "c")


def scatter_rows(ids, rows, n):
    """out (n, H) with out[i] = sum of rows[j] over j where ids[j] == i.

    The one-hot product onehot(ids)^T rows. For a vocabulary of characters (n <= 256) that
    product, one BLAS call, is the fastest way; for larger n the one-hot matrix would cost
    n times the rows, so the ids are sorted and summed in segments (np.add.reduceat), still
    several times faster than np.add.at's scatter.
    """
    if n <= 256:
        onehot = (ids[:, None] == np.arange(n)).astype(rows.dtype)       # (N, n)
        return onehot.T @ rows
    out = np.zeros((n, rows.shape[1]), dtype=rows.dtype)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    out[sorted_ids[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out


@dataclass(frozen=True)
class Trace:
    """Everything forward propagation keeps, one entry per step (leading T axis).

    x: the validated input, int (T, B) or float (T, B, I);
    a, h (T, B, H); o, yhat (T, B, O); hs (T+1, B, H) = h0 followed by h.
    """

    x: np.ndarray
    a: np.ndarray
    hs: np.ndarray
    o: np.ndarray
    yhat: np.ndarray

    @property
    def h(self) -> np.ndarray:
        return self.hs[1:]

    @property
    def h0(self) -> np.ndarray:
        return self.hs[0]


@dataclass(frozen=True)
class Backward:
    """What back-propagation through time returns.

    loss: L (float); losses (T, B): each element's own l(t) (masked, not divided by B);
    grads: dict like ``params``, the sum over t of the per-step contributions;
    dh0 (B, H): dL/dh(0); errors: {"o": dL/do (T, B, O), "h": dL/dh (T, B, H), "a": dL/da (T, B, H)};
    per_step: dict like ``params`` with a leading T axis, or None unless asked for.
    """

    loss: float
    losses: np.ndarray
    grads: dict
    dh0: np.ndarray
    errors: dict
    per_step: dict | None = None


class SimpleRNN:
    """A one-layer simple RNN with a dense readout, forward and backward written by hand.

    Args:
        n_in: I, the number of input features, or the vocabulary size for token-id inputs.
        n_hidden: H, the number of hidden units.
        n_out: O, the number of outputs (classes for the softmax output).
        nonlinearity: "tanh" (the book's), "relu", or "linear" (the identity, which the
            vanishing-gradient theory uses).
        output: "softmax" (yhat = softmax(o), cross-entropy against int targets) or
            "identity" (yhat = o, squared error 1/2 ||o - y||^2 against float targets).
        seed: seed of the ``numpy.random.Generator`` that draws the initial weights.
        dtype: float64 (default, for checking) or float32 (for speed); every array the model
            makes has this dtype.

    Initialisation follows PyTorch's nn.RNN and nn.Linear: every entry of U, W, b, V, c is
    drawn from uniform(-1/sqrt(H), 1/sqrt(H)) (in float64, then cast, so float32 and float64
    models with one seed hold the same weights up to rounding).

    Example:
        >>> model = SimpleRNN(5, 8, 5, seed=0)
        >>> x = np.array([[0, 1], [2, 3], [4, 0]])          # token ids (T=3, B=2)
        >>> result = model.backward(model.forward(x), y=np.roll(x, -1, axis=0))
        >>> sorted(result.grads) == sorted(model.params)
        True
    """

    def __init__(self, n_in, n_hidden, n_out, *, nonlinearity="tanh", output="softmax",
                 seed=None, dtype=np.float64):
        self.n_in = check.positive_int("n_in", n_in)
        self.n_hidden = check.positive_int("n_hidden", n_hidden)
        self.n_out = check.positive_int("n_out", n_out)
        self.nonlinearity = check.choice("nonlinearity", nonlinearity, tuple(ACTIVATIONS))
        self.output = check.choice("output", output, tuple(OUTPUTS))
        self.dtype = check.float_dtype("dtype", dtype)
        self.cell = RNNCell(self.nonlinearity)
        I, H, O = self.n_in, self.n_hidden, self.n_out
        rng = np.random.default_rng(seed)
        k = 1.0 / np.sqrt(H)
        shapes = {"U": (H, I), "W": (H, H), "b": (H,), "V": (O, H), "c": (O,)}
        self.params = {name: rng.uniform(-k, k, shapes[name]).astype(self.dtype)
                       for name in PARAM_NAMES}

    def __repr__(self):
        return (f"SimpleRNN(n_in={self.n_in}, n_hidden={self.n_hidden}, n_out={self.n_out}, "
                f"nonlinearity={self.nonlinearity!r}, output={self.output!r}, dtype={self.dtype.name})")

    # ----------------------------------------------------------------------------- forward
    def forward(self, x, h0=None) -> Trace:
        """Unfold the network over the T steps of x and keep every step's values.

        x: token ids, int (T, B) (x(t) is one-hot, so U x(t) is a gather of U's columns),
           or real vectors, float (T, B, I).  h0: optional initial state (B, H), zeros if None.
        """
        p = self.params
        x = check.inputs(x, self.n_in, self.dtype)
        h0 = check.state("h0", h0, x.shape[1], self.n_hidden, self.dtype)
        # Stage 1, over all T at once: b + U x(t).
        xu = self.project_inputs(x)                                  # (T, B, H)
        # Stage 2, the only sequential part: the recurrence.
        a, hs = forward_through_time(self.cell, xu, h0, p["W"])      # (T, B, H), (T+1, B, H)
        # Stage 3, over all T at once: the readout, a dense layer.
        o = dense_forward(hs[1:], p["V"], p["c"])                    # (T, B, O)
        yhat = OUTPUTS[self.output](o)                               # (T, B, O)
        return Trace(x=x, a=a, hs=hs, o=o, yhat=yhat)

    # ---------------------------------------------------------------------------- backward
    def backward(self, trace: Trace, y, mask=None, per_step=False) -> Backward:
        """Back-propagate through time: the loss, its gradients, and every step's errors.

        y: class ids int (T, B) for the softmax output, float (T, B, O) for the identity output.
        mask: optional (T, B), which steps carry a loss (e.g. only the last, many-to-one).
        per_step: also return each step's contribution to each gradient (leading T axis).
        """
        p = self.params
        T, B, _ = trace.o.shape
        y = check.targets(y, self.output, T, B, self.n_out, self.dtype)
        mask = check.mask(mask, T, B, self.dtype)
        loss, do, losses = LOSSES[self.output](trace.o, trace.yhat, y, mask)   # do (T, B, O)
        # Readout backward over all T: dV = sum_t dL/do(t) h(t)^T (10.24), dc (10.22).
        h, h_prev = trace.hs[1:], trace.hs[:-1]                      # (T, B, H) each
        dh_out, dV, dc = dense_backward(do, h, p["V"])               # (T, B, H), (O, H), (O,)
        # The reverse loop keeps only the recurrent chain (10.21).
        dh, da, dh0 = backward_through_time(self.cell, dh_out, trace.hs, p["W"])
        dU, dW, db = self.input_grads(trace.x, da, h_prev)
        grads = {"U": dU, "W": dW, "b": db, "V": dV, "c": dc}
        steps = None
        if per_step:
            steps = self._per_step(trace, do, da)
        errors = {"o": do, "h": dh, "a": da}
        return Backward(loss=float(loss), losses=losses, grads=grads, dh0=dh0,
                        errors=errors, per_step=steps)

    def project_inputs(self, x, out=None):
        """Stage 1: b + U x(t) for every step at once. x validated int (T, B) or float (T, B, I) -> (T, B, H)."""
        p = self.params
        if x.ndim == 2:  # one-hot x(t): U x(t) is column x(t) of U, a gather
            out = np.take(p["U"].T, x, axis=0, out=out)
            out += p["b"]
            return out
        return dense_forward(x, p["U"], p["b"], out=out)

    def input_grads(self, x, da, h_prev):
        """The input side over all steps at once, from the errors dL/da(t) (T, B, H):
        dU = sum_t dL/da(t) x(t)^T (10.28), dW = sum_t dL/da(t) h(t-1)^T (10.26), db (10.23)."""
        H = self.n_hidden
        da2 = da.reshape(-1, H)                                      # (T*B, H)
        dW = da2.T @ h_prev.reshape(-1, H)                           # (H, H)
        db = da2.sum(axis=0)                                         # (H,)
        if x.ndim == 2:
            dU = scatter_rows(x.ravel(), da2, self.n_in).T           # (H, I): column i sums dL/da(t) where x(t) = i
        else:
            dU = da2.T @ x.reshape(-1, self.n_in)                    # (H, I)
        return dU, dW, db

    def _per_step(self, trace, do, da):
        """Each step's contribution to each gradient (T leading axis); they sum to ``grads``."""
        T, B, H = da.shape
        dV_t, dc_t = dense_backward_per_step(do, trace.hs[1:])      # (T, O, H), (T, O)
        dW_t = np.einsum("tbh,tbk->thk", da, trace.hs[:-1])         # (T, H, H)
        if trace.x.ndim == 2:
            dUT_t = np.zeros((T, self.n_in, H), dtype=self.dtype)   # (T, I, H)
            np.add.at(dUT_t, (np.arange(T)[:, None], trace.x), da)
            dU_t = dUT_t.transpose(0, 2, 1)
        else:
            dU_t = np.einsum("tbh,tbi->thi", da, trace.x)            # (T, H, I)
        return {"U": dU_t, "W": dW_t, "b": da.sum(axis=1), "V": dV_t, "c": dc_t}

    # ------------------------------------------------------------------------- conveniences
    def loss(self, x, y, h0=None, mask=None) -> float:
        """L for inputs x and targets y (forward and the loss only)."""
        trace = self.forward(x, h0)
        T, B, _ = trace.o.shape
        y = check.targets(y, self.output, T, B, self.n_out, self.dtype)
        mask = check.mask(mask, T, B, self.dtype)
        return float(LOSSES[self.output](trace.o, trace.yhat, y, mask)[0])

    def gradients(self, x, y, h0=None, mask=None, per_step=False) -> Backward:
        """forward then backward in one call."""
        return self.backward(self.forward(x, h0), y, mask=mask, per_step=per_step)

    def copy(self, dtype=None) -> "SimpleRNN":
        """An independent copy, optionally cast to another float dtype."""
        new = object.__new__(SimpleRNN)
        new.__dict__.update(self.__dict__)
        new.dtype = self.dtype if dtype is None else check.float_dtype("dtype", dtype)
        new.params = {k: v.astype(new.dtype, copy=True) for k, v in self.params.items()}
        return new

    def set_params(self, params) -> None:
        """Replace the parameters, checking names, shapes and finiteness; cast to the model's dtype."""
        I, H, O = self.n_in, self.n_hidden, self.n_out
        shapes = {"U": (H, I), "W": (H, H), "b": (H,), "V": (O, H), "c": (O,)}
        if set(params) != set(PARAM_NAMES):
            raise ValueError(f"params: expected the keys {', '.join(PARAM_NAMES)}, got {', '.join(sorted(params))}")
        new = {}
        for name in PARAM_NAMES:
            arr = np.asarray(params[name])
            if arr.shape != shapes[name] or arr.dtype.kind != "f":
                raise ValueError(f"params[{name!r}]: expected a float array of shape {shapes[name]}, "
                                 f"got {check.describe(arr)}")
            check.finite(f"params[{name!r}]", arr)
            new[name] = arr.astype(self.dtype, copy=True)
        self.params = new

    # ---------------------------------------------------------------------- PyTorch bridge
    @classmethod
    def from_torch(cls, rnn, readout, *, output="softmax") -> "SimpleRNN":
        """A model holding the weights of a one-layer ``torch.nn.RNN`` and ``torch.nn.Linear``.

        U = weight_ih_l0, W = weight_hh_l0, b = bias_ih_l0 + bias_hh_l0, V = readout.weight,
        c = readout.bias. The dtype follows the torch weights (float32 or float64).
        """
        from .torch_bridge import from_torch
        return from_torch(cls, rnn, readout, output=output)

    def to_torch(self):
        """(torch.nn.RNN, torch.nn.Linear) holding these weights; bias_hh is zero."""
        from .torch_bridge import to_torch
        return to_torch(self)
