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
The stages are functions (``stages.py``); ``Network.forward`` and ``backward`` put them together.

Parameters are shared by every time step: layer 0's U (G*H, I), W (G*H, H), b (G*H,) (G gate
blocks: 1 for the RNN, 4 for the LSTM, 3 for the GRU), layer l's U_l<l> (G*H, H), W_l<l>,
b_l<l>, and the readout's V (O, H), c (O,). Errors and the per-step gradient contributions
depend on t; their sum over t is the gradient that updates the parameters once.

A bidirectional network (10.3) adds to each layer a reverse direction, the same cell run over
each sequence from its own last step back to its first (U_reverse, W_reverse, ...); layer l+1
and the readout read [h_forward(t); h_reverse(t)], so U_l<l> is (G*H, 2H) and V (O, 2H).
``lengths`` gives each sequence of a padded batch its own length, for either kind of network.

Shape legend: T time, B batch, I inputs, H hidden, O outputs, L layers, G gate blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate as check
from .cells import CELLS, GRUCell, LSTMCell, RNNCell
from .losses import OUTPUTS
from .stages import (LayerTrace, backward_directions, backward_layers, forward_directions, forward_layers,
                     last_states, layer_params, param_name, param_shapes, per_step_grads,
                     per_step_grads_directions, readout, readout_backward, readout_loss, stack_states,
                     suffix, upward)
from .unroll import Weights

PARAM_NAMES = ("U", "W", "b", "V", "c")          # a one-layer simple RNN's parameters

# The network, its results and its named classes; the parameter names and shapes are the stages'.
__all__ = ["Network", "SimpleRNN", "LSTM", "GRU", "NAMED", "Trace", "Backward", "PARAM_NAMES",
           "LayerTrace", "param_name", "param_shapes", "suffix"]


@dataclass(frozen=True)
class Trace:
    """Everything forward propagation keeps, one entry per step (leading T axis).

    x: the validated input, int (T, B) or float (T, B, I); layers: one LayerTrace per layer;
    o, yhat (T, B, O); dropout: the masks forward was given (one (T, B, H) per layer), or None.
    The properties read the top layer: hs (T+1, B, H) = h0 followed by h (before dropout);
    a (T, B, H), the RNN's pre-activations; s, ss, the LSTM's cell state; gates.

    With ``bidirectional`` or ``lengths``: layers holds one LayerTrace per layer and direction
    in PyTorch's order (layer 0 forward, layer 0 reverse, ...), the reverse ones in their own
    step order (step i is the sequence's step lengths - 1 - i); outputs, each layer's
    [h_forward; h_reverse] (T, B, D*H) in time order, zero on padded steps; h is the top's,
    what the readout reads. The other properties then read the top forward direction.
    """

    x: np.ndarray
    layers: tuple
    o: np.ndarray
    yhat: np.ndarray
    dropout: tuple | None = None
    outputs: tuple | None = None
    lengths: np.ndarray | None = None
    directions: int = 1

    @property
    def hs(self) -> np.ndarray:
        return self.layers[-self.directions].states["h"]

    @property
    def h(self) -> np.ndarray:
        return self.hs[1:] if self.outputs is None else self.outputs[-1]

    def final_states(self) -> dict:
        """{"h": ..., ("s": ...)} after each sequence's own last step (its length's), as ``Backward``
        shapes dh0: (B, H) for one layer and direction, (L*D, B, H) otherwise."""
        return {k[:-1]: v for k, v in stack_states(last_states(self.layers, self.lengths)).items()}

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
        arrays = getattr(self.layers[-self.directions], kind)
        if name not in arrays:
            raise AttributeError(f"this cell's trace has no {name!r}: its {kind} are {', '.join(arrays)}")
        return arrays[name]


