"""``bptt.check``: where each of a learner's hand-written RNN/LSTM functions departs from the reference.

    >>> import bptt
    >>> report = bptt.check("rnn_layers.py")        # or a notebook, a module, globals(), a list of functions
    >>> report.passed, report.first                 # None, or the first function that departs, with why
    >>> [(f.function, f.status) for f in report.functions]   # every function found: ok, departs, ...

The learner's file or notebook is read definitions first (``reading.py``: a failing test cell or
a missing course helper is a note, not a refusal); their functions are found in one of three
conventions (``conventions.py``: bptt's own, cs231n's ``rnn_layers.py``, deeplearning.ai's
column-major ``rnn_utils``), called in their own signatures on cases built to expose the classic
mistakes (``cases.py``), and compared with the reference (``reference.py``) step by step
(``probes.py``). Each function gets a verdict (``report.py``): ok, departs (the direction, the
step as the learner's loop counts it, the quantity in their names, the line of their file, and a
hint with the book's equation beside), not written yet (``unfinished.py``), or skipped.
``by_hand`` checks a number worked out by hand from the explain page.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np

from .by_hand import by_hand
from .learner import CheckInputError, functions_of, learner_of
from .probes import Run
from .report import CheckReport, Finding

__all__ = ["check", "by_hand", "CheckReport", "Finding", "CheckInputError"]


def check(target, *, convention=None, seed=0) -> CheckReport:
    """Check every recognised function of ``target``; report each one's status and the first departure.

    Args:
        target: the path of a .py file or an .ipynb notebook, a module, a dict {name: function}
            (``bptt.check(globals())`` inside a notebook), or a list of functions.
        convention: "bptt", "cs231n" or "dlai" to override the detection by names (a module may
            also set ``BPTT_CONVENTION``).

    Returns:
        bptt.CheckReport: every function found with its status, the first departure, the notes.

    Raises:
        CheckInputError: (a ValueError, one line) when nothing can be checked.
    """
    learner = learner_of(target)
    conv, fns = functions_of(learner, convention)
    run = Run(conv, fns, learner, seed=seed)
    found = []
    # The learner's prints would mix into the report (and into --json); numpy's overflow warnings
    # on saturating cases are the learner's to see in their own runs, not here.
    with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
        for spec in conv.functions:
            if spec.name in fns:
                found.append(run.check(spec))
    first = next((f for f in found if f.status == "departs"), None)
    return CheckReport(passed=all(f.status == "ok" for f in found), convention=conv.name, functions=found,
                       first=first, notes=list(learner.notes), source=learner.label)


def refusal(message) -> CheckReport:
    """The report of a target that could not be checked (``--json`` prints it too)."""
    return CheckReport(passed=False, convention=None, error=str(message), notes=list(getattr(message, "notes", [])))
