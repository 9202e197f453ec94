"""`bptt explain`: write the page that steps through forward and backward with real numbers."""

from __future__ import annotations

from ._args import (check_file_path, positive_float, positive_int, random_model_flags, refuse_beside_checkpoint,
                    writing)
from ._output import Output


def add(sub):
    from ..nn.cells import CELLS
    from ..explain import DEFAULT_SEQ2SEQ_TEXT, DEFAULT_TEXT, MAX_CHARS
    p = sub.add_parser("explain", help="write an interactive page stepping through forward and backward",
                       description="Write ONE self-contained HTML file that steps through the unfolded "
                                   "network's forward and backward pass on a short text, with the numbers "
                                   "bptt computes. Without a checkpoint: a small random model of --cell "
                                   "and --layers (--bidirectional: both directions drawn; --model seq2seq: "
                                   "an encoder-decoder taught to write the text reversed); with one, the "
                                   "checkpoint's own model.")
    p.add_argument("checkpoint", nargs="?", metavar="CHECKPOINT",
                   help="a checkpoint file or run folder (default: a random model on the text's characters)")
    p.add_argument("--text", default=None,
                   help=f"2 to {MAX_CHARS} characters; the model predicts each next one (default {DEFAULT_TEXT!r}; "
                        f"for --model seq2seq 2 to {MAX_CHARS // 2}, default {DEFAULT_SEQ2SEQ_TEXT!r})")
    p.add_argument("--out", default="explain.html", help="the HTML file to write (default explain.html)")
    p.add_argument("--hidden", type=positive_int, default=None, help="H of the random model (default 8)")
    p.add_argument("--cell", choices=tuple(CELLS), default=None,
                   help="the random model's cell: rnn, lstm or gru (default rnn)")
    p.add_argument("--layers", type=positive_int, default=None,
                   help="the random model's stacked layers (--model seq2seq: of the encoder and of the decoder); "
                        "the page shows one at a time (default 1)")
    p.add_argument("--bidirectional", action="store_true", default=None,
                   help="the random model reads each sequence both ways (Goodfellow et al. 10.3): the page draws "
                        "both directions, the reverse one's errors flowing from earlier to later steps")
    p.add_argument("--model", choices=("network", "seq2seq"), default=None,
                   help="the random model: network (one network predicts each next character) or seq2seq (an "
                        "encoder reads the text, a teacher-forced decoder writes it reversed; 2 to "
                        f"{MAX_CHARS // 2} characters) (default network)")
    p.add_argument("--nonlinearity", choices=("tanh", "relu", "linear"), default=None,
                   help="f of a random --cell rnn model (default tanh)")
    p.add_argument("--seed", type=int, default=None, help="seed of the random model's weights (default 0)")
    p.add_argument("--lr", type=positive_float, default=0.1, help="learning rate of the update stage (default 0.1)")
    p.set_defaults(run=run)


def run(args):
    from pathlib import Path

    from ..train import checkpoint
    from ..data.text import Vocab
    from ..explain import check_model, check_text, explain
    from ..explain import DEFAULT_SEQ2SEQ_TEXT, DEFAULT_TEXT, check_seq2seq_text
    from ..nn.network import Network
    from ..nn.seq2seq import Seq2Seq

    random_given = random_model_flags(args, {"hidden": 8, "seed": 0})
    seq = args.model == "seq2seq"
    given_text = args.text if args.text is not None else DEFAULT_SEQ2SEQ_TEXT if seq else DEFAULT_TEXT
    text = (check_seq2seq_text if seq else check_text)(given_text, name="--text")
    out = Path(args.out)
    check_file_path(out, "--out", "an HTML file")
    if args.checkpoint is None:
        cell, layers = args.cell or "rnn", args.layers or 1
        if args.nonlinearity is not None and cell != "rnn":
            raise ValueError(f"--nonlinearity: expected it only with --cell rnn, got {args.nonlinearity!r} "
                             f"with --cell {cell}")
        vocab = Vocab.from_text(text)
        seed, source = args.seed, None
        if seq:
            for flag, given in (("--bidirectional", args.bidirectional), ("--nonlinearity", args.nonlinearity)):
                if given is not None:
                    raise ValueError(f"{flag}: expected it only with --model network, got {given!r} with --model "
                                     f"seq2seq")
            model = Seq2Seq(len(vocab), args.hidden, len(vocab) + 1, cell=cell, layers=layers, seed=args.seed)
            described = [f"{layers} layers"] * (layers > 1) + [f"H={args.hidden}", f"seed={args.seed}"]
            origin = f"a random {cell} encoder-decoder ({', '.join(described)})"
        else:
            options = {"nonlinearity": args.nonlinearity or "tanh"} if cell == "rnn" else {}
            bidirectional = bool(args.bidirectional)
            model = Network.create(cell, len(vocab), args.hidden, len(vocab), cell_options=options, layers=layers,
                                   seed=args.seed, bidirectional=bidirectional)
            described = ([f"{layers} layers"] * (layers > 1) + ["bidirectional"] * bidirectional
                         + [f"H={args.hidden}", *options.values(), f"seed={args.seed}"])
            origin = f"a random {cell} model ({', '.join(described)})"
    else:
        ckpt = checkpoint.load(args.checkpoint)
        for flag, given in (("--model", args.model), ("--bidirectional", args.bidirectional)):
            if given is not None:
                raise ValueError(f"{flag}: expected no {flag} with CHECKPOINT (the checkpoint decides the model), "
                                 f"got {given!r}")
        if isinstance(ckpt.model, Seq2Seq):
            raise ValueError(f"CHECKPOINT {str(ckpt.path)!r}: expected a character network (the page draws a "
                             f"checkpoint's network; an encoder-decoder only as a random --model seq2seq), got "
                             f"{ckpt.model!r}")
        if ckpt.vocab is None:
            raise ValueError(f"CHECKPOINT {str(ckpt.path)!r}: expected a character model with a vocabulary, "
                             f"got a checkpoint without one")
        vocab, model, seed, source = ckpt.vocab, ckpt.model, None, str(ckpt.path)
        # The checkpoint decides the model: a flag that would change it is refused, not ignored.
        for flag, given, held in (("--cell", args.cell, model.cell.name), ("--layers", args.layers, model.layers),
                                  ("--nonlinearity", args.nonlinearity, model.nonlinearity)):
            if given is not None and given != held:
                raise ValueError(f"{flag}: expected it to match the checkpoint's {held!r} or be left out, "
                                 f"got {given!r}")
        check_model(model, vocab, name=f"CHECKPOINT {str(ckpt.path)!r}")
        refuse_beside_checkpoint(args, random_given)
        vocab.encode(text, name="--text")
        layers = f"{model.layers} layers, " if model.layers > 1 else ""
        layers += "bidirectional, " if model.bidirectional else ""
        origin = f"{ckpt.path} ({model.cell.name}, {layers}H={model.n_hidden}, vocabulary of {len(vocab)})"
    page = explain(model, text, vocab=vocab, lr=args.lr, seed=seed, source=source)
    with writing("--out", out):
        page.save(out)
    d = page.data
    tx = d["model"]["tx"]
    steps = f"{tx} encoder and {len(d['x']) - tx} decoder steps" if seq else f"{len(d['x'])} steps"
    Output().line(f"bptt explain: {origin} on {text!r}: {steps}, L = {d['loss']:.4f}; wrote {out}")
    return 0
