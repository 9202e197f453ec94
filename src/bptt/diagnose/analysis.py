"""Watch gradients vanish and explode: how much of the error made at step t still reaches h(k).

Each element b's own loss l_b(t) is back-propagated on its own (book eq. 10.21 without the
V term of the later steps, since only L(t) is followed):
    dl(t)/dh(t)   = V^T dl(t)/do(t)
    dl(t)/dh(k-1) = W^T diag(f'(a(k))) dl(t)/dh(k)              for k = t, t-1, ..., 1
The T back-propagations share one reverse walk: at step k every source t >= k is one more
row of a (T, B, H) batch pushed through the cell's own ``step_backward``, so they cost one
walk with T times the batch: O(T^2 B H^2) flops, O(T B H) memory, no Jacobian matrices.

A bidirectional network (10.3) has two chains in its top layer. The forward one runs as above:
the loss at t reaches h_forward(t - lag). The reverse one runs from later steps to earlier
ones, h_reverse(k) = f(a(k) + W_reverse h_reverse(k+1)), so the loss at t reaches
h_reverse(t + lag):
    dl(t)/dh_reverse(k+1) = W_reverse^T diag(f'(a(k))) dl(t)/dh_reverse(k)   for k = t, t+1, ..., T-2
It is walked in its own step order (step i is time T-1-i, as ``stages.forward_directions``
runs it), with the same code, and its norms are put back in time order.

Pascanu, Mikolov and Bengio (2013), "On the difficulty of training recurrent neural
networks": ||dh(k)/dh(k-1)|| <= sigma_max(W) gamma, with gamma a bound on |f'|, so
sigma_max(W) < 1/gamma is sufficient for every chain to shrink geometrically (vanish).

Shape legend: T time, B batch, H hidden, O outputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _threads
from .. import _validate as check
from .._json import number, numbers
from ..nn.network import Network
from ..nn.stages import layer_params, one_direction, param_name
from ..nn.unroll import Weights

RADII = (0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0)
LAGS = (1, 5, 10, 25, 50)
DIRECTIONS = ("forward", "reverse")


@dataclass(frozen=True)
class LagProfile:
    """How errors travel back in time through one model on one batch (one direction of it).

    Attributes:
        norms: (T, T), ``norms[t, k]`` = mean over the elements b with a loss at t of
            ``||dl_b(t)/dh_b(k)||_2`` (l_b(t) not divided by B); NaN for k > t and for rows t
            with no loss.
        ratio: (T,), ``ratio[lag]`` = mean over (t, b) with a loss at t, t >= lag, of
            ``||dl_b(t)/dh_b(t - lag)|| / ||dl_b(t)/dh_b(t)||``; NaN where no such pair exists.
        contribution: (T,), ``||step k's contribution to dL/dW||_F`` (``Backward.per_step["W"]``,
            L averaged over the batch as everywhere in bptt).
        radius, sigma_max: spectral radius and largest singular value of W.
        gamma: the bound on ``|f'|`` of the nonlinearity; vanishing_bound: sigma_max < 1/gamma.
            These four belong to a cell with one square W (the simple RNN); for a gated cell
            they are None: not applicable.
        cell: the cell's name.
        loss: L on this batch.
        direction: "forward", or "reverse" for a bidirectional network's reverse direction,
            whose chain runs from later steps to earlier ones: there ``norms[t, k]`` is
            ``||dl_b(t)/dh_reverse_b(k)||`` for k >= t (NaN for k < t), ``ratio[lag]`` compares
            h_reverse(t + lag) with h_reverse(t), ``contribution[k]`` is the copy of W_reverse
            that makes h_reverse(k) from h_reverse(k+1), and radius, sigma_max are W_reverse's.

    For a stack, the errors followed are those reaching the top layer's h(k).
    """

    norms: np.ndarray
    ratio: np.ndarray
    contribution: np.ndarray
    radius: float | None
    sigma_max: float | None
    gamma: float | None
    vanishing_bound: bool | None
    nonlinearity: str | None
    loss: float
    cell: str = "rnn"
    direction: str = "forward"

    def to_dict(self, *, norms=True) -> dict:
        """JSON-able: lists of floats, None (JSON null) where a value is undefined or infinite."""
        out = {"cell": self.cell, "direction": self.direction, "radius": self.radius, "sigma_max": self.sigma_max, "gamma": self.gamma,
               "vanishing_bound": self.vanishing_bound, "nonlinearity": self.nonlinearity,
               "loss": number(self.loss), "ratio": numbers(self.ratio),
               "contribution": numbers(self.contribution)}
        if norms:
            out["norms"] = numbers(self.norms)
        return out


def spectral_radius(W) -> float:
    """max |eigenvalue| of W (H, H)."""
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def largest_singular_value(W) -> float:
    return float(np.linalg.norm(W, 2))


def square_W(model: Network, layer=None, reverse=False):
    """(W, gamma) where the cell has a notion tied to one square W (the RNN: W of the top
    layer, or its reverse direction's W_reverse, gamma the bound on |f'|), else (None, None):
    not applicable to gated cells."""
    layer = model.layers - 1 if layer is None else layer
    W = np.asarray(model.params[param_name("W", layer, reverse)], dtype=np.float64)
    gamma = model.cell.vanishing_bound(W)
    return (W, gamma) if gamma is not None else (None, None)


def spectral_bound(W, gamma) -> dict:
    """Spectral radius, largest singular value, and Pascanu et al.'s sufficient condition, for
    ``square_W``'s (W, gamma): {"radius", "sigma_max", "gamma", "vanishing_bound"}, all None
    where W is None (not applicable)."""
    if W is None:
        return {"radius": None, "sigma_max": None, "gamma": None, "vanishing_bound": None}
    sigma_max = largest_singular_value(W)
    return {"radius": spectral_radius(W), "sigma_max": sigma_max, "gamma": gamma,
            "vanishing_bound": bool(sigma_max < 1.0 / gamma)}


def lag_profile(model: Network, x, y, h0=None, mask=None, s0=None, *, direction="forward") -> LagProfile:
    """Back-propagate every step's loss on its own and measure what reaches each h(k) of one
    direction's chain: the earlier h(k) for "forward", the later h_reverse(k) of a bidirectional
    network's reverse direction for "reverse" (see ``LagProfile``).

    x, y, h0, mask as in ``SimpleRNN.forward``/``backward`` (h0, s0 (2L, B, H) for a
    bidirectional network); T >= 2. Computed in float64 whatever the model's dtype: the
    quantities of interest are tiny or huge.
    """
    reverse = _direction(model, direction)
    model = model.copy(dtype=np.float64)
    trace = model.forward(x, h0, s0)
    T, B = trace.o.shape[:2]
    _require_two_steps(T)
    has_loss = loss_steps(mask, T, B)
    result = model.backward(trace, y, mask=mask)
    # Walked in the direction's own step order, where its chain runs back from i to i - lag.
    own_loss = has_loss[::-1] if reverse else has_loss
    norms = element_norms(model, trace, result, max_lag=T - 1, reverse=reverse)        # (T, T, B)
    ratio = lag_ratio(norms, own_loss, range(T))
    i = _top_index(model, reverse)
    dr = result.layer_errors[i][model.cell.errors[-1]]                       # the recurrent side's error
    contribution = _per_step_norms(dr, trace.layers[i].states["h"][:-1])     # (T,)
    if reverse:                                                              # back to time order
        norms, contribution = norms[::-1, ::-1], contribution[::-1]
    return LagProfile(norms=_mean_over_batch(norms, has_loss), ratio=ratio,
                      contribution=np.ascontiguousarray(contribution),
                      **spectral_bound(*square_W(model, reverse=reverse)),
                      nonlinearity=model.nonlinearity, loss=result.loss, cell=model.cell.name,
                      direction=DIRECTIONS[reverse])


def directions(model) -> tuple:
    """The directions ``lag_profile`` can follow in ``model``: ("forward",) or ("forward", "reverse")."""
    return DIRECTIONS[:2 if getattr(model, "bidirectional", False) else 1]


def _direction(model, direction) -> bool:
    """True for the reverse direction, after checking that ``model`` has it."""
    allowed = directions(model)
    if direction not in allowed:
        what = "a bidirectional" if getattr(model, "bidirectional", False) else "a unidirectional"
        raise ValueError(f"direction: expected {' or '.join(map(repr, allowed))} for {what} network, "
                         f"got {direction!r}")
    return direction == "reverse"


def _top_index(model, reverse=False) -> int:
    """Where the top layer's direction is in ``Trace.layers`` and ``Backward.layer_errors``."""
    D = 2 if getattr(model, "bidirectional", False) else 1
    return D * (model.layers - 1) + int(reverse)


