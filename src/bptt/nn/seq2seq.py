"""The encoder-decoder of Goodfellow et al., *Deep Learning*, 10.4, trained with teacher forcing (10.2.1).

    encoder:  h_enc(t) = cell(enc_U x(t) + enc_b, h_enc(t-1))      t = 1..Tx, from zeros
    context:  C = the encoder's last states (h, and s for the LSTM; every layer's)
    decoder:  h_dec(t) = cell(dec_U y_in(t) + dec_b, h_dec(t-1))   t = 1..Ty, from h_dec(0) = C
    readout:  o(t) = c + V h_dec(t), yhat(t) = softmax(o(t))        L = sum_t -log yhat(t)[y(t)], / B

Teacher forcing: the decoder reads y_in, the previous *target* token after a start token, so
training needs no sampling; ``generate`` decodes free-running instead, feeding back its own most
likely token. Both halves are the network's stages (``stages.py``) on their own parameters,
``enc_*`` and ``dec_*`` (``enc_U``, ``enc_W``, ``enc_b``, ``enc_U_l1``, ..., the GRU's
``enc_b_hn``): ``forward_layers`` runs each, ``readout``/``readout_loss``/``readout_backward``
the decoder's top, ``backward_layers`` each in reverse, ``stepper`` the free-running decoder.

Backward: the decoder's reverse loop ends at its initial states; what reaches them is the error
at the context, dL/dC, which enters the encoder's reverse loop as the carry into its last states.
With ``x_lengths`` sequence b's context is its state after its own last step x_lengths[b]; the
encoder's backward then runs in segments between the distinct lengths, and the error at b's
context joins the carry where b ends (steps after it received nothing and give nothing).

Shape legend: Tx encoder steps, Ty decoder steps, B batch, I input symbols, O output symbols,
H hidden, L layers, G gate blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate as check
from .cells import CELLS
from .network import copied
from .stages import (LayerTrace, backward_layers, forward_layers, layer_params, last_states, param_shapes,
                     readout, readout_backward, readout_loss, stack_states, step_readout, stepper)
from .unroll import Weights

__all__ = ["Seq2Seq", "Seq2SeqTrace", "Seq2SeqBackward"]


class _Half:
    """One half (encoder or decoder) as the stage functions read a model: its cell, sizes and its
    parameters under the stages' names (``enc_W_l1`` -> ``W_l1``): the Seq2Seq's own arrays."""

    output = "softmax"

    def __init__(self, model, prefix, n_in):
        self.cell, self.n_in, self.n_hidden, self.layers = model.cell, n_in, model.n_hidden, model.layers
        self.params = {k[len(prefix):]: v for k, v in model.params.items() if k.startswith(prefix)}
        if prefix == "dec_":
            self.params.update(V=model.params["V"], c=model.params["c"])
        self.dtype = model.dtype

    def weights(self, layer) -> Weights:
        """What the cell's steps read: layer ``layer``'s W, a contiguous W^T, its extra parameters."""
        lp = layer_params(self, layer)
        return Weights.of(self.cell, lp["W"], lp)


@dataclass(frozen=True)
class Seq2SeqTrace:
    """What forward keeps. x int (Tx, B), y_in int (Ty, B), x_lengths int (B,) (Tx for every
    sequence when not given); encoder, decoder: one LayerTrace per layer each; context:
    [{name: (B, H)}] per layer, the decoder's initial states; o, yhat (Ty, B, O)."""

    x: np.ndarray
    y_in: np.ndarray
    x_lengths: np.ndarray
    encoder: tuple
    context: list
    decoder: tuple
    o: np.ndarray
    yhat: np.ndarray


@dataclass(frozen=True)
class Seq2SeqBackward:
    """What backward returns. loss: L (float); losses (Ty, B): each element's own l(t), masked;
    grads: like ``params``; errors: the decoder's top layer's {"o", "h", "a", ...} (Ty, B, .);
    decoder_errors, encoder_errors: every layer's, bottom up (the encoder's zero after each
    sequence's end); dh_context, ds_context: dL/dC, the error reaching the context ((B, H) for
    one layer, (L, B, H) for a stack; ds_context None but for the LSTM)."""

    loss: float
    losses: np.ndarray
    grads: dict
    errors: dict
    decoder_errors: tuple
    encoder_errors: tuple
    dh_context: np.ndarray
    ds_context: np.ndarray | None = None


