"""`bptt sample`: generate text from a checkpoint."""

from __future__ import annotations

from ._args import integer, number
from ._output import Output


def add(sub):
    p = sub.add_parser("sample", help="generate text from a trained checkpoint",
                       description="Generate characters from a checkpoint (a .npz file or a run folder).")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint file or run folder (required)")
    p.add_argument("--prime", default="", help="text the model reads before it writes (default: none)")
    p.add_argument("--length", type=integer, default=500, help="characters to generate")
    p.add_argument("--temperature", type=number, default=0.8,
                   help="divides the logits: below 1 more likely characters, above 1 more varied ones")
    p.add_argument("--seed", type=integer, default=None,
                   help="seed of the draws, for a repeatable sample (default: a fresh one each time)")
    p.set_defaults(run=run)


def run(args):
    from .. import checkpoint
    from ..sample import sample
    ck = checkpoint.load(args.checkpoint)
    if ck.vocab is None:
        raise ValueError(f"CHECKPOINT {args.checkpoint!r}: expected a checkpoint with a vocabulary (from bptt train)")
    text = sample(ck.model, ck.vocab, args.prime, args.length, args.temperature, args.seed)
    Output().line(args.prime + text)
    return 0
