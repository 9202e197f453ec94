"""The network's three stages as functions, forward and backward, for any cell and any stack.

    1. input projection, all T at once:    b + U x(t)                project_inputs
    2. the recurrence, one step at a time: the cell's step pair       layer_forward (1 + 2), forward_layers
    3. readout, all T at once:             o(t) = c + V h(t), yhat   readout, readout_loss
Backward runs them in reverse: readout_backward over all T; each layer's reverse loop from the
top down, then its dU, dW, db as single products over all steps (layer_backward,
backward_layers); per_step_grads keeps each step's contribution apart. ``stepper`` and
``step_readout`` are the stages for one time step, as generation runs them. Dropout (``dropout``
masks, ``dropout.py``) multiplies what each layer sends up (``upward``) and the error coming down.

``Network.forward``/``backward`` are these functions put together; truncated BPTT, recomputing
BPTT, sampling, the diagnostics, the explain page and the checker's reference call them too.
Layer-level functions take a cell and one layer's parameters {"U", "W", "b", extras} (the
names of layer 0; ``layer_params`` gives any layer's under them); model-level ones take a
``Network``. ``scratch(name, shape, dtype)`` is where a function takes the arrays it writes:
fresh ones by default, a ``Workspace``'s to reuse them from one update to the next.

Parameters by name (``param_name``, the one rule): layer 0's U, W, b (as the book names them),
layer l's U_l<l>, W_l<l>, b_l<l>, and the cell's extras (b_hn) likewise; the readout's V, c.
A bidirectional network's reverse direction has the same names with "_reverse" appended
(U_reverse, W_l1_reverse, b_hn_reverse), as PyTorch names weight_ih_l0_reverse.

Bidirectional networks and ``lengths`` (Goodfellow et al. 10.3): ``forward_directions`` and
``backward_directions`` run every layer once forward in time and, for a bidirectional network,
once more over each sequence reversed within its own length (an index gather, ``reverse_steps``),
through the same ``layer_forward``/``layer_backward``, so every cell has both directions.

Shape legend: T time, B batch, I inputs, H hidden, O outputs, L layers, G gate blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cells._scratch import fresh
from .dense import dense_backward, dense_backward_per_step, dense_forward, dense_grads, dense_step_forward
from .embedding import embedding_backward, embedding_backward_per_step, embedding_forward, embedding_table
from .losses import LOSSES, OUTPUTS
from .unroll import Weights, backward_through_time, forward_through_time


# ------------------------------------------------------------------------ parameters by name
def suffix(layer: int) -> str:
    """What layer ``layer``'s names end in: "" for layer 0, "_l<l>" for the others."""
    return "" if layer == 0 else f"_l{layer}"


REVERSE = "_reverse"


def param_name(name: str, layer: int, reverse: bool = False) -> str:
    """The name of layer ``layer``'s parameter ``name`` ("U", "W", "b", "b_hn"): U, U_l1, ...,
    and the reverse direction's U_reverse, U_l1_reverse, ..."""
    return name + suffix(layer) + (REVERSE if reverse else "")


def split_param_name(name: str) -> tuple:
    """The inverse of ``param_name``: "W_l2" -> ("W", 2), "b_hn" -> ("b_hn", 0), "V" -> ("V", 0);
    the reverse direction's "W_l2_reverse" -> ("W_reverse", 2)."""
    tail = REVERSE if name.endswith(REVERSE) else ""
    base, sep, layer = name[:len(name) - len(tail)].rpartition("_l")
    return (base + tail, int(layer)) if sep and layer.isdigit() else (name, 0)


def param_shapes(cell, n_in, n_hidden, n_out, layers=1, bidirectional=False) -> dict:
    """{name: shape} of every parameter of ``layers`` layers of ``cell`` and the readout, layer by
    layer: U (G*H, I) (U_l<l> (G*H, D*H)), W (G*H, H), b (G*H,), the cell's extras, V (O, D*H),
    c (O,); D = 2 directions if ``bidirectional`` (each layer's reverse names after its forward ones)."""
    I, H, O, G = n_in, n_hidden, n_out, cell.gates
    D = 2 if bidirectional else 1
    shapes = {}
    for layer in range(layers):
        for reverse in (False, True)[:D]:
            shapes.update({param_name("U", layer, reverse): (G * H, I if layer == 0 else D * H),
                           param_name("W", layer, reverse): (G * H, H), param_name("b", layer, reverse): (G * H,)})
            shapes.update({param_name(name, layer, reverse): shape for name, shape in cell.extra_params(H).items()})
    shapes.update({"V": (O, D * H), "c": (O,)})
    return shapes


