"""`bptt check FILE`: where each of a learner's RNN/LSTM functions departs from the reference."""

from __future__ import annotations

import os

from ._output import Output, error_line

CONVENTIONS = ("bptt", "cs231n", "dlai")


def add(sub):
    p = sub.add_parser("check", help="find where your own RNN/LSTM forward or BPTT first goes wrong",
                       description="Read FILE (a .py file or an .ipynb notebook; top-level code that fails, such as "
                                   "a test cell or a missing course helper, is a note), find the functions it defines "
                                   "in bptt's, cs231n's or deeplearning.ai's convention, run them on cases built to "
                                   "expose the classic mistakes, and give each its status: ok, departs (with the "
                                   "step as your loop counts it, the quantity, your line and a hint), not written "
                                   "yet, or skipped. Exit 0: all ok; 1: something departs, is not written or "
                                   "skipped; 2: nothing could be checked.")
    # Optional for argparse and required here, so that --json answers a missing FILE with its object too.
    p.add_argument("file", metavar="FILE", nargs="?", default=None, help="your .py file or .ipynb notebook (required)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object (also for a file that cannot be checked) instead of the table")
    # Checked here rather than by argparse, so that --json can answer a bad value with its object too.
    p.add_argument("--convention", metavar="NAME", default=None,
                   help=f"the convention, one of {', '.join(CONVENTIONS)} (default: detected from the function names)")
    p.set_defaults(run=run)


def run(args):
    from ..check import CheckInputError, check, refusal

    output = Output()
    # A learner's plt.show() must not open a window (or wait for one) while their file is read.
    if "matplotlib.pyplot" not in __import__("sys").modules:
        os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        if args.file is None:
            raise CheckInputError("FILE: expected the .py file or .ipynb notebook to check, got none")
        if args.convention is not None and args.convention not in CONVENTIONS:
            raise CheckInputError(f"--convention: expected one of {', '.join(CONVENTIONS)}, got {args.convention!r}")
        report = check(args.file, convention=args.convention)
    except CheckInputError as err:
        if not args.json:
            raise
        output.line(refusal(err).to_json())
        error_line(f"bptt: error: {err}")
        return 2
    if args.json:
        output.line(report.to_json())
    else:   # a rich table on a terminal, whole lines in a pipe or log
        output.show(report)
    return 0 if report.passed else 1
