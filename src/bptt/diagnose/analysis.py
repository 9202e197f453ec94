"""Watch gradients vanish and explode: how much of the error made at step t still reaches h(k).

Each element b's own loss l_b(t) is back-propagated on its own (book eq. 10.21 without the
V term of the later steps, since only L(t) is followed):
    dl(t)/dh(t)   = V^T dl(t)/do(t)
    dl(t)/dh(k-1) = W^T diag(f'(a(k))) dl(t)/dh(k)              for k = t, t-1, ..., 1
The T back-propagations share one reverse walk: at step k every source t >= k is one more
row of a (T, B, H) batch pushed through the cell's own ``step_backward``, so they cost one
walk with T times the batch: O(T^2 B H^2) flops, O(T B H) memory, no Jacobian matrices.

Pascanu, Mikolov and Bengio (2013), "On the difficulty of training recurrent neural
networks": ||dh(k)/dh(k-1)|| <= sigma_max(W) gamma, with gamma a bound on |f'|, so
sigma_max(W) < 1/gamma is sufficient for every chain to shrink geometrically (vanish).

Shape legend: T time, B batch, H hidden, O outputs.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import _validate as check
from ..network import Network

RADII = (0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0)
LAGS = (1, 5, 10, 25, 50)


@dataclass(frozen=True)
class LagProfile:
    """How errors travel back in time through one model on one batch.

    norms (T, T): norms[t, k] = mean over the elements b with a loss at t of
        ||dl_b(t)/dh_b(k)||_2 (l_b(t) not divided by B); NaN for k > t and for rows t with no loss.
    ratio (T,): ratio[lag] = mean over (t, b) with a loss at t, t >= lag, of
        ||dl_b(t)/dh_b(t - lag)|| / ||dl_b(t)/dh_b(t)||; NaN where no such pair exists.
    contribution (T,): ||step k's contribution to dL/dW||_F (``Backward.per_step["W"]``,
        L averaged over the batch as everywhere in bptt).
    radius, sigma_max: spectral radius and largest singular value of W.
    gamma: the bound on |f'| of the nonlinearity; vanishing_bound: sigma_max < 1/gamma.
    These four belong to a cell with one square W (the simple RNN); for a gated cell they are
    None: not applicable. cell: the cell's name. loss: L on this batch.
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

    def to_dict(self, *, norms=True) -> dict:
        """JSON-able: lists of floats, None (JSON null) where a value is undefined or infinite."""
        out = {"cell": self.cell, "radius": self.radius, "sigma_max": self.sigma_max, "gamma": self.gamma,
               "vanishing_bound": self.vanishing_bound, "nonlinearity": self.nonlinearity,
               "loss": _number(self.loss), "ratio": _numbers(self.ratio),
               "contribution": _numbers(self.contribution)}
        if norms:
            out["norms"] = _numbers(self.norms)
        return out


def spectral_radius(W) -> float:
    """max |eigenvalue| of W (H, H)."""
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def largest_singular_value(W) -> float:
    return float(np.linalg.norm(W, 2))


def square_W(model: Network, layer=None):
    """(W, gamma) where the cell has a notion tied to one square W (the RNN: W of the top
    layer, gamma the bound on |f'|), else (None, None): not applicable to gated cells."""
    layer = model.layers - 1 if layer is None else layer
    W = np.asarray(model.params["W" + ("" if layer == 0 else f"_l{layer}")], dtype=np.float64)
    gamma = model.cell.vanishing_bound(W)
    return (W, gamma) if gamma is not None else (None, None)


def _bound(W, gamma) -> dict:
    """Spectral radius, largest singular value, and Pascanu et al.'s sufficient condition."""
    if W is None:
        return {"radius": None, "sigma_max": None, "gamma": None, "vanishing_bound": None}
    sigma_max = largest_singular_value(W)
    return {"radius": spectral_radius(W), "sigma_max": sigma_max, "gamma": gamma,
            "vanishing_bound": bool(sigma_max < 1.0 / gamma)}