def radius_sweep(model: Network, x, y, radii=RADII, *, h0=None, mask=None) -> dict:
    """{radius: LagProfile} with W rescaled to each spectral radius, everything else unchanged.

    Same weights direction, same inputs: only how strongly W amplifies changes, so the lag
    curves fan out from vanishing (radius < 1) to exploding (radius > 1, for a linear f).
    """
    one_direction(model, "the radius sweep")
    radii = _radii(radii)
    W, _ = square_W(model)
    if W is None or model.layers > 1:
        raise ValueError(f"model: expected a one-layer cell with one square W to rescale, got "
                         f"{model.layers} layer(s) of the {model.cell.name} cell: the radius sweep is "
                         f"not applicable")
    rho = spectral_radius(W)
    if not rho > 0:
        raise ValueError(f"model.params['W']: expected a nonzero spectral radius to rescale, got {rho}")
    sweep = {}
    for r in radii:
        scaled = model.copy(dtype=np.float64)
        scaled.params["W"] = scaled.params["W"] * (r / rho)
        sweep[r] = lag_profile(scaled, x, y, h0, mask)
    return sweep


# --------------------------------------------------------------------------------- the walk
def element_norms(model, trace, result, max_lag, reverse=False):
    """||dl_b(t)/dh_b(k)||_2 for every source t, every k in [t - max_lag, t], every element b.

    trace, result: ``model.forward`` and ``model.backward`` on the batch (float64), without
    lengths. reverse: follow a bidirectional network's reverse direction, in its own step order
    (step i is time T-1-i): the result is then indexed by those steps, its chain running from
    i back to i - lag as the forward one's does (time t to t + lag).

    Returns (T, T, B) indexed [t, k, b], NaN where k > t or t - k > max_lag. Each source's
    chain is one more row of a (T, B, ...) batch pushed through the top layer's own
    ``step_backward``: at step k, rows k .. k + max_lag are live.
    """
    T, B = trace.o.shape[:2]
    cell, H = model.cell, model.n_hidden
    top = trace.layers[_top_index(model, reverse)]
    GH = cell.gates * H
    lp = layer_params(model, model.layers - 1, reverse)
    P = Weights.of(cell, lp["W"], lp)
    # The losses average over the batch; each element's own l(t) is B times its share. The
    # readout reads [h_forward; h_reverse]: this direction's columns of V.
    V = model.params["V"][:, H:] if reverse else model.params["V"][:, :H]
    dh_own = (result.errors["o"] * B) @ V                            # (T, B, H): dl_b(t)/dh_b(t)
    if reverse:
        dh_own = dh_own[::-1]                                        # the direction's own step order
    local = cell.backward_locals(top.states, top.keeps, {n: np.empty((T, B, GH)) for n in cell.errors})
    carry = [np.zeros((T, B, H)) for _ in cell.states]             # row t: what reaches step k from k+1, for source t
    dstate = [np.empty((T, B, H)) for _ in cell.states]            # row t: dl(t)/d state(k)
    errs = [np.empty((T, B, GH)) for _ in cell.errors]             # scratch for dl(t)/da(k)
    dout = np.zeros((T, B, H))                                     # row t: dh_own[k] if t == k, else 0
    norms = np.full((T, T, B), np.nan)                             # (T, T, B)
    # exploding chains may reach inf; the steps' products are small: one BLAS thread (_threads.py)
    with np.errstate(over="ignore", invalid="ignore"), _threads.for_steps(T * B, H, GH):
        for k in reversed(range(T)):
            hi = min(T, k + max_lag + 1)                         # sources within max_lag of k
            live = slice(k, hi)
            for c in carry:
                c[k] = 0                                         # source k's chain starts here
            if k + 1 < hi:
                dout[k + 1] = 0
            dout[k] = dh_own[k]
            cell.step_backward(P, *(c[live] for c in carry), dout[live], *(d[live] for d in dstate),
                               *(arr[k] for arr in local), *(e[live] for e in errs))
            dh = dstate[0][live]                                 # (n, B, H): dl(t)/dh(k), t = k .. hi-1
            norms[live, k] = np.sqrt(np.einsum("nbh,nbh->nb", dh, dh))
    return norms


