"""`bptt sample`: generate text from a checkpoint."""

from __future__ import annotations

from ._args import integer, number
from ._output import Output

TEMPERATURE = 0.8   # char-rnn's usual choice: fewer misspellings than 1, still varied


def add(sub):
    p = sub.add_parser("sample", help="generate text from a trained checkpoint",
                       description="Generate characters from a checkpoint (a .npz file or a run folder).")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint file or run folder (required)")
    p.add_argument("--prime", default="", help="text the model reads before it writes (default: none)")
    p.add_argument("--length", type=integer, default=500, help="characters to generate")
    p.add_argument("--temperature", type=number, default=None,
                   help=f"divides the logits: below 1 more likely characters, above 1 more varied ones; 0 "
                        f"picks the most likely one (default {TEMPERATURE:g})")
    p.add_argument("--argmax", action="store_true",
                   help="always pick the most likely character (greedy, as --temperature 0)")
    p.add_argument("--seed", type=integer, default=None,
                   help="seed of the draws, for a repeatable sample (default: a fresh one each time)")
    p.set_defaults(run=run)


def run(args):
    from ..train import checkpoint
    from ..train.sample import sample
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
    Output().line(args.prime + text)
    return 0
