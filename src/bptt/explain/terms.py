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
The cell's own (see ``cells/``):
    pre  the gates' pre-activations (T, B, G*H), which the trace keeps only after their
         nonlinearities: b + Ux + Wh (the GRU's n block: b_n + U_n x + rhn)
    rnn  fprime  f'(a(t))                                            dL/da = fprime dL/dh
    lstm fs, ig  f s(t-1), i g                                       s(t) = fs + ig
         dhs     dL/dh(t) o (1 - tanh(s(t))^2)                      dL/ds(t) = dhs + fds
         fds     f(t+1) dL/ds(t+1), zero after the last step
         local   the gates' local derivatives (T, B, 4H): dL/da_i,f,g = local dL/ds, dL/da_o = local dL/dh
    gru  rhn     r (W_n h(t-1) + b_hn), the n block's recurrent term  a_n = b_n + U_n x + rhn
         zn, zh  (1 - z) n, z h(t-1)                                  h(t) = zn + zh
         zdh     z(t+1) dL/dh(t+1), zero after the last step          dL/dh = out + Wda + zdh
         local   (T, B, 3H) in gate order: dL/da_r = local dL/da_n, dL/da_z,n = local dL/dh
"""

from __future__ import annotations

import numpy as np


# The cells the page has a view of (page/<name>.js): the equations it draws are each cell's own.
VIEWS = ("rnn", "lstm", "gru")


def _after(arr):
    """arr shifted one step back in time: row t holds arr[t+1], the last row zeros."""
    out = np.zeros_like(arr)
    out[:-1] = arr[1:]
    return out


def layer_terms(model, trace, result, layer: int) -> dict:
    """{name: (T, B, width)} for layer ``layer`` of ``model``: the terms listed above."""
    cell, p = model.cell, model.params
    s = "" if layer == 0 else f"_l{layer}"
    lt, errs = trace.layers[layer], result.layer_errors[layer]
    H = model.n_hidden
    U, W = p["U" + s], p["W" + s]
    h_prev = lt.states["h"][:-1]                                            # (T, B, H)
    if layer == 0 and trace.x.ndim == 2:
        Ux = U.T[trace.x]                                                   # column x(t) of U
    else:
        below = trace.x if layer == 0 else trace.layers[layer - 1].states["h"][1:]
        Ux = below @ U.T                                                    # (T, B, G*H)
    terms = {"Ux": Ux, "Wh": h_prev @ W.T, "Wda": _after(errs[cell.errors[-1]]) @ W}
    if layer == model.layers - 1:
        terms["Vdo"] = errs["o"] @ p["V"]                                   # (T, B, H)
    else:
        above = result.layer_errors[layer + 1]
        terms["Uda"] = above[cell.errors[0]] @ p[f"U_l{layer + 1}"]         # (T, B, H)
    # backward_locals may write into the error buffers it is given: hand it fresh ones.
    scratch = {n: np.empty_like(errs[n]) for n in cell.errors}
    local = cell.backward_locals(lt.states, lt.keeps, scratch)
    if cell.name == "rnn":
        terms["fprime"], = local
    elif cell.name == "lstm":
        A, D, f = local
        gates, s_prev = lt.keeps["gates"], lt.states["s"][:-1]
        i, g = gates[..., :H], gates[..., 2 * H:3 * H]
        terms.update(pre=terms["Ux"] + terms["Wh"] + p["b" + s], fs=f * s_prev, ig=i * g, dhs=errs["h"] * A,
                     fds=_after(f * errs["s"]), local=D)
    elif cell.name == "gru":
        N, Dz, R, r, z = local
        n, hn = lt.keeps["gates"][..., 2 * H:], lt.keeps["hn"]
        pre = terms["Ux"] + terms["Wh"] + p["b" + s]
        pre[..., 2 * H:] += r * hn - terms["Wh"][..., 2 * H:]             # r (W_n h(t-1) + b_hn) for W_n h(t-1)
        terms.update(pre=pre, rhn=r * hn, zn=(1 - z) * n, zh=z * h_prev, zdh=_after(z * errs["h"]),
                     local=np.concatenate([R, Dz, N], axis=-1))
    else:
        raise ValueError(f"model: expected a cell the page can draw ({', '.join(VIEWS)}), got {cell.name!r}")
    return terms