def _per_step_norms(da, h_prev):
    """||dL/da(k) h(k-1)^T||_F for every k, without forming the (T, H, H) contributions.

    The contribution of step k to dL/dW is sum_b da_b h_b^T (``Backward.per_step["W"]``); its
    squared Frobenius norm is sum over b, c of (da_b . da_c)(h_b . h_c): two (T, B, B) Gram
    matrices instead of T H^2 numbers built only to be summed.
    """
    gram_a = np.einsum("tbh,tch->tbc", da, da)                    # (T, B, B)
    gram_h = np.einsum("tbh,tch->tbc", h_prev, h_prev)            # (T, B, B)
    return np.sqrt(np.maximum(np.einsum("tbc,tbc->t", gram_a, gram_h), 0.0))


def _mean_over_batch(element_norms, has_loss):
    """(T, T, B) -> (T, T): the mean over the elements with a loss at t; NaN if there are none."""
    weight = has_loss[:, None, :]                                # (T, 1, B)
    count = has_loss.sum(axis=1)[:, None]                        # (T, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.where(weight, element_norms, 0.0).sum(axis=2)
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def lag_ratio(element_norms, has_loss, lags):
    """ratio[lag] for the lags asked (NaN elsewhere), a (T,) array: ``LagProfile.ratio`` from
    ``element_norms`` (T, T, B) and ``loss_steps`` (T, B)."""
    T = element_norms.shape[0]
    own = element_norms[np.arange(T), np.arange(T)]               # (T, B): ||dl(t)/dh(t)||
    usable = has_loss & (own > 0)                                 # a ratio needs a nonzero start
    ratio = np.full(T, np.nan)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for lag in lags:
            t = np.arange(lag, T)
            sel = usable[t]                                       # (T - lag, B)
            if sel.any():
                ratio[lag] = np.mean(element_norms[t, t - lag][sel] / own[t][sel])
    return ratio


def loss_steps(mask, T, B):
    """(T, B) bool: which steps of which elements carry a loss (all without a mask)."""
    if mask is None:
        return np.ones((T, B), dtype=bool)
    return check.mask(mask, T, B, np.float64) != 0


def _require_two_steps(T):
    if T < 2:
        raise ValueError(f"x: expected at least 2 time steps (T >= 2) to measure errors across "
                         f"time, got T={T}")


def _radii(radii):
    try:
        values = [float(r) for r in radii]
    except (TypeError, ValueError):
        raise ValueError(f"radii: expected a sequence of positive numbers, got {radii!r}") from None
    bad = [r for r in values if not (math.isfinite(r) and r > 0)]
    if not values or bad:
        raise ValueError(f"radii: expected a non-empty sequence of positive finite numbers, "
                         f"got {(bad[0] if bad else radii)!r}")
    return values
