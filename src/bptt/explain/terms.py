"""The terms each number on the explain page is summed or multiplied from, one layer at a time.

The side panel substitutes numbers into the equations without doing any maths itself: every
term it shows is computed here from the model's own trace and backward result, and the terms
of an equation add (or multiply) up to what ``forward`` and ``backward`` computed (the tests
check it). All arrays are full-width (T, B, ...) here; ``build_data`` slices the units it shows.

For every cell, with e(t) the error of the cell's recurrent side (``cell.errors[-1]``):
    Ux   U x(t): the input product without b (T, B, G*H), x(t) the layer's input
    Wh   W h(t-1) (T, B, G*H)
    Wda  W^T e(t+1), zero after the last step (T, B, H)
    Vdo  V^T dL/do(t), what the readout sends to the top layer's h(t), or
    Uda  U_l+1^T dL/da_l+1(t), what the layer above sends to a lower layer's h(t)
The cell's own, from its ``page_terms`` (``cells/<name>.py``): the RNN's f'(a(t)), the
gates' pre-activations, the products its equations add up, and the gates' local derivatives.
"""

from __future__ import annotations

import numpy as np

from ..nn.cells import from_next_step
from ..nn.stages import param_name


# The cells the page has a view of (page/<name>.js): the equations it draws are each cell's own.
VIEWS = ("rnn", "lstm", "gru")


def layer_terms(model, trace, result, layer: int) -> dict:
    """{name: (T, B, width)} for layer ``layer`` of ``model``: the terms listed above."""
    cell, p = model.cell, model.params
    if cell.name not in VIEWS:
        raise ValueError(f"model: expected a cell the page can draw ({', '.join(VIEWS)}), got {cell.name!r}")
    lt, errs = trace.layers[layer], result.layer_errors[layer]
    U, W = p[param_name("U", layer)], p[param_name("W", layer)]
    h_prev = lt.states["h"][:-1]                                            # (T, B, H)
    if layer == 0 and trace.x.ndim == 2:
        Ux = U.T[trace.x]                                                   # column x(t) of U
    else:
        below = trace.x if layer == 0 else trace.layers[layer - 1].states["h"][1:]
        Ux = below @ U.T                                                    # (T, B, G*H)
    terms = {"Ux": Ux, "Wh": h_prev @ W.T, "Wda": from_next_step(errs[cell.errors[-1]]) @ W}
    if layer == model.layers - 1:
        terms["Vdo"] = errs["o"] @ p["V"]                                   # (T, B, H)
    else:
        above = result.layer_errors[layer + 1]
        terms["Uda"] = above[cell.errors[0]] @ p[param_name("U", layer + 1)]   # (T, B, H)
    # backward_locals may write into the error buffers it is given: hand it fresh ones.
    scratch = {n: np.empty_like(errs[n]) for n in cell.errors}
    local = cell.backward_locals(lt.states, lt.keeps, scratch)
    terms.update(cell.page_terms(lt.states, lt.keeps, errs, local, terms["Ux"], terms["Wh"],
                                 p[param_name("b", layer)]))
    return terms
