"""`bptt sample`: generate text from a checkpoint."""

from __future__ import annotations

from ._args import integer, number
from ._output import Output

TEMPERATURE = 0.8   # char-rnn's usual choice: fewer misspellings than 1, still varied


def add(sub):
    p = sub.add_parser("sample", help="generate text from a trained checkpoint",
                       description="Generate characters from a checkpoint (a .npz file or a run folder). Given "
                                   "an encoder-decoder's (bptt task reverse or sort --model seq2seq), decode "
                                   "--prime's symbols greedily instead.")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint file or run folder (required)")
    p.add_argument("--prime", default="", help="text the model reads before it writes (default: none); for an "
                                               "encoder-decoder, the input symbols as ids separated by spaces")
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
    if ck.model.spec().get("model") == "seq2seq":
        return _decode(ck, args)
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


def _decode(ck, args) -> int:
    """An encoder-decoder's greedy answer to --prime's symbols, up to its end token, as ids."""
    import numpy as np
    from ..data import tasks
    model = ck.model
    if args.temperature not in (None, 0) or args.seed is not None:
        flag = "--temperature" if args.temperature not in (None, 0) else "--seed"
        value = args.temperature if flag == "--temperature" else args.seed
        raise ValueError(f"{flag}: expected no {flag} with an encoder-decoder checkpoint (it decodes greedily), "
                         f"got {value:g}")
    words = args.prime.split()
    if not words or not all(w.isdigit() and int(w) < model.n_in for w in words):
        raise ValueError(f"--prime: expected the input as symbol ids in [0, {model.n_in - 1}] separated by "
                         f"spaces (an encoder-decoder reads ids), got {args.prime!r:.60}")
    if args.length < 1:
        raise ValueError(f"--length: expected a whole number >= 1, got {args.length}")
    task = tasks.PAIR_TASKS.get((ck.meta.get("task_result") or {}).get("task"))
    start, end = (task.start, tasks.PAIR_END) if task is not None else (model.n_out - 1, None)
    x = np.array([int(w) for w in words], dtype=np.intp)[:, None]                # (Tx, 1)
    out = model.generate(x, start, args.length)[:, 0]
    if end is not None and (out == end).any():
        out = out[:int(np.argmax(out == end))]
    Output().line(" ".join(str(int(t)) for t in out))
    return 0
