"""`bptt sample`: generate text from a checkpoint."""

from __future__ import annotations

from ._args import integer, number

TEMPERATURE = 0.8   # char-rnn's usual choice: fewer misspellings than 1, still varied


def add(sub):
    p = sub.add_parser("sample", help="generate text from a trained checkpoint",
                       description="Generate characters from a checkpoint (a .npz file or a run folder).")
    p.add_argument("checkpoint", metavar="CHECKPOINT")
    p.add_argument("--prime", default="", help="text to start from")
    p.add_argument("--length", type=integer, default=500)
    p.add_argument("--temperature", type=number, default=None,
                   help=f"divide the scores by this before the softmax: lower is more conservative; 0 picks the "
                        f"most likely character (default {TEMPERATURE:g})")
    p.add_argument("--argmax", action="store_true", help="always pick the most likely character (--temperature 0)")
    p.add_argument("--seed", type=integer, default=None)
    p.set_defaults(run=run)


def run(args):
    from .. import checkpoint
    from ..sample import sample
    ck = checkpoint.load(args.checkpoint)
    if ck.vocab is None:
        raise ValueError(f"CHECKPOINT {args.checkpoint!r}: expected a checkpoint with a vocabulary (from bptt train)")
    temperature = TEMPERATURE if args.temperature is None else args.temperature
    if args.argmax:
        if args.temperature not in (None, 0):
            raise ValueError(f"--argmax: expected no --temperature with it (--argmax is --temperature 0), "
                             f"got --temperature {args.temperature:g}")
        temperature = 0.0
    text = sample(ck.model, ck.vocab, args.prime, args.length, temperature, args.seed)
    print(args.prime + text)
    return 0