def lag_profile(model: Network, x, y, h0=None, mask=None, s0=None) -> LagProfile:
    """Back-propagate every step's loss on its own and measure what reaches each earlier h(k).

    x, y, h0, mask as in ``SimpleRNN.forward``/``backward``; T >= 2. Computed in float64
    whatever the model's dtype: the quantities of interest are tiny or huge.
    """
    model = model.copy(dtype=np.float64)
    trace = model.forward(x, h0, s0)
    T, B, _ = trace.h.shape
    _require_two_steps(T)
    has_loss = _has_loss(mask, T, B)
    result = model.backward(trace, y, mask=mask)
    element_norms = _element_norms(model, trace, result, max_lag=T - 1)      # (T, T, B)
    dr = result.errors[model.cell.errors[-1]]                                # the recurrent side's error
    contribution = _per_step_norms(dr, trace.hs[:-1])                        # (T,)
    return LagProfile(norms=_mean_over_batch(element_norms, has_loss),
                      ratio=_lag_ratio(element_norms, has_loss, range(T)),
                      contribution=contribution, **_bound(*square_W(model)),
                      nonlinearity=model.nonlinearity, loss=result.loss, cell=model.cell.name)


def radius_sweep(model: Network, x, y, radii=RADII, *, h0=None, mask=None) -> dict:
    """{radius: LagProfile} with W rescaled to each spectral radius, everything else unchanged.

    Same weights direction, same inputs: only how strongly W amplifies changes, so the lag
    curves fan out from vanishing (radius < 1) to exploding (radius > 1, for a linear f).
    """
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


# --------------------------------------------------------------------------- during training
METRIC_KEYS = ("grad_norm", "param_norm", "grad_param_ratio", "update_param_ratio",
               "radius_W", "sigma_max_W", "vanishing_bound", "clipped_fraction")


def ratio_key(lag: int) -> str:
    return f"ratio_lag_{lag}"


def training_metrics(model: Network, x, y, h0, grads, params_before=None, clipped=False,
                     lags=LAGS, *, mask=None, max_batch=4) -> dict:
    """One record of gradient diagnostics for ``metrics.jsonl``: JSON-able numbers only.

    Call it after an update: ``grads`` the gradient that update used (before clipping),
    ``params_before`` a copy of the parameters before it (optional), ``clipped`` whether it
    was clipped, or the fraction of clipped updates since the last record; x, y, h0 (and mask)
    the batch. The lag ratios are those of ``lag_profile`` on the model's current weights,
    on the first ``max_batch`` elements of the batch and back-propagated only max(lags) steps,
    so a record costs about T max(lags) max_batch H^2 flops.

    Keys: grad_norm, param_norm, grad_param_ratio (= grad_norm / param_norm),
    update_param_ratio (||params - params_before|| / ||params_before||, None without
    params_before), radius_W, sigma_max_W, vanishing_bound, clipped_fraction, and
    ratio_lag_<lag> for each lag (None when lag >= T or no loss reaches that far).
    """
    grads = _param_dict("grads", grads, model.params)
    lags = _lags(lags)
    clipped_fraction = _fraction("clipped", clipped)
    before = None if params_before is None else _param_dict("params_before", params_before, model.params)
    grad_norm = _global_norm(grads)
    param_norm = _global_norm(before if before is not None else model.params)
    update_ratio = None
    if before is not None and param_norm > 0:
        update_ratio = _global_norm({k: model.params[k] - before[k] for k in model.params}) / param_norm
    bound = _bound(*square_W(model))
    record = {"grad_norm": grad_norm, "param_norm": param_norm,
              "grad_param_ratio": grad_norm / param_norm if param_norm > 0 else None,
              "update_param_ratio": update_ratio, "radius_W": bound["radius"],
              "sigma_max_W": bound["sigma_max"], "vanishing_bound": bound["vanishing_bound"],
              "clipped_fraction": clipped_fraction}

    f64 = model.copy(dtype=np.float64)
    max_batch = check.positive_int("max_batch", max_batch)
    x, y, h0, mask = _first_elements(x, y, h0, mask, max_batch)
    state0 = h0 if isinstance(h0, dict) else {"h0": h0}
    trace = f64.forward(x, **state0)
    T, B, _ = trace.h.shape
    has_loss = _has_loss(mask, T, B)
    result = f64.backward(trace, y, mask=mask)
    element_norms = _element_norms(f64, trace, result, max_lag=min(max(lags), T - 1))
    ratio = _lag_ratio(element_norms, has_loss, [lag for lag in lags if lag < T])
    for lag in lags:
        record[ratio_key(lag)] = _number(ratio[lag]) if lag < T else None
    return {k: _number(v) if isinstance(v, float) else v for k, v in record.items()}