def layer_params(model, layer, reverse=False) -> dict:
    """Layer ``layer``'s parameters under layer 0's names: {"U", "W", "b", extras} (the model's
    arrays); ``reverse``: those of its reverse direction."""
    names = ("U", "W", "b", *model.cell.extra_params(model.n_hidden))
    return {name: model.params[param_name(name, layer, reverse)] for name in names}


# ------------------------------------------------------------------- stage 1: the inputs
def project_inputs(x, U, b, out=None):
    """Stage 1 of one layer, every step at once: b + U x(t) -> (T, B, G*H), into ``out`` if given.

    x: token ids int (T, B) (x(t) one-hot: a gather of U's columns, ``embedding.py``), or real
    vectors float (T, B, n), the layer's input or the layer below's h (a dense layer).
    """
    if x.dtype.kind in "iu":
        return embedding_forward(x, U, b, out=out)
    return dense_forward(x, U, b, out=out)


def project_inputs_backward(da, x, U, send_down=False):
    """Stage 1 in reverse: da (T, B, G*H), the error at b + U x(t) -> (dx, dU, db).

    dU = sum_t dL/da(t) x(t)^T (10.28), db = sum_t dL/da(t) (10.23), single products over all
    T*B rows. dx (T, B, n) = U^T dL/da(t), what the layer below's h(t) receives, only if
    ``send_down`` (None otherwise, and always for token ids, which have no gradient).
    """
    if x.dtype.kind in "iu":
        return (None, *embedding_backward(da, x, U.shape[1]))
    if send_down:
        return dense_backward(da, x, U)
    return (None, *dense_grads(da, x))


# --------------------------------------------------------------- stages 1 and 2: a layer
@dataclass(frozen=True)
class LayerTrace:
    """One layer's steps: states {name: (T+1, B, H)} (index 0 the initial state) and what the
    cell keeps for backward {name: (T, B, width*H)}."""

    states: dict
    keeps: dict


def layer_forward(cell, lp, x, state0, scratch=fresh) -> LayerTrace:
    """Stages 1 and 2 of one layer: b + U x(t) for all t, then the recurrence step by step.

    lp: the layer's {"U", "W", "b", extras}; x: int (T, B) or float (T, B, n); state0:
    {name: (B, H)} for each of ``cell.states``.
    """
    U, b = lp["U"], lp["b"]
    T, B = x.shape[:2]
    GH = U.shape[0]
    H = GH // cell.gates
    dt = U.dtype if x.dtype.kind in "iu" else np.result_type(x, U)
    xu = project_inputs(x, U, b, out=scratch("xu", (T, B, GH), dt))                  # (T, B, G*H)
    buffers = ({s: scratch(f"{s}s", (T + 1, B, H), dt) for s in cell.states},
               {k: scratch(k, (T, B, w * H), dt) for k, w in cell.keeps})
    states, keeps = forward_through_time(cell, Weights.of(cell, lp["W"], lp), xu, state0, out=buffers)
    return LayerTrace(states, keeps)


