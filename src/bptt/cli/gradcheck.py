"""`bptt gradcheck`: hand-written BPTT against central differences, printed as a table."""

from __future__ import annotations

import itertools

from ._args import positive_float, positive_int
from ._output import Output


def add(sub):
    p = sub.add_parser("gradcheck", help="check hand-written BPTT against central differences",
                       description="Check every gradient of a random small SimpleRNN against float64 "
                                   "central differences and print the max relative error per parameter.")
    p.add_argument("--all", action="store_true",
                   help="every combination of input kind, output, nonlinearity and mask")
    p.add_argument("--input", choices=("tokens", "vectors"), default="tokens",
                   help="token ids (one-hot) or real vectors as x(t)")
    p.add_argument("--output", choices=("softmax", "identity"), default="softmax",
                   help="softmax with cross-entropy, or identity with squared error")
    p.add_argument("--nonlinearity", choices=("tanh", "relu", "linear"), default="tanh",
                   help="f in h(t) = f(a(t))")
    p.add_argument("--mask", action="store_true", help="put the loss on the last step only")
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
    from ..gradcheck import gradcheck
    from ..problems import random_problem

    combos = [(args.input, args.output, args.nonlinearity, args.mask)]
    if args.all:
        combos = list(itertools.product(("tokens", "vectors"), ("softmax", "identity"),
                                        ("tanh", "relu", "linear"), (False, True)))
    columns = ("input", "output", "f", "mask", "U", "W", "b", "V", "c", "h0", "ok")
    rows, styles, failed = [], [], 0
    for kind, output, f, mask in combos:
        model, x, y, h0, m = random_problem(kind, output, f, mask, I=args.vocab, H=args.hidden,
                                            O=args.vocab, T=args.steps, B=args.batch, seed=args.seed)
        report = gradcheck(model, x, y, h0, m, eps=args.eps, tol=args.tol,
                           max_entries=args.max_entries, seed=args.seed)
        failed += not report.passed
        rows.append([kind, output, f, "last" if mask else "all", *[f"{r.max_rel_error:.1e}" for r in report.rows],
                     "yes" if report.passed else "NO"])
        styles.append(None if report.passed else "red")
    out = Output()
    out.table(f"bptt gradcheck: float64 central differences, eps={args.eps:g}, tol={args.tol:g}", columns, rows,
              right=("U", "W", "b", "V", "c", "h0"), styles=styles)
    out.line(f"max relative error per parameter; {len(combos) - failed}/{len(combos)} passed "
             f"(H={args.hidden}, I=O={args.vocab}, T={args.steps}, B={args.batch})")
    return 0 if failed == 0 else 1
