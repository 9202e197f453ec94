"""Training with a gradient computed forward in time: ``--gradient rtrl | uoro | snap1``.

Truncated BPTT (``--gradient bptt``, the default) renews the parameters every k1 steps with a
gradient back-propagated through at most k2 steps. The forward-in-time methods
(``nn/rtrl.py``, ``nn/uoro.py``, ``nn/snap.py``) also renew the parameters every k1 =
``--seq-length`` steps, but their gradient reaches back to the start of the stream: the
influence they carry is never truncated, and nothing of the past is stored. Each update's
gradient is computed with the parameters as they are then, so the influence mixes the
parameters of earlier updates: real-time recurrent learning's online approximation.

Exact RTRL costs B Z^2 P multiply-adds per step (Z the state's width, P the recurrent
parameters); it is refused where that exceeds ``RTRL_MAX_MADDS`` per step.

Shape legend: T time, B batch (streams), H hidden, Z = S*H the state's width.
"""

from __future__ import annotations

import numpy as np

from ..nn.rtrl import rtrl_walk
from ..nn.snap import snap_walk
from ..nn.truncated import Update
from ..nn.uoro import uoro_walk

GRADIENTS = ("bptt", "rtrl", "uoro", "snap1")
# Exact RTRL's J(t) M(t-1) product, multiply-adds per step. Measured (`python benchmarks/rtrl.py
# limit`: CPU time, one thread, two runs on the shared machine): a text model at the limit, the RNN
# with 65 inputs, H = 62, B = 32 (9.8e8 per step), took 0.06 and 0.09 s per step in float32, 0.10
# and 0.19 s in float64: 4 to 12 s per update of 64 steps. Above it a run is refused: the text
# defaults (H = 128, B = 32) would need over 1e10.
RTRL_MAX_MADDS = 1e9
RTRL_MAX_BYTES = 1 << 30


def rtrl_cost(cell, I, H, B, itemsize=8) -> tuple[int, int]:
    """(multiply-adds per step, bytes) of exact RTRL: J(t) M(t-1) is B Z^2 P, and M with the
    buffer of its next value 2 B Z P entries (P = G H (I + H + 1) and the cell's extras)."""
    P = cell.gates * H * (I + H + 1) + sum(int(np.prod(s)) for s in cell.extra_params(H).values())
    Z = len(cell.states) * H
    return B * Z * Z * P, 2 * B * Z * P * itemsize


def check_fits(gradient, model, B) -> None:
    """Refuse, with one line naming the flag, a forward-in-time gradient this model cannot use,
    or exact RTRL where its cost per step would not fit."""
    check_spec_fits(gradient, model.cell, model.n_in, model.n_hidden, model.layers, B, model.dtype)


def check_spec_fits(gradient, cell, n_in, H, layers, B, dtype) -> None:
    """``check_fits`` from the model's shape alone (a config's, before a model is made)."""
    if gradient == "bptt":
        return
    if layers != 1:
        raise ValueError(f"--gradient: expected bptt with --layers {layers} (rtrl, uoro and snap1 "
                         f"follow one recurrent layer), got {gradient}")
    if gradient != "rtrl":
        return
    itemsize = np.dtype(dtype).itemsize

    def fits(h):
        madds, size = rtrl_cost(cell, n_in, h, B, itemsize)
        return madds <= RTRL_MAX_MADDS and size <= RTRL_MAX_BYTES

    if not fits(H):
        madds, size = rtrl_cost(cell, n_in, H, B, itemsize)
        smaller = max([h for h in range(1, H) if fits(h)], default=None)
        hint = f"--hidden {smaller} or less at this --batch-size" if smaller else "a smaller --batch-size"
        raise ValueError(f"--gradient: expected a model small enough for exact RTRL (at most {RTRL_MAX_MADDS:.0e} "
                         f"multiply-adds per step and {RTRL_MAX_BYTES / 2**20:,.0f} MiB), got rtrl with "
                         f"H = {H}, B = {B}, inputs {n_in}: {madds:.2g} per step and {size / 2**20:,.0f} MiB. "
                         f"Use --gradient snap1 or uoro, or {hint}")


def online_walk(gradient, model, B, rng=None):
    """A fresh ``nn.online.OnlineWalk`` of the method ``gradient`` names, from zero states."""
    if gradient == "rtrl":
        return rtrl_walk(model, B)
    if gradient == "uoro":
        return uoro_walk(model, B, rng if rng is not None else np.random.default_rng(0))
    if gradient == "snap1":
        return snap_walk(model, B)
    raise ValueError(f"--gradient: expected one of {', '.join(GRADIENTS[1:])} for an online walk, got {gradient!r}")


class OnlineUpdates:
    """An online walk along a text's B streams, read as the text trainer reads truncated BPTT's walk.

    ``next_update()`` returns an ``Update`` for the next k1 steps (or None at the end);
    ``position``, ``state0()``, ``state()``, ``state_keys()`` and ``restore()`` as
    ``TruncatedBPTT``'s: the carried states as a one-row history ("hs", "ss" of (1, B, H)) and the
    influence's arrays under "influence/...". UORO's signs for the update starting at step t come
    from ``default_rng([*seed, t])``, so a resumed walk draws what the interrupted one would have.
    """

    def __init__(self, model, x, y, k1, gradient, seed):
        self.model, self.x, self.y, self.k1 = model, x, y, k1
        self.gradient, self.seed = gradient, list(seed)
        self.walk = online_walk(gradient, model, x.shape[1], np.random.default_rng([*self.seed, 0]))
        self.position = 0

    def state0(self) -> dict:
        return {f"{n}0": v for n, v in self.walk.states.items()}

    def next_update(self) -> Update | None:
        start, stop = self.position, min(self.position + self.k1, self.x.shape[0])
        if start >= stop:
            return None
        if self.gradient == "uoro":
            self.walk.influence.rng = np.random.default_rng([*self.seed, start])
        r = self.walk.run(self.x[start:stop], self.y[start:stop])
        self.position = stop
        return Update(loss=r.loss, grads=r.grads, state=r.state, start=start, stop=stop)

    def state(self) -> dict:
        walk = self.walk.state()
        out = {"position": np.array(self.position)}
        out.update({f"{n}s": walk.pop(n)[None] for n in self.model.cell.states})     # (1, B, H)
        out.update(walk)                                                               # influence/...
        return out

    def state_keys(self) -> set:
        return {f"{n}s" for n in self.model.cell.states}

    def restore(self, state: dict) -> None:
        self.position = int(state["position"])
        self.walk.restore({**{n: np.asarray(state[f"{n}s"])[-1] for n in self.model.cell.states},
                           **{k: v for k, v in state.items() if k.startswith("influence/")}})


def sequence_updates(gradient, model, x, y, mask, k1, rng, dropout=None):
    """The updates of one batch of whole sequences (a long-lag task's), as (result, targets) pairs.

    bptt: one, BPTT through each whole sequence. The others: one every k1 steps (k1 None: one
    at the end), from a fresh walk, skipping windows that carry no target; each is computed
    with the parameters as the caller has left them after the previous one. dropout: the
    batch's masks (one (T, B, H) per layer, bptt only) or None.
    """
    if gradient == "bptt":
        yield model.backward(model.forward(x, dropout=dropout), y, mask=mask), float(mask.sum())
        return
    T = x.shape[0]
    k1 = T if k1 is None else k1
    walk = online_walk(gradient, model, x.shape[1], rng)
    for start in range(0, T, k1):
        window = mask[start:start + k1]
        result = walk.run(x[start:start + k1], y[start:start + k1], window)
        if window.sum() > 0:
            yield result, float(window.sum())
