"""Gradient diagnostics during training: one JSON record per ``--diagnose-every`` updates.

The record holds the sizes of the gradient, the parameters and the update, the radius and
largest singular value of a square W where the cell has one (None otherwise), the fraction of
clipped updates, and ``lag_profile``'s ratios at a few lags, cheaply (a few elements of the
batch, back-propagated only as far as the largest lag).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .. import _validate as check
from .._json import number
from ..nn.network import Network
from .analysis import LAGS, element_norms, lag_ratio, loss_steps, spectral_bound, square_W


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
    bound = spectral_bound(*square_W(model))
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
    has_loss = loss_steps(mask, T, B)
    result = f64.backward(trace, y, mask=mask)
    norms = element_norms(f64, trace, result, max_lag=min(max(lags), T - 1))
    ratio = lag_ratio(norms, has_loss, [lag for lag in lags if lag < T])
    for lag in lags:
        record[ratio_key(lag)] = number(ratio[lag]) if lag < T else None
    return {k: number(v) if isinstance(v, float) else v for k, v in record.items()}


def load_metrics(path) -> list:
    """The records of a ``metrics.jsonl`` that carry ``step`` and any diagnostics key, in order."""
    path = Path(path)
    records = []
    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{str(path)!r}: expected UTF-8 JSON lines, got an undecodable byte at offset "
                         f"{err.start}") from None
    for lineno, line in enumerate(raw.split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):   # "[[[[..." deeper than the parser's stack
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


def _first_elements(x, y, h0, mask, n):
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim >= 2 and x.shape[1] > n:
        x, y = x[:, :n], y[:, :n]
        h0 = None if h0 is None else np.asarray(h0)[:n]
        mask = None if mask is None else np.asarray(mask)[:, :n]
    return x, y, h0, mask


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
