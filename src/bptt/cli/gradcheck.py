"""`bptt gradcheck`: hand-written BPTT against central differences, printed as a table."""

from __future__ import annotations

import itertools

from ..nn.cells import CELLS
from ._args import positive_float, positive_int
from ._output import Output


def add(sub):
    p = sub.add_parser("gradcheck", help="check hand-written BPTT against central differences",
                       description="Check every gradient of a random small network (any cell, any number of "
                                   "layers) against float64 central differences and print the max relative "
                                   "error per parameter and initial state.")
    p.add_argument("--cell", choices=(*CELLS, "all"), default="rnn",
                   help="the recurrent cell, or all three (default rnn)")
    p.add_argument("--layers", type=positive_int, default=1, help="recurrent layers stacked (default 1)")
    p.add_argument("--all", action="store_true",
                   help="every combination of input kind, output, nonlinearity (for rnn) and mask")
    p.add_argument("--input", choices=("tokens", "vectors"), default="tokens",
                   help="token ids (one-hot) or real vectors as x(t)")
    p.add_argument("--output", choices=("softmax", "identity"), default="softmax",
                   help="softmax with cross-entropy, or identity with squared error")
    p.add_argument("--nonlinearity", choices=("tanh", "relu", "linear"), default="tanh",
                   help="the rnn cell's f in h(t) = f(a(t))")
    p.add_argument("--bidirectional", action="store_true",
                   help="a bidirectional network (both directions checked; default: one direction)")
    p.add_argument("--mask", action="store_true", help="put the loss on the last step only (default: every step)")
    p.add_argument("--hidden", type=positive_int, default=4, help="H, hidden units")
    p.add_argument("--vocab", type=positive_int, default=5, help="I and O, input and output sizes")
    p.add_argument("--steps", type=positive_int, default=6, help="T, time steps")
    p.add_argument("--batch", type=positive_int, default=3, help="B, sequences")
    p.add_argument("--seed", type=int, default=0, help="seed of the random model and data")
    p.add_argument("--eps", type=positive_float, default=1e-5, help="central-difference step")
    p.add_argument("--tol", type=positive_float, default=1e-6, help="max relative error allowed")
    p.add_argument("--max-entries", type=positive_int, default=None,
                   help="check at most this many random entries per array (default: all)")
    p.set_defaults(run=run)


def run(args):
    from ..proof.gradcheck import gradcheck
    from ..proof.random_cases import random_case

    cells = tuple(CELLS) if args.cell == "all" else (args.cell,)
    combos = [(c, args.input, args.output, args.nonlinearity if c == "rnn" else "-", args.mask) for c in cells]
    if args.all:
        combos = [(c, *rest) for c in cells
                  for rest in itertools.product(("tokens", "vectors"), ("softmax", "identity"),
                                                ("tanh", "relu", "linear") if c == "rnn" else ("-",), (False, True))]
    rows, styles, failed = [], [], 0
    for cell, kind, output, f, mask in combos:
        case = random_case(cell, kind, output, mask, layers=args.layers, I=args.vocab, H=args.hidden,
                           O=args.vocab, T=args.steps, B=args.batch, seed=args.seed,
                           cell_options={"nonlinearity": f} if cell == "rnn" else None,
                           bidirectional=args.bidirectional)
        report = gradcheck(case.model, case.x, case.y, mask=case.mask, eps=args.eps, tol=args.tol,
                           max_entries=args.max_entries, seed=args.seed, **case.state0)
        failed += not report.passed
        worst = max(report.rows, key=lambda r: r.max_rel_error)
        rows.append([cell, kind, output, f, "last" if mask else "all", str(len(report.rows)),
                     f"{worst.max_rel_error:.1e}", worst.name, "yes" if report.passed else "NO"])
        styles.append(None if report.passed else "red")
    out = Output()
    out.table(f"bptt gradcheck: float64 central differences, eps={args.eps:g}, tol={args.tol:g}",
              ("cell", "input", "output", "f", "mask", "arrays", "max rel err", "worst", "ok"), rows,
              right=("arrays", "max rel err"), styles=styles)
    out.line(f"largest relative error over every parameter and initial state; {len(combos) - failed}/"
             f"{len(combos)} passed (layers={args.layers}{', bidirectional' if args.bidirectional else ''}, H={args.hidden}, I=O={args.vocab}, "
             f"T={args.steps}, B={args.batch})")
    return 0 if failed == 0 else 1