class Seq2Seq:
    """An encoder-decoder: ``layers`` layers of one cell read x, their last states start as many
    decoder layers, which read the teacher-forced y_in; a softmax readout predicts y.

    Args:
        n_in: I, the encoder's input symbols.
        n_hidden: H, hidden units of every layer of both halves.
        n_out: O, the output symbols; the decoder reads them too (y_in, ``start``).
        cell: "lstm", "gru" or "rnn" (tanh), as ``Network.create`` names them.
        layers: L, layers of each half.
        seed: seed of the Generator that draws the initial weights (PyTorch's: every entry
            uniform(-1/sqrt(H), 1/sqrt(H)), then the cell's adjustment).
        dtype: float64 (default, for checking) or float32.

    Parameters: enc_U (G*H, I), enc_W (G*H, H), enc_b (G*H,), enc_U_l<l> (G*H, H), ..., the
    GRU's enc_b_hn; dec_U (G*H, O), dec_W, dec_b, ...; V (O, H), c (O,).

    Example:
        >>> model = Seq2Seq(6, 16, 8, cell="gru", seed=0)
        >>> x = np.array([[1, 2], [3, 4], [5, 0]])            # (Tx=3, B=2)
        >>> y = np.array([[5, 0], [3, 4], [1, 2]])            # reversed: (Ty=3, B=2)
        >>> y_in = np.concatenate([np.full((1, 2), 7), y[:-1]])   # start token 7, then y shifted
        >>> result = model.backward(model.forward(x, y_in), y)
        >>> model.generate(x, start=7, length=3).shape
        (3, 2)
    """

    def __init__(self, n_in, n_hidden, n_out, *, cell="lstm", layers=1, seed=None, dtype=np.float64):
        self.cell = CELLS[check.choice("cell", cell, tuple(CELLS))]()
        self.n_in = check.positive_int("n_in", n_in)
        self.n_hidden = check.positive_int("n_hidden", n_hidden)
        self.n_out = check.positive_int("n_out", n_out)
        self.layers = check.positive_int("layers", layers)
        self.dtype = check.float_dtype("dtype", dtype)
        rng = np.random.default_rng(seed)
        k = 1.0 / np.sqrt(self.n_hidden)
        self.params = {name: rng.uniform(-k, k, shape).astype(self.dtype)
                       for name, shape in self.param_shapes().items()}
        for half in (self.encoder, self.decoder):
            for layer in range(self.layers):
                self.cell.adjust_init(layer_params(half, layer), self.n_hidden, rng)

    def param_shapes(self) -> dict:
        """{name: shape}: the encoder's layers (``enc_``), the decoder's (``dec_``), then V (O, H), c (O,)."""
        H, O, L = self.n_hidden, self.n_out, self.layers
        enc = param_shapes(self.cell, self.n_in, H, O, L)
        dec = param_shapes(self.cell, O, H, O, L)
        readout_shapes = {"V": dec.pop("V"), "c": dec.pop("c")}
        del enc["V"], enc["c"]
        return {**{"enc_" + k: v for k, v in enc.items()}, **{"dec_" + k: v for k, v in dec.items()},
                **readout_shapes}

    @property
    def encoder(self) -> _Half:
        """The encoder as the stages read a model (its parameters are this model's arrays)."""
        return _Half(self, "enc_", self.n_in)

    @property
    def decoder(self) -> _Half:
        """The decoder and the readout as the stages read a model."""
        return _Half(self, "dec_", self.n_out)

    def __repr__(self):
        return (f"Seq2Seq(n_in={self.n_in}, n_hidden={self.n_hidden}, n_out={self.n_out}, "
                f"cell={self.cell.name!r}, layers={self.layers}, dtype={self.dtype.name})")

    # ----------------------------------------------------------------------------- forward
    def encode(self, x, x_lengths=None):
        """The encoder over x (Tx, B): (its LayerTraces, x_lengths (B,), the context [{name: (B, H)}])."""
        x = check.token_ids("x", _ids("x", x), self.n_in)
        lengths = _lengths(x_lengths, *x.shape)
        B, H = x.shape[1], self.n_hidden
        zeros = [{n: np.zeros((B, H), dtype=self.dtype) for n in self.cell.states} for _ in range(self.layers)]
        enc = forward_layers(self.encoder, x, zeros)                                   # stages 1, 2
        if x_lengths is None:
            context = last_states(enc)
        else:
            cols = np.arange(B)
            context = [{n: v[lengths, cols].copy() for n, v in lt.states.items()} for lt in enc]
        return enc, lengths, context

    def forward(self, x, y_in, x_lengths=None) -> Seq2SeqTrace:
        """Encode x, then decode the teacher-forced y_in from the context.

        x: int (Tx, B) ids in [0, n_in); y_in: int (Ty, B) ids in [0, n_out), the previous target
        token after a start token; x_lengths: optional int (B,) in [1, Tx], sequence b being
        x[:x_lengths[b], b] (the context is its state after that step).
        """
        enc, lengths, context = self.encode(x, x_lengths)
        y_in = check.token_ids("y_in", _ids("y_in", y_in), self.n_out)
        if y_in.shape[1] != lengths.shape[0]:
            raise ValueError(f"y_in: expected the batch of x, B = {lengths.shape[0]}, got {check.describe(y_in)}")
        decoder = self.decoder
        dec = forward_layers(decoder, y_in, context)                                  # stages 1, 2
        o, yhat = readout(decoder, dec[-1].states["h"][1:])                           # stage 3
        return Seq2SeqTrace(x=np.asarray(x), y_in=y_in, x_lengths=lengths, encoder=tuple(enc),
                            context=context, decoder=tuple(dec), o=o, yhat=yhat)

    # ---------------------------------------------------------------------------- backward
    def backward(self, trace: Seq2SeqTrace, y, mask=None) -> Seq2SeqBackward:
        """The loss, its gradients for every parameter, the decoder's errors and dL/dC.

        y: int (Ty, B) the target ids; mask: optional (Ty, B), which steps carry a loss.
        """
        Ty, B, _ = trace.o.shape
        y = check.targets(y, "softmax", Ty, B, self.n_out, self.dtype)
        mask = check.mask(mask, Ty, B, self.dtype)
        decoder = self.decoder
        loss, do, losses = readout_loss(decoder, trace.o, trace.yhat, y, mask)             # do (Ty, B, O)
        dh_out, dV, dc = readout_backward(decoder, do, trace.decoder[-1].states["h"][1:])   # stage 3
        dec_grads, dec_errors, dcontext = backward_layers(decoder, trace.y_in, trace.decoder, dh_out)
        dec_errors[-1]["o"] = do
        enc_grads, enc_errors = self._encoder_backward(trace, dcontext)
        grads = {**{"enc_" + k: v for k, v in enc_grads.items()}, **{"dec_" + k: v for k, v in dec_grads.items()},
                 "V": dV, "c": dc}
        d = stack_states(dcontext)
        return Seq2SeqBackward(loss=float(loss), losses=losses, grads={k: grads[k] for k in self.params},
                               errors=dec_errors[-1], decoder_errors=tuple(dec_errors),
                               encoder_errors=tuple(enc_errors), dh_context=d["h0"], ds_context=d.get("s0"))

    def _encoder_backward(self, trace, dcontext):
        """The encoder's reverse loop, dL/dC entering at each sequence's own last step.

        Segments [t0, t1) between the distinct lengths, latest first: at t1 the context error of
        the sequences that end there joins the carry, which each segment hands to the one before.
        """
        encoder, x, lengths, enc = self.encoder, trace.x, trace.x_lengths, trace.encoder
        Tx, B = x.shape
        H = self.n_hidden
        carry = [{n: np.zeros((B, H), dtype=self.dtype) for n in self.cell.states} for _ in range(self.layers)]
        bounds = sorted({0, *lengths.tolist()}, reverse=True)            # t1 > t0 > ... > 0
        grads, errors = {}, [{} for _ in range(self.layers)]
        pieces = [[] for _ in range(self.layers)]
        for t1, t0 in zip(bounds, bounds[1:]):
            ends = lengths == t1
            for layer in range(self.layers):
                for n in self.cell.states:
                    carry[layer][n][ends] += dcontext[layer][n][ends]
            seg = [LayerTrace({n: v[t0:t1 + 1] for n, v in lt.states.items()},
                              {n: v[t0:t1] for n, v in lt.keeps.items()}) for lt in enc]
            g, e, carry = backward_layers(encoder, x[t0:t1], seg, np.zeros((t1 - t0, B, H), dtype=self.dtype),
                                          carry)
            for name, v in g.items():
                grads[name] = v if name not in grads else grads[name] + v
            for layer in range(self.layers):
                pieces[layer].insert(0, e[layer])
        top = bounds[0]
        for layer in range(self.layers):                                 # steps after every end: zeros
            for name in pieces[layer][0]:
                parts = [p[name] for p in pieces[layer]]
                tail = np.zeros((Tx - top, *parts[0].shape[1:]), dtype=self.dtype)
                errors[layer][name] = np.concatenate([*parts, tail])
        return grads, errors

    # ------------------------------------------------------------------------- conveniences
    def loss(self, x, y_in, y, mask=None, x_lengths=None) -> float:
        """L for x, the teacher-forced y_in and the targets y (forward and the loss only)."""
        return self.trace_loss(self.forward(x, y_in, x_lengths), y, mask)

    def trace_loss(self, trace: Seq2SeqTrace, y, mask=None) -> float:
        """L of a forward pass's outputs against the targets y (Ty, B), without backward."""
        Ty, B, _ = trace.o.shape
        y = check.targets(y, "softmax", Ty, B, self.n_out, self.dtype)
        return float(readout_loss(self.decoder, trace.o, trace.yhat, y, check.mask(mask, Ty, B, self.dtype))[0])

    def gradients(self, x, y_in, y, mask=None, x_lengths=None) -> Seq2SeqBackward:
        """forward then backward in one call."""
        return self.backward(self.forward(x, y_in, x_lengths), y, mask)

    def generate(self, x, start, length, x_lengths=None) -> np.ndarray:
        """Greedy free-running decoding: int (length, B), row t the most likely token at step t.

        The first decoder input is ``start`` (an id in [0, n_out)); each step's token is fed back
        as the next input. ``start`` itself is not in the output.
        """
        _, lengths, state = self.encode(x, x_lengths)
        start = check.token_ids("start", np.asarray(start).reshape(1, 1), self.n_out)[0, 0]
        length = check.positive_int("length", length)
        decoder = self.decoder
        step = stepper(decoder, B=lengths.shape[0])
        tokens = np.full(lengths.shape[0], start, dtype=np.intp)                       # (B,)
        out = np.empty((length, lengths.shape[0]), dtype=np.intp)                      # (length, B)
        for t in range(length):
            state = step(tokens, state)
            tokens = out[t] = step_readout(decoder, state).argmax(axis=-1)
        return out

    def copy(self, dtype=None) -> "Seq2Seq":
        """An independent copy, optionally cast to another float dtype."""
        return copied(self, dtype)

    def set_params(self, params) -> None:
        """Replace the parameters, checking names, shapes and finiteness; cast to the model's dtype."""
        self.params = check.params(params, self.param_shapes(), self.dtype)

    def spec(self) -> dict:
        """What rebuilds this model's shape: JSON-able."""
        return {"model": "seq2seq", "cell": self.cell.name, "layers": self.layers, "n_in": self.n_in,
                "n_hidden": self.n_hidden, "n_out": self.n_out, "dtype": self.dtype.name}


def _ids(name, x) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "iu" or x.ndim != 2 or 0 in x.shape:
        raise ValueError(f"{name}: expected token ids as an int array (T, B) with T, B >= 1, got {check.describe(x)}")
    return x


def _lengths(x_lengths, T, B) -> np.ndarray:
    """x_lengths as int (B,) in [1, T]; T for every sequence when None."""
    if x_lengths is None:
        return np.full(B, T, dtype=np.intp)
    v = np.asarray(x_lengths)
    if v.dtype.kind not in "iu" or v.shape != (B,) or (v < 1).any() or (v > T).any():
        raise ValueError(f"x_lengths: expected an int array of shape (B,) = ({B},) with values in [1, Tx] = "
                         f"[1, {T}], got {check.describe(v)}"
                         + (f" holding {v.min()}..{v.max()}" if v.size and v.dtype.kind in "iuf" else ""))
    return v.astype(np.intp)