@dataclass(frozen=True)
class Backward:
    """What back-propagation through time returns.

    loss: L (float); losses (T, B): each element's own l(t) (masked, not divided by B);
    grads: dict like ``params``, the sum over t of the per-step contributions;
    dh0: dL/dh(0), (B, H) for one layer, (L, B, H) for a stack, (2L, B, H) in PyTorch's order
    for a bidirectional one; ds0 likewise for the LSTM's cell state (None for other cells);
    errors: the top layer's {"o": dL/do (T, B, O), "h": dL/dh (T, B, H), "a": dL/da (T, B, G*H),
    and "s": dL/ds (T, B, H) for the LSTM}; layer_errors: the same for every layer, bottom up;
    per_step: dict like ``params`` with a leading T axis, or None unless asked for.
    A bidirectional network's layer_errors are per layer and direction as ``Trace.layers``;
    errors are its top forward direction's.
    """

    loss: float
    losses: np.ndarray
    grads: dict
    dh0: np.ndarray
    errors: dict
    per_step: dict | None = None
    ds0: np.ndarray | None = None
    layer_errors: tuple | None = None


def copied(model, dtype=None):
    """An independent copy of a model that holds its parameters in ``params``, optionally cast to
    another float dtype (``Network.copy``, ``Seq2Seq.copy``)."""
    new = object.__new__(type(model))
    new.__dict__.update(model.__dict__)
    new.dtype = model.dtype if dtype is None else check.float_dtype("dtype", dtype)
    new.params = {k: v.astype(new.dtype, copy=True) for k, v in model.params.items()}
    return new


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
        bidirectional: also run each layer over each sequence reversed (10.3); the next layer
            and the readout read [h_forward; h_reverse].
        seed: seed of the ``numpy.random.Generator`` that draws the initial weights.
        dtype: float64 (default, for checking) or float32 (for speed); every array the model
            makes has this dtype.

    Initialisation follows PyTorch's nn.RNN/LSTM/GRU and nn.Linear: every entry drawn from
    uniform(-1/sqrt(H), 1/sqrt(H)) (in float64, then cast, so float32 and float64 models with
    one seed hold the same weights up to rounding), then the cell's own adjustment.
    """

    def __init__(self, cell, n_in, n_hidden, n_out, *, layers=1, output="softmax", seed=None,
                 dtype=np.float64, bidirectional=False):
        self.cell = cell
        self.n_in = check.positive_int("n_in", n_in)
        self.n_hidden = check.positive_int("n_hidden", n_hidden)
        self.n_out = check.positive_int("n_out", n_out)
        self.layers = check.positive_int("layers", layers)
        self.output = check.choice("output", output, tuple(OUTPUTS))
        self.dtype = check.float_dtype("dtype", dtype)
        self.bidirectional = check.boolean("bidirectional", bidirectional)
        rng = np.random.default_rng(seed)
        k = 1.0 / np.sqrt(self.n_hidden)
        self.params = {name: rng.uniform(-k, k, shape).astype(self.dtype)
                       for name, shape in self.param_shapes().items()}
        for layer in range(self.layers):
            for reverse in (False, True)[:self.directions]:
                cell.adjust_init(layer_params(self, layer, reverse), self.n_hidden, rng)

    @classmethod
    def create(cls, cell_name, n_in, n_hidden, n_out, *, cell_options=None, **kwargs) -> "Network":
        """A network of the cell named ``cell_name`` ("rnn", "lstm", "gru"), as the class that
        names it (SimpleRNN, LSTM, GRU: ``NAMED``) where there is one, else a ``Network``."""
        cell_name = check.choice("cell", cell_name, tuple(CELLS))
        options = cell_options or {}
        if cell_name in NAMED:                       # its keyword arguments are the cell's options
            return NAMED[cell_name](n_in, n_hidden, n_out, **options, **kwargs)
        return Network(CELLS[cell_name](**options), n_in, n_hidden, n_out, **kwargs)

    def param_shapes(self) -> dict:
        """{name: shape} of every parameter, layer by layer, then the readout (``stages.param_shapes``)."""
        return param_shapes(self.cell, self.n_in, self.n_hidden, self.n_out, self.layers, self.bidirectional)

    @property
    def directions(self) -> int:
        """How many directions (D in the shape legend), 2 for a bidirectional network, else 1."""
        return 2 if self.bidirectional else 1

    def __repr__(self):
        options = "".join(f", {k}={v!r}" for k, v in self.cell.options().items())
        layers = f", layers={self.layers}" if self.layers > 1 else ""
        layers += ", bidirectional=True" if self.bidirectional else ""
        return (f"{type(self).__name__}(n_in={self.n_in}, n_hidden={self.n_hidden}, n_out={self.n_out}"
                f"{layers}{options}, output={self.output!r}, dtype={self.dtype.name})")

    @property
    def nonlinearity(self):
        """The RNN cell's f; None for gated cells."""
        return getattr(self.cell, "nonlinearity", None)

    # ----------------------------------------------------------------------------- forward
    def forward(self, x, h0=None, s0=None, lengths=None, dropout=None) -> Trace:
        """Unfold the network over the T steps of x and keep every step's values.

        Args:
            x: token ids, int (T, B) (x(t) is one-hot, so U x(t) is a gather of U's columns),
                or real vectors, float (T, B, I).
            h0: optional initial state, (B, H) for one layer or (L, B, H) for a stack, (2L, B, H)
                in PyTorch's order for a bidirectional network; zeros if None.
            s0: the same for the LSTM's cell state.
            lengths: optional int (B,) in [1, T]: sequence b is x[:lengths[b], b]; the reverse
                direction starts at its own last step, h is zero on the padded steps, and
                ``Trace.final_states`` are each sequence's own.
            dropout: None (off), or one mask (T, B, H) per layer, which multiplies what that layer
                sends up to the layer above or the readout (Zaremba et al. 2014; ``dropout_masks``
                draws them); ``backward`` applies the same masks. Unidirectional, without lengths.
        """
        x = check.inputs(x, self.n_in, self.dtype)
        if dropout is not None:
            if lengths is not None or self.bidirectional:
                raise ValueError(f"dropout: expected a unidirectional network without lengths, got "
                                 f"{'a bidirectional network' if self.bidirectional else 'lengths'}")
            dropout = check.dropout_masks(dropout, self.layers, (*x.shape[:2], self.n_hidden), self.dtype)
        if lengths is not None or self.bidirectional:
            lengths = check.lengths(lengths, *x.shape[:2])
            state0 = self.initial_states(x.shape[1], h0=h0, s0=s0)
            layers, outputs = forward_directions(self, x, state0, lengths)             # stages 1, 2
            o, yhat = readout(self, outputs[-1])                                          # stage 3
            return Trace(x=x, layers=tuple(layers), o=o, yhat=yhat, outputs=tuple(outputs),
                         lengths=lengths, directions=self.directions)
        layers = forward_layers(self, x, self.initial_states(x.shape[1], h0=h0, s0=s0), dropout=dropout)  # 1, 2
        o, yhat = readout(self, upward(layers, -1, dropout))                              # stage 3
        return Trace(x=x, layers=tuple(layers), o=o, yhat=yhat, dropout=dropout)

    def initial_states(self, B, **given) -> list:
        """[{name: (B, H)} per layer (and direction)] from h0=, s0= as the caller gives them (None: zeros)."""
        L, H = self.layers * self.directions, self.n_hidden
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
                    what = "(2L, B, H)" if self.bidirectional else "(L, B, H)"
                    raise ValueError(f"{name}0: expected a float array of shape {what} = ({L}, {B}, {H}), "
                                     f"got {check.describe(v)}")
                check.finite(f"{name}0", v)
                v = v.astype(self.dtype, copy=False)
            for layer in range(L):
                out[layer][name] = v[layer]
        return out

    def weights(self, layer) -> Weights:
        """What the cell's steps read: layer ``layer``'s W, a contiguous W^T, its extra parameters."""
        lp = layer_params(self, layer)
        return Weights.of(self.cell, lp["W"], lp)

    # ---------------------------------------------------------------------------- backward
    def backward(self, trace: Trace, y, mask=None, per_step=False) -> Backward:
        """Back-propagate through time: the loss, its gradients, and every step's errors.

        y: class ids int (T, B) for the softmax output, float (T, B, O) for the identity output.
        mask: optional (T, B), which steps carry a loss (e.g. only the last, many-to-one).
        per_step: also return each step's contribution to each gradient (leading T axis).
        """
        T, B, _ = trace.o.shape
        mask = check.mask(mask, T, B, self.dtype)
        y = check.targets(y, self.output, T, B, self.n_out, self.dtype, mask)   # read where mask != 0
        loss, do, losses = readout_loss(self, trace.o, trace.yhat, y, mask)          # do (T, B, O)
        if trace.outputs is None:
            dh_out, dV, dc = readout_backward(self, do, upward(trace.layers, -1, trace.dropout))   # stage 3
            grads, layer_errors, carry = backward_layers(self, trace.x, trace.layers, dh_out,
                                                         dropout=trace.dropout)                  # 2 and 1
        else:
            dh_out, dV, dc = readout_backward(self, do, trace.h)                     # stage 3 in reverse
            grads, layer_errors, carry = backward_directions(self, trace.x, trace.layers, trace.outputs,
                                                             dh_out, trace.lengths)
        grads.update({"V": dV, "c": dc})
        grads = {name: grads[name] for name in self.params}                          # params' order
        top = layer_errors[-self.directions]
        top["o"] = do
        steps = None
        if per_step and trace.outputs is None:
            steps = per_step_grads(self, trace.x, trace.layers, layer_errors, do, trace.dropout)
        elif per_step:
            steps = per_step_grads_directions(self, trace.x, trace.layers, trace.outputs, layer_errors, do,
                                              trace.lengths)
        d0 = stack_states(carry)
        return Backward(loss=float(loss), losses=losses, grads=grads, dh0=d0["h0"], ds0=d0.get("s0"),
                        errors=top, per_step=steps, layer_errors=tuple(layer_errors))

    # ------------------------------------------------------------------------- conveniences
    def loss(self, x, y, h0=None, mask=None, s0=None, lengths=None, dropout=None) -> float:
        """L for inputs x and targets y (forward and the loss only); dropout: masks, as ``forward``'s."""
        trace = self.forward(x, h0, s0, lengths=lengths, dropout=dropout)
        T, B, _ = trace.o.shape
        mask = check.mask(mask, T, B, self.dtype)
        y = check.targets(y, self.output, T, B, self.n_out, self.dtype, mask)   # read where mask != 0
        return float(readout_loss(self, trace.o, trace.yhat, y, mask)[0])

    def gradients(self, x, y, h0=None, mask=None, per_step=False, s0=None, lengths=None) -> Backward:
        """forward then backward in one call."""
        return self.backward(self.forward(x, h0, s0, lengths=lengths), y, mask=mask, per_step=per_step)

    def copy(self, dtype=None) -> "Network":
        """An independent copy, optionally cast to another float dtype."""
        return copied(self, dtype)

    def set_params(self, params) -> None:
        """Replace the parameters, checking names, shapes and finiteness; cast to the model's dtype."""
        self.params = check.params(params, self.param_shapes(), self.dtype)

    def spec(self) -> dict:
        """What rebuilds this model's shape (checkpoints store it): JSON-able."""
        spec = {"cell": self.cell.name, **self.cell.options(), "layers": self.layers, "n_in": self.n_in,
                "n_hidden": self.n_hidden, "n_out": self.n_out, "output": self.output,
                "dtype": self.dtype.name}
        if self.bidirectional:              # only then, so one-direction checkpoints read as before
            spec["bidirectional"] = True
        return spec


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
                 seed=None, dtype=np.float64, bidirectional=False):
        super().__init__(RNNCell(nonlinearity), n_in, n_hidden, n_out, layers=layers, output=output,
                         seed=seed, dtype=dtype, bidirectional=bidirectional)


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
                 seed=None, dtype=np.float64, bidirectional=False):
        super().__init__(LSTMCell(forget_bias, chrono), n_in, n_hidden, n_out, layers=layers, output=output,
                         seed=seed, dtype=dtype, bidirectional=bidirectional)


class GRU(Network):
    """The gated recurrent unit (``cells.GRUCell``, PyTorch's formulation) with a dense readout.

    U (3H, I), W (3H, H), b (3H,) in PyTorch's gate order r, z, n, and b_hn (H,), the n block's
    recurrent bias, which r multiplies; V (O, H), c (O,). ``chrono=T_max`` draws the update
    gate's bias as Tallec & Ollivier (2018) (``GRUCell.adjust_init``). Other arguments as ``Network``.
    """

    CELL = "gru"

    def __init__(self, n_in, n_hidden, n_out, *, layers=1, chrono=None, output="softmax", seed=None,
                 dtype=np.float64, bidirectional=False):
        super().__init__(GRUCell(chrono), n_in, n_hidden, n_out, layers=layers, output=output, seed=seed,
                         dtype=dtype, bidirectional=bidirectional)


# The classes that name a cell's network; a cell without one gets a plain Network (``create``).
NAMED = {cls.CELL: cls for cls in (SimpleRNN, LSTM, GRU)}
