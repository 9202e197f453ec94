"""The network's three stages as functions, forward and backward, for any cell and any stack.

    1. input projection, all T at once:    b + U x(t)                project_inputs
    2. the recurrence, one step at a time: the cell's step pair       layer_forward (1 + 2), forward_layers
    3. readout, all T at once:             o(t) = c + V h(t), yhat   readout, readout_loss
Backward runs them in reverse: readout_backward over all T; each layer's reverse loop from the
top down, then its dU, dW, db as single products over all steps (layer_backward,
backward_layers); per_step_grads keeps each step's contribution apart. ``step`` and
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

Shape legend: T time, B batch, I inputs, H hidden, O outputs, L layers, G gate blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cells._scratch import fresh
from .dense import dense_backward, dense_backward_per_step, dense_forward, dense_grads, dense_step_forward
from .embedding import embedding_backward, embedding_backward_per_step, embedding_forward
from .losses import LOSSES, OUTPUTS
from .unroll import Weights, backward_through_time, forward_through_time


# ------------------------------------------------------------------------ parameters by name
def suffix(layer: int) -> str:
    """What layer ``layer``'s names end in: "" for layer 0, "_l<l>" for the others."""
    return "" if layer == 0 else f"_l{layer}"


def param_name(name: str, layer: int) -> str:
    """The name of layer ``layer``'s parameter ``name`` ("U", "W", "b", "b_hn"): U, U_l1, ..."""
    return name + suffix(layer)


def split_param_name(name: str) -> tuple:
    """The inverse of ``param_name``: "W_l2" -> ("W", 2), "b_hn" -> ("b_hn", 0), "V" -> ("V", 0)."""
    base, sep, layer = name.rpartition("_l")
    return (base, int(layer)) if sep and layer.isdigit() else (name, 0)


def param_shapes(cell, n_in, n_hidden, n_out, layers=1) -> dict:
    """{name: shape} of every parameter of ``layers`` layers of ``cell`` and the readout, layer by
    layer: U (G*H, I) (U_l<l> (G*H, H)), W (G*H, H), b (G*H,), the cell's extras, V (O, H), c (O,)."""
    I, H, O, G = n_in, n_hidden, n_out, cell.gates
    shapes = {}
    for layer in range(layers):
        shapes.update({param_name("U", layer): (G * H, I if layer == 0 else H),
                       param_name("W", layer): (G * H, H), param_name("b", layer): (G * H,)})
        shapes.update({param_name(name, layer): shape for name, shape in cell.extra_params(H).items()})
    shapes.update({"V": (O, H), "c": (O,)})
    return shapes


def layer_params(model, layer) -> dict:
    """Layer ``layer``'s parameters under layer 0's names: {"U", "W", "b", extras} (the model's arrays)."""
    names = ("U", "W", "b", *model.cell.extra_params(model.n_hidden))
    return {name: model.params[param_name(name, layer)] for name in names}


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
def last_states(layers) -> list:
    """[{name: (B, H)}] per layer: each state after the last step, copied (the traces can go)."""
    return [{name: v[-1].copy() for name, v in lt.states.items()} for lt in layers]


def stack_states(per_layer) -> dict:
    """[{name: (B, H)}] per layer -> {"h0": ..., ("s0": ...)} as ``forward`` takes them and
    ``Backward`` returns them: (B, H) for one layer, (L, B, H) for a stack."""
    if len(per_layer) == 1:
        return {f"{name}0": v for name, v in per_layer[0].items()}
    return {f"{name}0": np.stack([s[name] for s in per_layer]) for name in per_layer[0]}


# ------------------------------------------------------ one step at a time (generation)
def step(model, x_t, state, weights) -> list:
    """Stages 1 and 2 for one time step of every layer: the states after it.

    x_t: token ids int (B,) or vectors float (B, I); state: [{name: (B, H)}] per layer, the
    states before the step (left as they are); weights: [model.weights(layer) per layer],
    made once for all the steps (each makes its C-contiguous W^T once). For a few rows stage
    1 gathers U's columns for the ids and multiplies by U^T as a view (``dense_step_forward``).
    """
    cell, H = model.cell, model.n_hidden
    new, below = [], x_t
    for layer in range(model.layers):
        lp = layer_params(model, layer)
        if below.dtype.kind in "iu":
            xu = embedding_forward(below, lp["U"], lp["b"])                             # (B, G*H)
        else:
            xu = dense_step_forward(below, lp["U"], lp["b"])
        prev = [state[layer][n] for n in cell.states]
        after = {n: np.empty_like(v) for n, v in zip(cell.states, prev)}
        keeps = [np.empty((xu.shape[0], w * H), dtype=xu.dtype) for _, w in cell.keeps]
        cell.step_forward(weights[layer], xu, *prev, *after.values(), *keeps)
        new.append(after)
        below = after["h"]
    return new


def step_readout(model, state):
    """Stage 3 for one time step: o(t) = c + V h(t) (B, O) from the top layer's state."""
    return dense_step_forward(state[-1]["h"], model.params["V"], model.params["c"])
