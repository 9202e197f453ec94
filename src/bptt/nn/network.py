"""The recurrent network of Goodfellow et al., *Deep Learning*, ch. 10, unfolded in time, for any cell.

Three stages, of which only the middle one is a loop over time:

    1. input projection, all T at once:    b + U x(t)               (part of 10.8)
    2. the recurrence, one step at a time: the cell's step pair       (10.8-10.9 for the RNN)
    3. readout, all T at once:             o(t) = c + V h(t)         (10.10)
                                           yhat(t) = softmax(o(t))   (10.11; or the identity)
    L = sum_t L(t), averaged over the batch

With ``layers`` > 1, layer l+1's stage 1 reads layer l's h over all T at once and the readout
reads the top layer. Backward runs the stages in reverse: the readout's gradient over all T,
each layer's reverse loop from the top down, and dU, dW, db as single products over all steps.

Parameters are shared by every time step: layer 0's U (G*H, I), W (G*H, H), b (G*H,) (G gate
blocks: 1 for the RNN, 4 for the LSTM, 3 for the GRU), layer l's U_l<l> (G*H, H), W_l<l>,
b_l<l>, and the readout's V (O, H), c (O,). Errors and the per-step gradient contributions
depend on t; their sum over t is the gradient that updates the parameters once.

Shape legend: T time, B batch, I inputs, H hidden, O outputs, L layers, G gate blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate as check
from .cells import CELLS, GRUCell, LSTMCell, RNNCell
from .dense import dense_backward, dense_backward_per_step, dense_forward
from .losses import LOSSES, OUTPUTS
from .unroll import Weights, backward_through_time, forward_through_time

PARAM_NAMES = ("U", "W", "b", "V", "c")          # a one-layer simple RNN's parameters


def suffix(layer: int) -> str:
    """Layer 0's parameters are U, W, b (as the book names them); layer l's U_l<l>, W_l<l>, b_l<l>."""
    return "" if layer == 0 else f"_l{layer}"


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
class LayerTrace:
    """One layer's steps: states {name: (T+1, B, H)} (index 0 the initial state) and what the
    cell keeps for backward {name: (T, B, width*H)}."""

    states: dict
    keeps: dict


@dataclass(frozen=True)
class Trace:
    """Everything forward propagation keeps, one entry per step (leading T axis).

    x: the validated input, int (T, B) or float (T, B, I); layers: one LayerTrace per layer;
    o, yhat (T, B, O). The properties read the top layer: hs (T+1, B, H) = h0 followed by h;
    a (T, B, H), the RNN's pre-activations; s, ss, the LSTM's cell state; gates.
    """

    x: np.ndarray
    layers: tuple
    o: np.ndarray
    yhat: np.ndarray

    @property
    def hs(self) -> np.ndarray:
        return self.layers[-1].states["h"]

    @property
    def h(self) -> np.ndarray:
        return self.hs[1:]

    @property
    def h0(self) -> np.ndarray:
        return self.hs[0]

    @property
    def ss(self) -> np.ndarray:
        return self._top("states", "s")

    @property
    def s(self) -> np.ndarray:
        return self.ss[1:]

    @property
    def a(self) -> np.ndarray:
        return self._top("keeps", "a")

    @property
    def gates(self) -> np.ndarray:
        return self._top("keeps", "gates")

    def _top(self, kind, name):
        arrays = getattr(self.layers[-1], kind)
        if name not in arrays:
            raise AttributeError(f"this cell's trace has no {name!r}: its {kind} are {', '.join(arrays)}")
        return arrays[name]


@dataclass(frozen=True)
class Backward:
    """What back-propagation through time returns.

    loss: L (float); losses (T, B): each element's own l(t) (masked, not divided by B);
    grads: dict like ``params``, the sum over t of the per-step contributions;
    dh0: dL/dh(0), (B, H) for one layer, (L, B, H) for a stack; ds0 likewise for the LSTM's
    cell state (None for other cells);
    errors: the top layer's {"o": dL/do (T, B, O), "h": dL/dh (T, B, H), "a": dL/da (T, B, G*H),
    and "s": dL/ds (T, B, H) for the LSTM}; layer_errors: the same for every layer, bottom up;
    per_step: dict like ``params`` with a leading T axis, or None unless asked for.
    """

    loss: float
    losses: np.ndarray
    grads: dict
    dh0: np.ndarray
    errors: dict
    per_step: dict | None = None
    ds0: np.ndarray | None = None
    layer_errors: tuple | None = None


class Network:
    """A recurrent network: ``layers`` layers of one cell and a dense readout, forward and
    backward written by hand. ``SimpleRNN``, ``LSTM`` and ``GRU`` are this class with their cell.

    Args:
        cell: a cell of ``bptt.cells`` (``RNNCell("tanh")``, ...).
        n_in: I, the number of input features, or the vocabulary size for token-id inputs.
        n_hidden: H, the number of hidden units of each layer.
        n_out: O, the number of outputs (classes for the softmax output).
        layers: how many recurrent layers are stacked.
        output: "softmax" (yhat = softmax(o), cross-entropy against int targets) or
            "identity" (yhat = o, squared error 1/2 ||o - y||^2 against float targets).
        seed: seed of the ``numpy.random.Generator`` that draws the initial weights.
        dtype: float64 (default, for checking) or float32 (for speed); every array the model
            makes has this dtype.

    Initialisation follows PyTorch's nn.RNN/LSTM/GRU and nn.Linear: every entry drawn from
    uniform(-1/sqrt(H), 1/sqrt(H)) (in float64, then cast, so float32 and float64 models with
    one seed hold the same weights up to rounding), then the cell's own adjustment.
    """

    def __init__(self, cell, n_in, n_hidden, n_out, *, layers=1, output="softmax", seed=None,
                 dtype=np.float64):
        self.cell = cell
        self.n_in = check.positive_int("n_in", n_in)
        self.n_hidden = check.positive_int("n_hidden", n_hidden)
        self.n_out = check.positive_int("n_out", n_out)
        self.layers = check.positive_int("layers", layers)
        self.output = check.choice("output", output, tuple(OUTPUTS))
        self.dtype = check.float_dtype("dtype", dtype)
        rng = np.random.default_rng(seed)
        k = 1.0 / np.sqrt(self.n_hidden)
        self.params = {name: rng.uniform(-k, k, shape).astype(self.dtype)
                       for name, shape in self.param_shapes().items()}
        for layer in range(self.layers):
            view = {name: self.params[name + suffix(layer)] for name in self._layer_names()}
            cell.adjust_init(view, self.n_hidden, rng)

    @classmethod
    def create(cls, cell_name, n_in, n_hidden, n_out, *, cell_options=None, **kwargs) -> "Network":
        """A network of the cell named ``cell_name`` ("rnn", "lstm", "gru"), as the class that
        names it (SimpleRNN, LSTM, GRU) where there is one."""
        cell_name = check.choice("cell", cell_name, tuple(CELLS))
        cell = CELLS[cell_name](**(cell_options or {}))
        named = {sub.CELL: sub for sub in Network.__subclasses__()}
        model = object.__new__(named.get(cell_name, Network))
        Network.__init__(model, cell, n_in, n_hidden, n_out, **kwargs)
        return model

    def _layer_names(self):
        return ("U", "W", "b", *self.cell.extra_params(self.n_hidden))

    def param_shapes(self) -> dict:
        """{name: shape} of every parameter, layer by layer, then the readout."""
        I, H, O, G = self.n_in, self.n_hidden, self.n_out, self.cell.gates
        shapes = {}
        for layer in range(self.layers):
            s = suffix(layer)
            shapes.update({f"U{s}": (G * H, I if layer == 0 else H), f"W{s}": (G * H, H), f"b{s}": (G * H,)})
            shapes.update({name + s: shape for name, shape in self.cell.extra_params(H).items()})
        shapes.update({"V": (O, H), "c": (O,)})
        return shapes

    def __repr__(self):
        options = "".join(f", {k}={v!r}" for k, v in self.cell.options().items())
        layers = f", layers={self.layers}" if self.layers > 1 else ""
        return (f"{type(self).__name__}(n_in={self.n_in}, n_hidden={self.n_hidden}, n_out={self.n_out}"
                f"{layers}{options}, output={self.output!r}, dtype={self.dtype.name})")

    @property
    def nonlinearity(self):
        """The RNN cell's f; None for gated cells."""
        return getattr(self.cell, "nonlinearity", None)

    # ----------------------------------------------------------------------------- forward
    def forward(self, x, h0=None, s0=None) -> Trace:
        """Unfold the network over the T steps of x and keep every step's values.

        x: token ids, int (T, B) (x(t) is one-hot, so U x(t) is a gather of U's columns),
           or real vectors, float (T, B, I).
        h0: optional initial state, (B, H) for one layer or (L, B, H) for a stack; zeros if None.
        s0: the same for the LSTM's cell state.
        """
        x = check.inputs(x, self.n_in, self.dtype)
        state0 = self.initial_states(x.shape[1], h0=h0, s0=s0)
        layers, below = [], x
        for layer in range(self.layers):
            # Stage 1, over all T at once: b + U x(t) (or U h(t) of the layer below).
            xu = self.project_inputs(below, layer)                           # (T, B, G*H)
            # Stage 2, the only sequential part: the recurrence.
            states, keeps = forward_through_time(self.cell, self.weights(layer), xu, state0[layer])
            layers.append(LayerTrace(states, keeps))
            below = states["h"][1:]                                          # (T, B, H)
        # Stage 3, over all T at once: the readout, a dense layer.
        o = dense_forward(below, self.params["V"], self.params["c"])        # (T, B, O)
        yhat = OUTPUTS[self.output](o)                                       # (T, B, O)
        return Trace(x=x, layers=tuple(layers), o=o, yhat=yhat)

    def initial_states(self, B, **given) -> list:
        """[{name: (B, H)} per layer] from h0=, s0= as the caller gives them (None: zeros)."""
        L, H = self.layers, self.n_hidden
        for key, value in given.items():
            if value is not None and key[:-1] not in self.cell.states:
                raise ValueError(f"{key}: expected None, the {self.cell.name} cell has no state "
                                 f"{key[:-1]!r} (its states: {', '.join(self.cell.states)})")
        out = [{} for _ in range(L)]
        for name in self.cell.states:
            value = given.get(f"{name}0")
            if L == 1:
                v = check.state(f"{name}0", value, B, H, self.dtype)
                out[0][name] = v
                continue
            if value is None:
                v = np.zeros((L, B, H), dtype=self.dtype)
            else:
                v = np.asarray(value)
                if v.dtype.kind != "f" or v.shape != (L, B, H):
                    raise ValueError(f"{name}0: expected a float array of shape (L, B, H) = ({L}, {B}, {H}), "
                                     f"got {check.describe(v)}")
                check.finite(f"{name}0", v)
                v = v.astype(self.dtype, copy=False)
            for layer in range(L):
                out[layer][name] = v[layer]
        return out

    def weights(self, layer) -> Weights:
        """What the cell's steps read: layer ``layer``'s W, a contiguous W^T, its extra parameters."""
        s = suffix(layer)
        return Weights.of(self.cell, self.params["W" + s], self.params, s)

    def project_inputs(self, x, layer=0, out=None):
        """Stage 1: b + U x(t) for every step at once -> (T, B, G*H).

        x: layer 0's validated input, int (T, B) or float (T, B, I), or the layer below's h (T, B, H).
        """
        s = suffix(layer)
        U, b = self.params["U" + s], self.params["b" + s]
        if x.ndim == 2:  # one-hot x(t): b + U x(t) is row x(t) of (U^T + b), a gather
            # (U^T + b) is (I, G*H), small and contiguous: the gather copies whole rows, and b
            # is added once per token of the vocabulary instead of once per step. The ids are
            # validated at the edge (check.inputs); mode="clip" spares take's default mode the
            # buffered copy of ``out`` it makes to undo a write on an out-of-range id (4x faster).
            return np.take(np.add(U.T, b, order="C"), x, axis=0, out=out, mode="clip")
        return dense_forward(x, U, b, out=out)

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
        dh_out, dV, dc = dense_backward(do, trace.h, p["V"])                # (T, B, H), (O, H), (O,)
        grads, layer_errors, carry = self.backward_layers(trace.x, trace.layers, dh_out)
        grads.update({"V": dV, "c": dc})
        grads = {name: grads[name] for name in p}                          # params' order
        layer_errors[-1]["o"] = do
        steps = self._per_step(trace, do, layer_errors) if per_step else None
        dh0, ds0 = self._stack_states(carry, "h"), self._stack_states(carry, "s")
        return Backward(loss=float(loss), losses=losses, grads=grads, dh0=dh0, ds0=ds0,
                        errors=layer_errors[-1], per_step=steps, layer_errors=tuple(layer_errors))

    def backward_layers(self, x, layers, dh_top, carry=None, work=None):
        """Stages 2 and 1 in reverse, from the top layer down.

        x: layer 0's input over the steps; layers: their LayerTraces; dh_top (T, B, H): what the
        readout sends to the top layer's h(t). carry: [{name: (B, H)}] per layer, what later
        steps send back into the last states (None: nothing). ``work``: a Workspace to reuse.
        Returns the layers' gradients {name: array}, their errors [{"h", "a", ...}] bottom up,
        and what reaches the initial states [{name: (B, H)}].
        """
        grads, errors, carry_out = {}, [None] * self.layers, [None] * self.layers
        dh_out = dh_top
        for layer in reversed(range(self.layers)):
            lt = layers[layer]
            buffers = scratch = None
            if work is not None:
                T, B, H = dh_out.shape
                GH = self.cell.gates * H
                buffers = ({n: work.get(f"d{n}{layer}", (T, B, H), dh_out.dtype) for n in self.cell.states},
                           {n: work.get(f"e{n}{layer}", (T, B, GH), dh_out.dtype) for n in self.cell.errors})

                def scratch(name, shape, dtype, layer=layer):
                    return work.get(f"local_{name}{layer}", shape, dtype)
            dstates, errs, carry_out[layer] = backward_through_time(
                self.cell, self.weights(layer), dh_out, lt.states, lt.keeps,
                None if carry is None else carry[layer], out=buffers, scratch=scratch)
            below = x if layer == 0 else layers[layer - 1].states["h"][1:]
            grads.update(self.input_grads(layer, below, errs, lt.states["h"][:-1]))
            errors[layer] = {**dstates, **errs}
            if layer > 0:   # what this layer's inputs, the h(t) of the layer below, receive: U^T dL/da(t)
                U = self.params["U" + suffix(layer)]
                dh_out = (errs[self.cell.errors[0]].reshape(-1, U.shape[0]) @ U).reshape(below.shape)
        return grads, errors, carry_out

    def input_grads(self, layer, x, errors, h_prev):
        """One layer's input side over all steps at once, from its errors (T, B, G*H):
        dU = sum_t dL/da(t) x(t)^T (10.28), dW = sum_t dL/da(t) h(t-1)^T (10.26), db (10.23),
        and the cell's extra parameters. x: int (T, B), float (T, B, I) or the layer below's h."""
        s = suffix(layer)
        da = errors[self.cell.errors[0]]                             # the input side's error
        dr = errors[self.cell.errors[-1]]                            # the recurrent side's
        GH = da.shape[-1]
        da2 = da.reshape(-1, GH)                                     # (T*B, G*H)
        dW = dr.reshape(-1, GH).T @ h_prev.reshape(-1, h_prev.shape[-1])    # (G*H, H)
        db = da2.sum(axis=0)                                         # (G*H,)
        if x.ndim == 2:
            dU = scatter_rows(x.ravel(), da2, self.n_in).T           # (G*H, I): column i sums dL/da(t) where x(t) = i
        else:
            dU = da2.T @ x.reshape(-1, x.shape[-1])                  # (G*H, I)
        grads = {f"U{s}": dU, f"W{s}": dW, f"b{s}": db}
        grads.update({name + s: g for name, g in self.cell.extra_grads(errors).items()})
        return grads

    def _per_step(self, trace, do, layer_errors):
        """Each step's contribution to each gradient (T leading axis); they sum to ``grads``."""
        dV_t, dc_t = dense_backward_per_step(do, trace.h)           # (T, O, H), (T, O)
        steps = {}
        for layer, lt in enumerate(trace.layers):
            s, errs = suffix(layer), layer_errors[layer]
            da, dr = errs[self.cell.errors[0]], errs[self.cell.errors[-1]]
            T, B, GH = da.shape
            x = trace.x if layer == 0 else trace.layers[layer - 1].states["h"][1:]
            steps[f"W{s}"] = np.einsum("tbg,tbk->tgk", dr, lt.states["h"][:-1])   # (T, G*H, H)
            if x.ndim == 2:
                dUT_t = np.zeros((T, self.n_in, GH), dtype=self.dtype)           # (T, I, G*H)
                np.add.at(dUT_t, (np.arange(T)[:, None], x), da)
                steps[f"U{s}"] = dUT_t.transpose(0, 2, 1)
            else:
                steps[f"U{s}"] = np.einsum("tbg,tbi->tgi", da, x)                # (T, G*H, I)
            steps[f"b{s}"] = da.sum(axis=1)
            steps.update({name + s: g for name, g in self.cell.extra_grads(errs, per_step=True).items()})
        steps.update({"V": dV_t, "c": dc_t})
        return {name: steps[name] for name in self.params}

    def _stack_states(self, per_layer, name):
        """[{name: (B, H)}] per layer -> (B, H) for one layer, (L, B, H) for a stack; None if absent."""
        if name not in self.cell.states:
            return None
        if self.layers == 1:
            return per_layer[0][name]
        return np.stack([c[name] for c in per_layer])

    # ------------------------------------------------------------------------- conveniences
    def loss(self, x, y, h0=None, mask=None, s0=None) -> float:
        """L for inputs x and targets y (forward and the loss only)."""
        trace = self.forward(x, h0, s0)
        T, B, _ = trace.o.shape
        y = check.targets(y, self.output, T, B, self.n_out, self.dtype)
        mask = check.mask(mask, T, B, self.dtype)
        return float(LOSSES[self.output](trace.o, trace.yhat, y, mask)[0])

    def gradients(self, x, y, h0=None, mask=None, per_step=False, s0=None) -> Backward:
        """forward then backward in one call."""
        return self.backward(self.forward(x, h0, s0), y, mask=mask, per_step=per_step)

    def copy(self, dtype=None) -> "Network":
        """An independent copy, optionally cast to another float dtype."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.dtype = self.dtype if dtype is None else check.float_dtype("dtype", dtype)
        new.params = {k: v.astype(new.dtype, copy=True) for k, v in self.params.items()}
        return new

    def set_params(self, params) -> None:
        """Replace the parameters, checking names, shapes and finiteness; cast to the model's dtype."""
        shapes = self.param_shapes()
        if set(params) != set(shapes):
            raise ValueError(f"params: expected the keys {', '.join(shapes)}, got {', '.join(sorted(params))}")
        new = {}
        for name, shape in shapes.items():
            arr = np.asarray(params[name])
            if arr.shape != shape or arr.dtype.kind != "f":
                raise ValueError(f"params[{name!r}]: expected a float array of shape {shape}, "
                                 f"got {check.describe(arr)}")
            check.finite(f"params[{name!r}]", arr)
            new[name] = arr.astype(self.dtype, copy=True)
        self.params = new

    def spec(self) -> dict:
        """What rebuilds this model's shape (checkpoints store it): JSON-able."""
        return {"cell": self.cell.name, **self.cell.options(), "layers": self.layers, "n_in": self.n_in,
                "n_hidden": self.n_hidden, "n_out": self.n_out, "output": self.output,
                "dtype": self.dtype.name}


