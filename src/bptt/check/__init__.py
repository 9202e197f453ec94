"""``bptt.check``: find the first place a learner's hand-written RNN/LSTM departs from the reference.

    >>> import bptt
    >>> report = bptt.check("my_rnn_layers.py")       # or a module, a dict or a list of functions
    >>> report.passed, report.first                  # None, or function, direction, step, quantity, hint

The learner's functions are called in their own signatures (``conventions.py``: bptt's own,
cs231n's ``rnn_layers.py``, deeplearning.ai's column-major ``rnn_utils``) on cases built to
expose the classic mistakes (``cases.py``), and compared with the reference (``reference.py``)
step by step (``probes.py``); the report (``report.py``) names the function, the direction,
the 1-based step, the quantity, by how much, and a hint in the book's equations.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np

from .learner import CheckInputError, functions_of, namespace_of
from .probes import Departure, Run, Skip
from .report import CheckReport, Finding, Verdict

__all__ = ["check", "CheckReport", "Finding", "CheckInputError"]


def check(target, *, convention=None, seed=0) -> CheckReport:
    """Check every recognised function of ``target`` and report the first departure.

    Args:
        target: a module, a dict {name: function}, a list of functions, or the path of a .py file.
        convention: "bptt", "cs231n" or "dlai" to override the detection by names (a module may
            also set ``BPTT_CONVENTION``).

    Raises:
        CheckInputError: (a ValueError, one line) when nothing can be checked.
    """
    namespace, label = namespace_of(target)
    conv, fns = functions_of(namespace, label, convention)
    run = Run(conv, fns, seed=seed)
    verdicts, first = [], None
    # The learner's prints would mix into the report (and into --json); numpy's overflow warnings
    # on saturating cases are the learner's to see in their own runs, not here.
    with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
        for spec in conv.functions:
            if spec.name not in fns:
                continue
            try:
                run.check(spec)
                verdicts.append(Verdict(spec.name, "ok"))
            except Departure as d:
                verdicts.append(Verdict(spec.name, "wrong", d.finding.where()))
                first = first or d.finding
            except Skip as s:
                verdicts.append(Verdict(spec.name, "skipped", str(s)))
    checked = [v.function for v in verdicts if v.status != "skipped"]
    return CheckReport(passed=first is None, convention=conv.name, checked=checked, first=first,
                       verdicts=verdicts, source=label)
