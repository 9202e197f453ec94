"""`bptt check FILE.py`: find the first place a learner's RNN/LSTM departs from the reference."""

from __future__ import annotations

from ._output import Output


def add(sub):
    p = sub.add_parser("check", help="find the first wrong step in your own RNN/LSTM forward or BPTT",
                       description="Import FILE.py, find the functions it defines in bptt's, cs231n's or "
                                   "deeplearning.ai's convention, run them on cases built to expose the classic "
                                   "mistakes, and name the first function, direction, step and quantity that "
                                   "departs from the reference, with a hint. Exit 0: all right; 1: something "
                                   "wrong; 2: nothing could be checked.")
    p.add_argument("file", metavar="FILE.py", help="the Python file with your functions (required)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--convention", choices=("bptt", "cs231n", "dlai"), default=None,
                   help="the convention (default: detected from the function names)")
    p.set_defaults(run=run)


def run(args):
    from ..check import check

    report = check(args.file, convention=args.convention)
    output = Output()
    if args.json:
        output.line(report.to_json())
    else:   # a rich table on a terminal, whole lines in a pipe or log
        output.show(report)
    return 0 if report.passed else 1
