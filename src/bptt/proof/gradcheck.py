"""Gradient checking: back-propagation against float64 central differences.

For every checked entry theta_i of a parameter (and of h0):
    numeric_i = (L(theta + eps e_i) - L(theta - eps e_i)) / (2 eps)
and for each array the relative error is the largest entry error over the array's scale:
    rel = max_i |analytic_i - numeric_i| / max(max_i |analytic_i|, max_i |numeric_i|, floor)
Why the array's scale and a floor, not each entry's own magnitude: a float64 central
difference carries round-off of about 1e-16 |L| / eps (~1e-10 for eps = 1e-5 and L ~ 10), so
an entry whose true gradient is 1e-8 cannot be resolved to 1e-6 of itself by any step size.
Measured against the array's largest entry (and never against less than ``floor``), the
same round-off is 1e-6 or less, while a wrong term in backward shows up as an error of the
order of the gradient itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import _validate as check
from ..nn.stages import stack_states


@dataclass(frozen=True)
class CheckRow:
    name: str
    shape: tuple
    checked: int
    total: int
    max_abs_error: float
    scale: float
    max_rel_error: float
    passed: bool


@dataclass(frozen=True)
class GradcheckReport:
    rows: list = field(default_factory=list)
    tol: float = 1e-6
    eps: float = 1e-5

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    @property
    def max_rel_error(self) -> float:
        return max(r.max_rel_error for r in self.rows)

    def __getitem__(self, name) -> CheckRow:
        return next(r for r in self.rows if r.name == name)

    def __str__(self):
        lines = [f"{'param':<6}{'shape':>12}{'checked':>14}{'max abs err':>14}{'scale':>12}{'rel err':>12}  ok"]
        for r in self.rows:
            lines.append(f"{r.name:<6}{str(r.shape):>12}{f'{r.checked}/{r.total}':>14}"
                         f"{r.max_abs_error:>14.2e}{r.scale:>12.2e}{r.max_rel_error:>12.2e}  {'yes' if r.passed else 'NO'}")
        return "\n".join(lines)


def _entries(size, max_entries, rng):
    if max_entries is None or size <= max_entries:
        return np.arange(size)
    return np.sort(rng.choice(size, max_entries, replace=False))


def gradcheck(model, x, y, h0=None, mask=None, *, s0=None, lengths=None, eps=1e-5, tol=1e-6, floor=1e-4,
              max_entries=None, seed=0, dropout=None) -> GradcheckReport:
    """Check ``model.backward`` against central differences of ``model.loss``, in float64.

    Every entry of every parameter and of every initial state (h0, and s0 for the LSTM) is
    checked when max_entries is None; otherwise at
    most max_entries per array, drawn with ``numpy.random.default_rng(seed)``. The model is
    copied to float64 first; it is never modified. ``lengths`` (B,), as ``forward`` takes it,
    checks a padded batch (and a bidirectional model's reverse direction from each sequence's end).
    ``dropout``: fixed masks, as ``forward`` takes them, applied in every evaluation of the loss.
    Returns a GradcheckReport: one row per array with its max relative error; ``.passed``.
    """
    eps = float(eps)
    if not np.isfinite(eps) or eps <= 0:
        raise ValueError(f"eps: expected a positive finite step, got {eps!r}")
    if max_entries is not None:
        check.positive_int("max_entries", max_entries)
    m = model.copy(np.float64)
    x = check.inputs(x, m.n_in, m.dtype)
    layered = m.initial_states(x.shape[1], h0=h0, s0=s0)                     # [{name: (B, H)}] per layer
    state0 = {k: v.copy() for k, v in stack_states(layered).items()}       # perturbed in place below
    lengths = check.lengths(lengths, *x.shape[:2])
    result = m.backward(m.forward(x, lengths=lengths, dropout=dropout, **state0), y, mask=mask)
    rng = np.random.default_rng(seed)
    arrays = [(name, m.params[name], result.grads[name]) for name in m.params]
    arrays += [(name, value, getattr(result, "d" + name)) for name, value in state0.items()]
    rows = []
    for name, theta, analytic in arrays:
        flat = theta.reshape(-1)          # a view: perturbing it perturbs the model
        idx = _entries(flat.size, max_entries, rng)
        numeric = np.empty(idx.size)
        for j, i in enumerate(idx):
            old = flat[i]
            flat[i] = old + eps
            plus = m.loss(x, y, mask=mask, lengths=lengths, dropout=dropout, **state0)
            flat[i] = old - eps
            minus = m.loss(x, y, mask=mask, lengths=lengths, dropout=dropout, **state0)
            flat[i] = old
            numeric[j] = (plus - minus) / (2 * eps)
        a = np.asarray(analytic).reshape(-1)[idx]
        abs_err = np.abs(a - numeric)
        worst_abs = float(abs_err.max()) if idx.size else 0.0
        scale = max(float(np.abs(a).max(initial=0.0)), float(np.abs(numeric).max(initial=0.0)), floor)
        rows.append(CheckRow(name=name, shape=tuple(theta.shape), checked=int(idx.size),
                             total=int(flat.size), max_abs_error=worst_abs, scale=scale,
                             max_rel_error=worst_abs / scale, passed=worst_abs / scale < tol))
    return GradcheckReport(rows=rows, tol=tol, eps=eps)