def layer_backward(cell, lp, x, lt: LayerTrace, dh_out, carry=None, scratch=fresh, send_down=False):
    """Stages 2 and 1 of one layer in reverse: the reverse loop, then dU, dW, db over all steps.

    dh_out (T, B, H): what each h(t) receives from above (the readout's V^T dL/do(t), or the
    layer above's U^T dL/da(t)); carry {name: (B, H)}: what later steps send back into the last
    states (None: nothing). Returns (grads {"U", "W", "b", extras}, errors {"h", ("s",) the total
    error at each state (T, B, H), and the cell's errors (T, B, G*H)}, the carry sent to the
    initial states {name: (B, H)}, dx: U^T dL/da(t) (T, B, n) if ``send_down``, else None).
    dW = sum_t e(t)^T h(t-1) (10.26) with e the cell's recurrent-side error.
    """
    T, B, H = dh_out.shape
    GH = cell.gates * H
    buffers = ({n: scratch(f"d{n}", (T, B, H), dh_out.dtype) for n in cell.states},
               {n: scratch(f"e{n}", (T, B, GH), dh_out.dtype) for n in cell.errors})

    def local(name, shape, dtype):
        return scratch(f"local_{name}", shape, dtype)
    dstates, errs, carry0 = backward_through_time(cell, Weights.of(cell, lp["W"], lp), dh_out, lt.states,
                                                  lt.keeps, carry, out=buffers, scratch=local)
    h_prev = lt.states["h"][:-1]                                                      # (T, B, H)
    dW = errs[cell.errors[-1]].reshape(-1, GH).T @ h_prev.reshape(-1, H)              # (G*H, H)
    dx, dU, db = project_inputs_backward(errs[cell.errors[0]], x, lp["U"], send_down)
    errors = {**dstates, **errs}
    grads = {"U": dU, "W": dW, "b": db, **cell.extra_grads(lp, lt.states, lt.keeps, errors)}
    return grads, errors, carry0, dx


def layer_grads_per_step(cell, lp, x, lt: LayerTrace, errors, n_in) -> dict:
    """Each step's contribution to one layer's gradients, leading T axis: {"U" (T, G*H, n),
    "W" (T, G*H, H), "b" (T, G*H), extras}; they sum over T to ``layer_backward``'s grads.

    lp: the layer's {"U", "W", "b", extras}; x: its input, int (T, B) or float (T, B, n); lt: its
    LayerTrace; errors: ``layer_backward``'s; n_in: the vocabulary size for token ids.
    """
    da, dr = errors[cell.errors[0]], errors[cell.errors[-1]]
    if x.dtype.kind in "iu":
        dU_t, db_t = embedding_backward_per_step(da, x, n_in)
    else:
        dU_t, db_t = dense_backward_per_step(da, x)
    h_prev = lt.states["h"][:-1]                                                      # (T, B, H)
    dW_t = dense_backward_per_step(dr, h_prev)[0]
    extras = cell.extra_grads(lp, lt.states, lt.keeps, errors, per_step=True)
    return {"U": dU_t, "W": dW_t, "b": db_t, **extras}


# ------------------------------------------------------------------------ the stack
def one_direction(model, what) -> None:
    """Refuse a bidirectional ``model`` where only the forward direction can run (truncated and
    recomputing BPTT over streams, generation): its reverse direction needs each whole sequence."""
    if getattr(model, "bidirectional", False):
        raise ValueError(f"model: expected a unidirectional network for {what} (a bidirectional one "
                         f"reads each sequence from its end), got {model!r}")


def upward(layers, layer, dropout=None):
    """What layer ``layer`` sends up, to the layer above or the readout: its h(t) (T, B, H), times
    its dropout mask ``dropout[layer]`` (T, B, H) if masks are given (``dropout.py``)."""
    h = layers[layer].states["h"][1:]
    return h if dropout is None else h * dropout[layer]


def forward_layers(model, x, state0, work=None, dropout=None) -> list:
    """Stages 1 and 2 for every layer, bottom up: layer l+1 reads layer l's h over all T at once.

    x: the validated input, int (T, B) or float (T, B, I); state0: [{name: (B, H)}] per layer
    (``Network.initial_states``); work: a ``Workspace`` whose arrays to reuse (or None);
    dropout: None, or one mask (T, B, H) per layer for what it sends up (``upward``).
    Returns [LayerTrace] bottom up.
    """
    one_direction(model, "truncated, recomputing or streamed forward passes")
    layers, below = [], x
    for layer in range(model.layers):
        scratch = fresh if work is None else work.scratch(layer)
        lt = layer_forward(model.cell, layer_params(model, layer), below, state0[layer], scratch)
        layers.append(lt)
        below = upward(layers, layer, dropout)                                        # (T, B, H)
    return layers


