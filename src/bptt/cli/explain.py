"""`bptt explain`: write the page that steps through forward and backward with real numbers."""

from __future__ import annotations

from ._args import positive_float, positive_int
from ._output import Output


def add(sub):
    from ..explainer import DEFAULT_TEXT, MAX_CHARS
    p = sub.add_parser("explain", help="write an interactive page stepping through forward and backward",
                       description="Write ONE self-contained HTML file that steps through the unfolded "
                                   "RNN's forward and backward pass on a short text, with the numbers "
                                   "bptt computes. Without a checkpoint: a small random model.")
    p.add_argument("checkpoint", nargs="?", metavar="CHECKPOINT",
                   help="a checkpoint file or run folder (default: a random model on the text's characters)")
    p.add_argument("--text", default=DEFAULT_TEXT,
                   help=f"2 to {MAX_CHARS} characters; the model predicts each next one (default {DEFAULT_TEXT!r})")
    p.add_argument("--out", default="explain.html", help="the HTML file to write (default explain.html)")
    p.add_argument("--hidden", type=positive_int, default=8, help="H of the random model (default 8)")
    p.add_argument("--nonlinearity", choices=("tanh", "relu", "linear"), default="tanh",
                   help="f of the random model (default tanh)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random model's weights (default 0)")
    p.add_argument("--lr", type=positive_float, default=0.1, help="learning rate of the update stage (default 0.1)")
    p.set_defaults(run=run)


def run(args):
    from pathlib import Path

    from .. import checkpoint
    from ..data import Vocab
    from ..explainer import check_model, check_text, explain
    from ..network import SimpleRNN

    text = check_text(args.text, name="--text")
    out = Path(args.out)
    if out.is_dir():
        raise IsADirectoryError(f"--out: expected an HTML file path, got {str(out)!r}, which is a directory")
    if args.checkpoint is None:
        vocab = Vocab.from_text(text)
        model = SimpleRNN(len(vocab), args.hidden, len(vocab), nonlinearity=args.nonlinearity, seed=args.seed)
        seed, source = args.seed, None
        origin = f"a random model (H={args.hidden}, {args.nonlinearity}, seed={args.seed})"
    else:
        ckpt = checkpoint.load(args.checkpoint)
        if ckpt.vocab is None:
            raise ValueError(f"CHECKPOINT {str(ckpt.path)!r}: expected a character model with a vocabulary, "
                             f"got a checkpoint without one")
        vocab, model, seed, source = ckpt.vocab, ckpt.model, None, str(ckpt.path)
        check_model(model, vocab, name=f"CHECKPOINT {str(ckpt.path)!r}")
        vocab.encode(text, name="--text")
        origin = f"{ckpt.path} (H={model.n_hidden}, vocabulary of {len(vocab)})"
    page = explain(model, text, vocab=vocab, lr=args.lr, seed=seed, source=source)
    page.save(out)
    d = page.data
    Output().line(f"bptt explain: {origin} on {text!r}: {len(d['x'])} steps, L = {d['loss']:.4f}; wrote {out}")
    return 0