def load_metrics(path) -> list:
    """The records of a ``metrics.jsonl`` that carry ``step`` and any diagnostics key, in order."""
    path = Path(path)
    records = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise ValueError(f"{str(path)!r} line {lineno}: expected a JSON object, "
                                 f"got {line.strip()[:40]!r}") from None
            if not isinstance(record, dict) or not isinstance(record.get("step"), (int, float)):
                raise ValueError(f"{str(path)!r} line {lineno}: expected a JSON object with a "
                                 f"numeric 'step', got {line.strip()[:40]!r}")
            # plain loss lines carry grad_norm too; a diagnostics record always has radius_W
            # (None for gated cells)
            if "radius_W" in record:
                records.append(record)
    return records


# --------------------------------------------------------------------------------- the walk
def _element_norms(model, trace, result, max_lag):
    """||dl_b(t)/dh_b(k)||_2 for every source t, every k in [t - max_lag, t], every element b.

    Returns (T, T, B) indexed [t, k, b], NaN where k > t or t - k > max_lag. Each source's
    chain is one more row of a (T, B, ...) batch pushed through the top layer's own
    ``step_backward``: at step k, rows k .. k + max_lag are live.
    """
    T, B, H = trace.h.shape
    cell, top = model.cell, trace.layers[-1]
    GH = cell.gates * H
    P = model.weights(model.layers - 1)
    # The losses average over the batch; each element's own l(t) is B times its share.
    dh_own = (result.errors["o"] * B) @ model.params["V"]           # (T, B, H): dl_b(t)/dh_b(t)
    local = cell.backward_locals(top.states, top.keeps, {n: np.empty((T, B, GH)) for n in cell.errors})
    carry = [np.zeros((T, B, H)) for _ in cell.states]             # row t: what reaches step k from k+1, for source t
    dstate = [np.empty((T, B, H)) for _ in cell.states]            # row t: dl(t)/d state(k)
    errs = [np.empty((T, B, GH)) for _ in cell.errors]             # scratch for dl(t)/da(k)
    dout = np.zeros((T, B, H))                                     # row t: dh_own[k] if t == k, else 0
    norms = np.full((T, T, B), np.nan)                             # (T, T, B)
    with np.errstate(over="ignore", invalid="ignore"):           # exploding chains may reach inf
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


def _lag_ratio(element_norms, has_loss, lags):
    """ratio[lag] for the lags asked (NaN elsewhere), a (T,) array."""
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


def _has_loss(mask, T, B):
    if mask is None:
        return np.ones((T, B), dtype=bool)
    return check.mask(mask, T, B, np.float64) != 0


def _require_two_steps(T):
    if T < 2:
        raise ValueError(f"x: expected at least 2 time steps (T >= 2) to measure errors across "
                         f"time, got T={T}")


def _first_elements(x, y, h0, mask, n):
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim >= 2 and x.shape[1] > n:
        x, y = x[:, :n], y[:, :n]
        h0 = None if h0 is None else np.asarray(h0)[:n]
        mask = None if mask is None else np.asarray(mask)[:, :n]
    return x, y, h0, mask


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


def _lags(lags):
    try:
        values = [int(lag) for lag in lags]
    except (TypeError, ValueError):
        raise ValueError(f"lags: expected a sequence of positive integers, got {lags!r}") from None
    if not values or any(lag <= 0 for lag in values) or any(int(a) != a for a in lags):
        raise ValueError(f"lags: expected a non-empty sequence of positive integers, got {lags!r}")
    return values


def _fraction(name, value):
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a bool or a fraction in [0, 1], got {value!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: expected a bool or a fraction in [0, 1], got {value!r}")
    return value


def _param_dict(name, arrays, params):
    if not isinstance(arrays, dict) or set(arrays) != set(params):
        got = sorted(arrays) if isinstance(arrays, dict) else type(arrays).__name__
        raise ValueError(f"{name}: expected a dict of arrays for {', '.join(params)}, got {got}")
    return {k: np.asarray(arrays[k], dtype=np.float64) for k in params}


def _global_norm(arrays) -> float:
    """The L2 norm of all arrays laid end to end."""
    return float(math.sqrt(sum(float(np.sum(np.square(a, dtype=np.float64))) for a in arrays.values())))


def _number(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _numbers(arr):
    """Nested lists of floats, None for NaN and infinities (JSON has neither)."""
    def clean(v):
        return [clean(u) for u in v] if isinstance(v, list) else _number(v)
    return clean(np.asarray(arr, dtype=np.float64).tolist())