def backward_layers(model, x, layers, dh_top, carry=None, work=None, dropout=None):
    """Stages 2 and 1 in reverse, from the top layer down.

    x: layer 0's input over the steps; layers: their LayerTraces; dh_top (T, B, H): what the
    readout sends to the top layer's h(t). carry: [{name: (B, H)}] per layer, what later
    steps send back into the last states (None: nothing); work: a ``Workspace`` to reuse;
    dropout: the forward's masks (or None), by which the error going down is multiplied.
    Returns the layers' gradients {name: array}, their errors [{"h", "a", ...}] bottom up,
    and what reaches the initial states [{name: (B, H)}].
    """
    L = model.layers
    grads, errors, carry_out = {}, [None] * L, [None] * L
    dh_out = dh_top if dropout is None else dh_top * dropout[-1]
    for layer in reversed(range(L)):
        below = x if layer == 0 else upward(layers, layer - 1, dropout)
        scratch = fresh if work is None else work.scratch(layer)
        g, errors[layer], carry_out[layer], dh_out = layer_backward(
            model.cell, layer_params(model, layer), below, layers[layer], dh_out,
            None if carry is None else carry[layer], scratch, send_down=layer > 0)
        if dropout is not None and layer > 0:
            dh_out *= dropout[layer - 1]
        grads.update({param_name(name, layer): v for name, v in g.items()})
    return grads, errors, carry_out


def per_step_grads(model, x, layers, layer_errors, do, dropout=None) -> dict:
    """Each step's contribution to every gradient (leading T axis), in ``model.params``' order;
    they sum over T to ``backward_layers``' and ``readout_backward``'s gradients.

    x, layers, dropout: as ``backward_layers``; layer_errors: its errors; do (T, B, O): dL/do(t).
    """
    steps = {}
    for layer, lt in enumerate(layers):
        below = x if layer == 0 else upward(layers, layer - 1, dropout)
        g = layer_grads_per_step(model.cell, layer_params(model, layer), below, lt, layer_errors[layer],
                                 model.n_in)
        steps.update({param_name(name, layer): v for name, v in g.items()})
    steps["V"], steps["c"] = dense_backward_per_step(do, upward(layers, -1, dropout))    # (T, O, H), (T, O)
    return {name: steps[name] for name in model.params}


# ------------------------------------------ both directions, and sequences of their own lengths
def reverse_steps(lengths, T) -> np.ndarray:
    """int (T, B): where step t of each sequence reversed within its own length comes from:
    lengths[b] - 1 - t for t < lengths[b], t itself on the padded steps after it. Applied twice
    it is the identity, so the same gather brings the reverse direction's steps back."""
    t = np.arange(T)[:, None]                                                         # (T, 1)
    return np.where(t < lengths, lengths - 1 - t, t)


def gather_steps(a, index):
    """a (T, B, ...) -> a[index[t, b], b, ...]: each sequence's steps in the order ``index`` gives."""
    return np.take_along_axis(a, index.reshape(index.shape + (1,) * (a.ndim - 2)), axis=0)


def _valid(lengths, T):
    """(T, B, 1) 1.0 on each sequence's own steps, 0.0 on the padding after them (None: no lengths)."""
    return None if lengths is None else (np.arange(T)[:, None] < lengths)[..., None]


def forward_directions(model, x, state0, lengths=None):
    """Stages 1 and 2 for every layer and direction, bottom up (``Network.forward`` with
    ``bidirectional`` or ``lengths``).

    x: int (T, B) or float (T, B, I); state0: [{name: (B, H)}] per layer and direction, in
    PyTorch's order (layer 0 forward, layer 0 reverse, layer 1 forward, ...); lengths: int (B,)
    in [1, T] or None (every sequence T steps). The reverse direction runs ``layer_forward`` on
    each sequence reversed within its own length, so it starts at the sequence's last step.
    Layer l+1 reads [h_forward; h_reverse] (T, B, D*H) in the inputs' time order, zero on the
    padded steps. Returns ([LayerTrace] in that order, each in its own direction's step order,
    [each layer's output (T, B, D*H)] bottom up).
    """
    T, B = x.shape[:2]
    D = 2 if model.bidirectional else 1
    valid = _valid(lengths, T)
    back = reverse_steps(np.full(B, T) if lengths is None else lengths, T) if D == 2 else None
    traces, outputs, below = [], [], x
    for layer in range(model.layers):
        hs = []
        for reverse in (False, True)[:D]:
            seen = gather_steps(below, back) if reverse else below
            lt = layer_forward(model.cell, layer_params(model, layer, reverse), seen, state0[len(traces)])
            traces.append(lt)
            h = lt.states["h"][1:]                                                    # (T, B, H)
            hs.append(gather_steps(h, back) if reverse else h)
        out = hs[0] if D == 1 else np.concatenate(hs, axis=2)                         # (T, B, D*H)
        outputs.append(out if valid is None else out * valid)
        below = outputs[-1]
    return traces, outputs


