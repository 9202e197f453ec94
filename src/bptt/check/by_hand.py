"""A number worked out by hand from the explain page, checked: one step's contribution to dL/dW.

The tutorial's section 6 asks for step t's contribution to the recurrent weight's gradient,
``dL/da(t) h(t-1)^T`` (summed over the batch; the page has B = 1), from the errors and states the
page shows. ``by_hand(page, step, dW)`` compares it with the page's own per-step contribution
(what ``SimpleRNN.backward(per_step=True)`` computed) and names the classic slips: the outer
product the wrong way round, h(t) for h(t-1), dL/dh(t) for dL/da(t), the neighbouring step, the
whole gradient. Steps are the page's, counted from 1 as the book counts them.

    >>> from bptt.check import by_hand
    >>> by_hand(page, 3, np.outer(da3, h2)).passed        # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from .report import CheckReport, Finding

TOL = 1e-6


def by_hand(page, step, dW) -> CheckReport:
    """Check ``dW``, step ``step``'s contribution to dL/dW worked out by hand from ``page``.

    Args:
        page: what ``bptt.explain`` returns for a one-layer simple RNN.
        step: the page's step, 1 to T, counted from 1 as the page and the book count them.
        dW: (H, H), ``dL/da(step) h(step-1)^T`` summed over the batch; None while not worked out.

    Returns:
        A CheckReport with one entry, "dW by hand": ok, departs (with the slip named) or not written.

    Raises:
        CheckInputError: (a ValueError, one line) for a page or a step that cannot be checked.
    """
    from .learner import CheckInputError
    data = getattr(page, "data", page)
    if not isinstance(data, dict) or data.get("format") != "bptt-explain":
        raise CheckInputError(f"page: expected the page bptt.explain returns, got {type(page).__name__}")
    if data["model"]["cell"] != "rnn" or data["model"]["layers"] != 1:
        raise CheckInputError("page: expected the page of a one-layer simple RNN (the contribution "
                              "dL/da(t) h(t-1)^T is its recurrent weight's)")
    T = len(data["x"])
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or not 1 <= step <= T:
        raise CheckInputError(f"step: expected a step of the page, 1 to {T} (counted from 1 as the book and the "
                              f"page count them), got {step!r}")
    da = np.asarray(data["errors"]["a"], dtype=float)              # (T, H): dL/da(t), B = 1
    dh = np.asarray(data["errors"]["h"], dtype=float)
    h = np.asarray(data["h"], dtype=float)                         # (T, H): h(1) .. h(T)
    states = np.vstack([np.asarray(data["h0"], dtype=float)[None], h])     # h(0) .. h(T)
    want = np.asarray(data["per_step"]["W"], dtype=float)[step - 1]
    name = "dW by hand"
    book = f"dL/da({step}) h({step - 1})^T"
    if dW is None:
        return _report(Finding(name, "not written", reason="the hand calculation is still None"))
    try:
        got = np.asarray(dW, dtype=float)
    except (TypeError, ValueError):
        return _report(Finding(name, "departs", "backward", "dW", None, 1, T,
                               reason=f"{type(dW).__name__} is not an array of numbers",
                               hint=f"an (H, H) array: {book}"))
    if got.shape != want.shape:
        return _report(Finding(name, "departs", "backward", "dW", None, 1, T,
                               reason=f"the hand calculation has shape {got.shape}; expected {want.shape}",
                               hint=f"the outer product of two vectors of H = {want.shape[0]}: "
                                    f"np.outer(da, h_prev), {book}"))
    err = float(np.max(np.abs(got - want)))
    if err <= TOL * max(1.0, float(np.max(np.abs(want)))):
        return _report(Finding(name, "ok"))
    t = step - 1
    slips = [(np.outer(states[t], da[t]), f"the outer product is the wrong way round: rows are the units a(t) "
                                          f"feeds, so it is np.outer(da, h_prev), {book}"),
             (np.outer(da[t], states[t + 1]), f"h({step}) stands where h({step - 1}) belongs: the contribution "
                                              f"uses the state before the step, {book}"),
             (np.outer(dh[t], states[t]), f"dL/dh({step}) stands where dL/da({step}) belongs: "
                                          f"dL/da = (1 - h({step})^2) * dL/dh({step}), then {book}"),
             (np.asarray(data["grads"]["W"], dtype=float), f"this is the whole gradient, every step's contribution "
                                                           f"summed; step {step}'s alone is {book}")]
    for k in (t - 1, t + 1):
        if 0 <= k < T:
            slips.append((np.outer(da[k], states[k]), f"this is step {k + 1}'s contribution; step {step}'s is {book} "
                                                      f"(the page counts steps from 1)"))
    hint = next((text for value, text in slips if value.shape == got.shape and np.allclose(got, value, atol=1e-9)),
                f"{book}: the error at step {step}'s pre-activation times the state before it, read off the page")
    return _report(Finding(name, "departs", "backward", "dW", None, 1, T,
                           reason=f"step {step}'s contribution differs from the page's by up to {err:.3g}", hint=hint,
                           max_abs_error=err))


def _report(finding):
    return CheckReport(passed=finding.status == "ok", convention="bptt", functions=[finding],
                       first=finding if finding.status == "departs" else None)
