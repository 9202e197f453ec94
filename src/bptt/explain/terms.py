"""The terms each number on the explain page is summed or multiplied from, one shown layer at a time.

The side panel substitutes numbers into the equations without doing any maths itself: every
term it shows is computed here from the model's own trace and backward result, and the terms
of an equation add (or multiply) up to what ``forward`` and ``backward`` computed (the tests
check it). All arrays are full-width (T, B, ...) here; ``build_data`` slices the units it shows.

A shown layer is one run of the cell's recurrence over T steps in its own step order: a layer of
a network, one direction of a bidirectional layer (the reverse one's steps run from the last
to the first), or an encoder-decoder's encoder followed by its decoder, whose first step starts
from the encoder's last state (the context). Its steps fall into segments, each with its own
weights and input (one segment but for the encoder-decoder).

For every cell, with e(t) the error of the cell's recurrent side (``cell.errors[-1]``):
    Ux   U x(t): the input product without b (T, B, G*H), x(t) the layer's input
    Wh   W h(t-1) (T, B, G*H), h(t-1) the state before step t (the context for the decoder's first)
    Wda  W^T e(t+1), zero after the last step (T, B, H), W the next step's (the decoder's W^T
         e(1) at the encoder's last step: what the decoder sends back through the context)
    Vdo  V^T dL/do(t), what the readout sends to the top layer's h(t), or
    Uda  U_l+1^T dL/da_l+1(t), what the layer above sends to a lower layer's h(t)
    (``outside``: whichever of the two the caller computed, in the layer's own step order)
The cell's own, from its ``page_terms`` (``cells/<name>.py``): the RNN's f'(a(t)), the
gates' pre-activations, the products its equations add up, and the gates' local derivatives.
"""

from __future__ import annotations

import numpy as np

from ..nn.cells import from_next_step


# The cells the page has a view of (page/<name>.js): the equations it draws are each cell's own.
VIEWS = ("rnn", "lstm", "gru")


def layer_terms(cell, segments, lt, errs, outside: dict) -> dict:
    """{name: (T, B, width)} for one shown layer: the terms listed above.

    segments: [(start, stop, lp, x)] covering steps 0..T in order, lp the segment's parameters
    under layer 0's names ({"U", "W", "b", extras}) and x its input over those steps (token ids
    (n, B) or floats (n, B, I)); lt: the LayerTrace over all T steps (states (T+1, B, H));
    errs: its errors {"h", "a", ...} (T, B, .); outside: {"Vdo" or "Uda": (T, B, H)}.
    """
    if cell.name not in VIEWS:
        raise ValueError(f"model: expected a cell the page can draw ({', '.join(VIEWS)}), got {cell.name!r}")
    h_prev = lt.states["h"][:-1]                                            # (T, B, H)
    rec_next = from_next_step(errs[cell.errors[-1]])                        # e(t+1), zero at the last step
    Ux, Wh, Wda, b = [], [], np.zeros_like(h_prev), []
    for start, stop, lp, x in segments:
        U, W = lp["U"], lp["W"]
        Ux.append(U.T[x] if x.ndim == 2 else x @ U.T)                       # column x(t) of U, or U x(t)
        Wh.append(h_prev[start:stop] @ W.T)
        first = max(start - 1, 0)                          # the step before the segment hands back through W
        Wda[first:stop - 1] = rec_next[first:stop - 1] @ W
        b.append(np.broadcast_to(lp["b"], (stop - start, *h_prev.shape[1:-1], lp["b"].shape[-1])))
    Ux, Wh = np.concatenate(Ux), np.concatenate(Wh)
    b = segments[0][2]["b"] if len(segments) == 1 else np.concatenate(b)     # (G*H,) or per step (T, B, G*H)
    terms = {"Ux": Ux, "Wh": Wh, "Wda": Wda, **outside}
    # backward_locals may write into the error buffers it is given: hand it fresh ones.
    scratch = {n: np.empty_like(errs[n]) for n in cell.errors}
    local = cell.backward_locals(lt.states, lt.keeps, scratch)
    terms.update(cell.page_terms(lt.states, lt.keeps, errs, local, Ux, Wh, b))
    return terms