def backward_directions(model, x, traces, outputs, dh_top, lengths=None):
    """``forward_directions`` in reverse, from the top layer down: each direction's reverse loop
    (``layer_backward``) on its own step order, the reverse one's errors gathered back.

    dh_top (T, B, D*H): what the readout sends to [h_forward; h_reverse]. Returns the gradients
    {name: array}, the errors [{"h", "a", ...}] per layer and direction (PyTorch's order, each in
    its direction's step order), and what reaches the initial states [{name: (B, H)}], likewise.
    """
    T, B = x.shape[:2]
    D, H = (2 if model.bidirectional else 1), model.n_hidden
    valid = _valid(lengths, T)
    back = reverse_steps(np.full(B, T) if lengths is None else lengths, T) if D == 2 else None
    n = len(traces)
    grads, errors, carry_out = {}, [None] * n, [None] * n
    d_out = dh_top
    for layer in reversed(range(model.layers)):
        if valid is not None:
            d_out = d_out * valid                                # padded outputs were set to zero
        below = x if layer == 0 else outputs[layer - 1]
        d_below = None
        for reverse in (False, True)[:D]:
            i = D * layer + reverse
            dh = d_out[..., reverse * H:(reverse + 1) * H]
            seen = gather_steps(below, back) if reverse else below
            dh = gather_steps(dh, back) if reverse else np.ascontiguousarray(dh)
            g, errors[i], carry_out[i], dx = layer_backward(model.cell, layer_params(model, layer, reverse), seen,
                                                            traces[i], dh, send_down=layer > 0)
            grads.update({param_name(name, layer, reverse): v for name, v in g.items()})
            if dx is not None:
                dx = gather_steps(dx, back) if reverse else dx
                d_below = dx if d_below is None else d_below + dx
        d_out = d_below
    return grads, errors, carry_out


def per_step_grads_directions(model, x, traces, outputs, layer_errors, do, lengths=None) -> dict:
    """``per_step_grads`` for ``forward_directions``' traces: each step's contribution to every
    gradient, in ``model.params``' order (the reverse direction's step i is its i-th step, the
    sequence's own step lengths - 1 - i); they sum over T to the gradients."""
    T, B = x.shape[:2]
    D = 2 if model.bidirectional else 1
    back = reverse_steps(np.full(B, T) if lengths is None else lengths, T) if D == 2 else None
    steps = {}
    for i, lt in enumerate(traces):
        layer, reverse = divmod(i, D)
        below = x if layer == 0 else outputs[layer - 1]
        seen = gather_steps(below, back) if reverse else below
        g = layer_grads_per_step(model.cell, layer_params(model, layer, bool(reverse)), seen, lt, layer_errors[i],
                                 model.n_in)
        steps.update({param_name(name, layer, bool(reverse)): v for name, v in g.items()})
    steps["V"], steps["c"] = dense_backward_per_step(do, outputs[-1])                 # (T, O, D*H), (T, O)
    return {name: steps[name] for name in model.params}


# ---------------------------------------------------------------- stage 3: the readout
def readout(model, h, out=None):
    """Stage 3, every step at once: o(t) = c + V h(t) (10.10), yhat(t) = softmax(o(t)) (10.11; or o).

    h (T, B, H): the top layer's; out: (o, yhat) buffers (T, B, O) to write into. Returns (o, yhat).
    """
    o_out, yhat_out = (None, None) if out is None else out
    o = dense_forward(h, model.params["V"], model.params["c"], out=o_out)          # (T, B, O)
    return o, OUTPUTS[model.output](o, out=yhat_out)


