"""The network of Goodfellow et al., *Deep Learning*, figure 10.4: the only recurrence runs
from the output at t-1 to the hidden units at t. There is no hidden-to-hidden W.

    a(t) = b + W f(t) + U x(t)          f(t) (B, O): what the output at t-1 feeds back; f(1) = 0
    h(t) = tanh(a(t))
    o(t) = c + V h(t),  yhat(t) = softmax(o(t))
    L = sum_t m(t) * -log yhat(t)[y(t)], averaged over the batch (as every bptt loss)

What is fed back (section 10.2.1, figure 10.6):
- teacher forcing (training): f(t) = onehot(y(t-1)), the true previous *target* as a one-hot
  vector (``teacher_feedback``). The hidden units then read only data (x(t) and y(t-1)), so
  nothing at step t depends on the parameters through an earlier step. L(t) is a function of
  step t's inputs and the parameters alone. The gradient is the sum of T local gradients, one
  per step, as for a feedforward layer applied to [x(t); y(t-1)]. ``forward`` and ``backward``
  are whole-sequence products with no loop over time, and ``step_gradients`` returns the T terms.
- free-running (test time): f(t) is the network's own output at t-1, which has to be computed
  one step at a time (``free_run``). It can be onehot(argmax o(t-1)), the greedy token, which
  is the default and lies in the same one-hot space the network was trained on. It can also be
  yhat(t-1) = softmax(o(t-1)). The book draws the arrow from o(t-1); it is fed back here in the
  output's probability space (one-hot or softmax), not as the logits, because the logits are
  not what teacher forcing trains W on. Training free-running would make L(t) depend on every
  earlier step through W and call for back-propagation through time again; this module does not
  train that way.

Plain functions over a parameter mapping {U (H, I), W (H, O), b (H,), V (O, H), c (O,)}; x is
token ids int (T, B) (then U x(t) gathers U's columns) or real vectors float (T, B, I).

Shape legend: T time, B batch, I inputs, H hidden, O outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate as check
from .activations import tanh_derivative
from .dense import dense_backward_per_step, dense_forward, dense_grads
from .embedding import embedding_backward, embedding_backward_per_step, embedding_forward
from .losses import cross_entropy, softmax

__all__ = ["FEEDBACK", "OutputTrace", "backward", "forward", "free_run", "init_params", "loss", "param_shapes",
           "step_gradients", "teacher_feedback"]

FEEDBACK = ("argmax", "softmax")      # what free-running feeds back: the greedy token one-hot, or yhat


@dataclass(frozen=True)
class OutputTrace:
    """What forward keeps: x (T, B) ids or (T, B, I); f (T, B, O) the fed-back outputs; h (T, B, H);
    o, yhat (T, B, O)."""

    x: np.ndarray
    f: np.ndarray
    h: np.ndarray
    o: np.ndarray
    yhat: np.ndarray


def param_shapes(n_in, n_hidden, n_out) -> dict:
    """{name: shape}: U (H, I), W (H, O) from the output back to the hidden units, b (H,), V (O, H), c (O,)."""
    H, I, O = n_hidden, n_in, n_out
    return {"U": (H, I), "W": (H, O), "b": (H,), "V": (O, H), "c": (O,)}


def init_params(n_in, n_hidden, n_out, *, seed=None, dtype=np.float64) -> dict:
    """Every entry uniform(-1/sqrt(H), 1/sqrt(H)), drawn from ``numpy.random.default_rng(seed)``."""
    shapes = param_shapes(check.positive_int("n_in", n_in), check.positive_int("n_hidden", n_hidden),
                          check.positive_int("n_out", n_out))
    dtype = check.float_dtype("dtype", dtype)
    rng = np.random.default_rng(seed)
    k = 1.0 / np.sqrt(n_hidden)
    return {name: rng.uniform(-k, k, shape).astype(dtype) for name, shape in shapes.items()}


def teacher_feedback(y, n_out, dtype=np.float64) -> np.ndarray:
    """The teacher-forced f (T, B, O) for targets y int (T, B): f(1) = 0, f(t) = onehot(y(t-1))."""
    y = np.asarray(y)
    if y.dtype.kind not in "iu" or y.ndim != 2 or 0 in y.shape:
        raise ValueError(f"y: expected class ids as an int array (T, B) with T, B >= 1, got {check.describe(y)}")
    y = check.token_ids("y", y, n_out, "class ids")
    f = np.zeros((*y.shape, n_out), dtype=dtype)                                   # (T, B, O)
    t, b = np.indices((y.shape[0] - 1, y.shape[1]))
    f[t + 1, b, y[:-1]] = 1.0
    return f


def _inputs(params, x):
    return check.inputs(x, params["U"].shape[1], params["U"].dtype)


def _project(params, x):
    """U x(t) + b for all T at once: a gather for token ids, one product for real vectors. (T, B, H)"""
    if x.ndim == 2:
        return embedding_forward(x, params["U"], params["b"])
    return dense_forward(x, params["U"], params["b"])


def forward(params, x, f) -> OutputTrace:
    """Every step at once, given what is fed back: x (T, B) or (T, B, I), f float (T, B, O).

    With the teacher-forced f (``teacher_feedback``) this is the network's forward pass in training:
    no step reads another step's values, so there is no loop over time.
    """
    x = _inputs(params, x)
    T, B = x.shape[:2]
    O = params["V"].shape[0]
    f = np.asarray(f)
    if f.dtype.kind != "f" or f.shape != (T, B, O):
        raise ValueError(f"f: expected a float array of shape (T, B, O) = ({T}, {B}, {O}), got {check.describe(f)}")
    f = f.astype(params["W"].dtype, copy=False)
    a = _project(params, x) + f @ params["W"].T                                    # (T, B, H)
    h = np.tanh(a)
    o = dense_forward(h, params["V"], params["c"])                                 # (T, B, O)
    return OutputTrace(x=x, f=f, h=h, o=o, yhat=softmax(o))


def _errors(params, trace, y, mask):
    T, B, O = trace.o.shape
    mask = check.mask(mask, T, B, trace.o.dtype)
    y = check.targets(y, "softmax", T, B, O, trace.o.dtype, mask)
    L, do, l = cross_entropy(trace.o, trace.yhat, y, mask)                         # do (T, B, O)
    dh = do @ params["V"]                                                          # (T, B, H): V^T dL/do(t), no W^T carry
    da = dh * tanh_derivative(trace.h)                                             # (T, B, H)
    return L, l, do, dh, da


def backward(params, trace: OutputTrace, y, mask=None) -> tuple:
    """The loss and its gradients for a forward pass whose f does not depend on the parameters
    (teacher forcing): (L, grads {U, W, b, V, c}, errors {"o", "h", "a"} (T, B, .), losses (T, B)).

    dL/dh(t) = V^T dL/do(t): the output at t reaches no later step's hidden units through the
    parameters, so no error is carried backward in time, and each gradient is one product over
    all T*B rows.
    """
    L, l, do, dh, da = _errors(params, trace, y, mask)
    dV, dc = dense_grads(do, trace.h)
    if trace.x.ndim == 2:
        dU, db = embedding_backward(da, trace.x, params["U"].shape[1])
    else:
        dU, db = dense_grads(da, trace.x)
    dW, _ = dense_grads(da, trace.f)
    grads = {"U": dU, "W": dW, "b": db, "V": dV, "c": dc}
    return float(L), grads, {"o": do, "h": dh, "a": da}, l


def step_gradients(params, trace: OutputTrace, y, mask=None) -> dict:
    """Each step's own gradient, leading T axis kept: {name: (T, *shape)}. Under teacher forcing,
    step t's term is the gradient of m(t) l(t) / B alone, and the T terms sum to ``backward``'s."""
    _, _, do, _, da = _errors(params, trace, y, mask)
    dV, dc = dense_backward_per_step(do, trace.h)
    if trace.x.ndim == 2:
        dU, db = embedding_backward_per_step(da, trace.x, params["U"].shape[1])
    else:
        dU, db = dense_backward_per_step(da, trace.x)
    dW, _ = dense_backward_per_step(da, trace.f)
    return {"U": dU, "W": dW, "b": db, "V": dV, "c": dc}


def loss(params, x, f, y, mask=None) -> float:
    """L for x, the fed-back f and the targets y (forward and the loss only)."""
    trace = forward(params, x, f)
    T, B, O = trace.o.shape
    m = check.mask(mask, T, B, trace.o.dtype)
    return float(cross_entropy(trace.o, trace.yhat, check.targets(y, "softmax", T, B, O, trace.o.dtype, m), m)[0])


def free_run(params, x, *, feedback="argmax") -> OutputTrace:
    """Free-running: the network reads its own previous output, one step at a time.

    feedback: "argmax" feeds back onehot(argmax o(t-1)), the greedy token; "softmax" feeds back
    yhat(t-1). The returned trace's f is what was fed back, so ``forward(params, x, trace.f)``
    replays the run (to rounding), and ``trace.o.argmax(-1)`` are the tokens it predicted.
    """
    feedback = check.choice("feedback", feedback, FEEDBACK)
    x = _inputs(params, x)
    T, B = x.shape[:2]
    H, O = params["W"].shape
    dtype = params["W"].dtype
    ax = _project(params, x)                                                       # (T, B, H), stage 1
    f = np.zeros((T, B, O), dtype=dtype)
    h = np.empty((T, B, H), dtype=dtype)
    o = np.empty((T, B, O), dtype=dtype)
    yhat = np.empty((T, B, O), dtype=dtype)
    rows = np.arange(B)
    for t in range(T):                                     # the output recurrence: the only loop
        if t > 0:
            if feedback == "argmax":
                f[t, rows, o[t - 1].argmax(-1)] = 1.0
            else:
                f[t] = yhat[t - 1]
        h[t] = np.tanh(ax[t] + f[t] @ params["W"].T)
        o[t] = dense_forward(h[t], params["V"], params["c"])
        yhat[t] = softmax(o[t])
    return OutputTrace(x=x, f=f, h=h, o=o, yhat=yhat)