class SimpleRNN(Network):
    """The simple RNN of Goodfellow et al., ch. 10 (``cells.RNNCell``) with a dense readout.

        a(t) = b + W h(t-1) + U x(t)        (10.8)
        h(t) = f(a(t))                      (10.9, f = tanh in the book; relu and linear here too)
        o(t) = c + V h(t)                   (10.10)

    U (H, I), W (H, H), b (H,), V (O, H), c (O,). Other arguments as ``Network``.

    Example:
        >>> model = SimpleRNN(5, 8, 5, seed=0)
        >>> x = np.array([[0, 1], [2, 3], [4, 0]])          # token ids (T=3, B=2)
        >>> result = model.backward(model.forward(x), y=np.roll(x, -1, axis=0))
        >>> sorted(result.grads) == sorted(model.params)
        True
    """

    CELL = "rnn"

    def __init__(self, n_in, n_hidden, n_out, *, nonlinearity="tanh", layers=1, output="softmax",
                 seed=None, dtype=np.float64):
        super().__init__(RNNCell(nonlinearity), n_in, n_hidden, n_out, layers=layers, output=output,
                         seed=seed, dtype=dtype)


class LSTM(Network):
    """Long short-term memory (``cells.LSTMCell``) with a dense readout: PyTorch's nn.LSTM + nn.Linear.

    U (4H, I), W (4H, H), b (4H,) in PyTorch's gate order i, f, g, o; V (O, H), c (O,).
    ``forget_bias`` is added to the forget gate's bias at initialisation (1.0, Jozefowicz et
    al. 2015); ``chrono=T_max`` draws the forget and input gates' biases as Tallec & Ollivier
    (2018) instead (``LSTMCell.adjust_init``); ``from_torch`` keeps whatever the module holds.
    The trace carries h and the cell state s for every step and the gates; backward returns
    dh0 and ds0. Other arguments as ``Network``.
    """

    CELL = "lstm"

    def __init__(self, n_in, n_hidden, n_out, *, layers=1, forget_bias=1.0, chrono=None, output="softmax",
                 seed=None, dtype=np.float64):
        super().__init__(LSTMCell(forget_bias, chrono), n_in, n_hidden, n_out, layers=layers, output=output,
                         seed=seed, dtype=dtype)


class GRU(Network):
    """The gated recurrent unit (``cells.GRUCell``, PyTorch's formulation) with a dense readout.

    U (3H, I), W (3H, H), b (3H,) in PyTorch's gate order r, z, n, and b_hn (H,), the n block's
    recurrent bias, which r multiplies; V (O, H), c (O,). ``chrono=T_max`` draws the update
    gate's bias as Tallec & Ollivier (2018) (``GRUCell.adjust_init``). Other arguments as ``Network``.
    """

    CELL = "gru"

    def __init__(self, n_in, n_hidden, n_out, *, layers=1, chrono=None, output="softmax", seed=None,
                 dtype=np.float64):
        super().__init__(GRUCell(chrono), n_in, n_hidden, n_out, layers=layers, output=output, seed=seed,
                         dtype=dtype)