def readout_loss(model, o, yhat, y, mask=None, out=None):
    """L = sum_t L(t), averaged over the batch, and dL/do(t): (L, dL/do (T, B, O), l (T, B)).

    y: class ids (T, B) or targets (T, B, O), mask (T, B) or None, as given (checked at the
    edge); l: each element's own l(t), masked. dL/do goes into ``out`` (``out=yhat``
    overwrites yhat). See ``losses.py``.
    """
    return LOSSES[model.output](o, yhat, y, mask, out=out)


def readout_backward(model, do, h, out=None):
    """Stage 3 in reverse over all T: do (T, B, O), h (T, B, H) -> (dL/dh from the readout,
    V^T dL/do(t) (T, B, H), into ``out`` if given; dV = sum_t dL/do(t) h(t)^T (10.24); dc (10.22))."""
    return dense_backward(do, h, model.params["V"], out=out)


# ------------------------------------------------------------------- states per layer
def last_states(layers, lengths=None) -> list:
    """[{name: (B, H)}] per layer: each state after the last step, copied (the traces can go);
    with ``lengths`` (B,), each sequence's state after its own last step."""
    if lengths is None:
        return [{name: v[-1].copy() for name, v in lt.states.items()} for lt in layers]
    rows = np.arange(len(lengths))
    return [{name: v[lengths, rows] for name, v in lt.states.items()} for lt in layers]


def stack_states(per_layer) -> dict:
    """[{name: (B, H)}] per layer -> {"h0": ..., ("s0": ...)} as ``forward`` takes them and
    ``Backward`` returns them: (B, H) for one layer, (L, B, H) for a stack."""
    if len(per_layer) == 1:
        return {f"{name}0": v for name, v in per_layer[0].items()}
    return {f"{name}0": np.stack([s[name] for s in per_layer]) for name in per_layer[0]}


# ------------------------------------------------------ one step at a time (generation)
def stepper(model, B=1):
    """Stages 1 and 2 one time step at a time, as generation runs them: ``step = stepper(model)``,
    then ``state = step(x_t, state)`` for each step.

    x_t: token ids int (B,) or vectors float (B, I); state: [{name: (B, H)}] per layer, the
    states before the step (left as they are). ``step`` returns the states after it in arrays
    of its own, two sets used in turn (nothing allocated per step): the step after next writes
    over them, so copy a state to keep it longer. What every step reads is made once here:
    each layer's W^T (C-contiguous), U and b, layer 0's embedding table (b + U x(t) for one-hot
    x(t) is its row x(t)) and the arrays the cell keeps; make a new stepper when the parameters
    change. For vectors and the layers above, stage 1 multiplies by U^T as a view
    (``dense_step_forward``). Per step this costs what the loop written inline would.
    """
    one_direction(model, "generation")
    cell, p, H = model.cell, model.params, model.n_hidden
    names = cell.states
    layers = [(model.weights(layer), p[param_name("U", layer)], p[param_name("b", layer)],
               [np.empty((B, w * H), dtype=model.dtype) for _, w in cell.keeps])     # scratch (B, width*H)
              for layer in range(model.layers)]
    table = embedding_table(p["U"], p["b"])                                           # (I, G*H)
    sets = [[{n: np.empty((B, H), dtype=model.dtype) for n in names} for _ in layers] for _ in range(2)]

    def step(x_t, state):
        new = sets[1] if state is sets[0] else sets[0]
        below = x_t
        for (P, U, b, keeps), prev, after in zip(layers, state, new):
            xu = table[below] if below.dtype.kind in "iu" else dense_step_forward(below, U, b)   # (B, G*H)
            cell.step_forward(P, xu, *map(prev.__getitem__, names), *after.values(), *keeps)
            below = after["h"]
        return new
    return step


def step_readout(model, state):
    """Stage 3 for one time step: o(t) = c + V h(t) (B, O) from the top layer's state."""
    return dense_step_forward(state[-1]["h"], model.params["V"], model.params["c"])
