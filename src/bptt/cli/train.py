"""`bptt train`: train a SimpleRNN on text with truncated BPTT, with a progress bar and a run folder."""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

from .. import _validate as check
from .. import data
from ..cells import CELLS
from ._args import integer, number, positive_float


def add(sub):
    from ..train import TrainConfig
    d = TrainConfig()
    p = sub.add_parser("train", help="train on a text file (default: the embedded corpus)",
                       description="Train a character-level SimpleRNN with truncated BPTT(k2; k1). With no FILE, "
                                   "the embedded corpus (the standard library's pydoc reference text) is used.")
    p.add_argument("file", nargs="?", metavar="FILE", help="a UTF-8 text file")
    p.add_argument("--data", choices=("tinyshakespeare",), help="a named public corpus, downloaded once and cached")
    p.add_argument("--encoding", default="utf-8", help="the text file's encoding (default utf-8)")
    p.add_argument("--cell", choices=tuple(CELLS), default=d.cell,
                   help=f"the recurrent cell: the simple RNN, LSTM or GRU (default {d.cell})")
    p.add_argument("--layers", type=integer, default=d.layers, help=f"recurrent layers stacked (default {d.layers})")
    p.add_argument("--forget-bias", type=number, default=d.forget_bias,
                   help=f"added to the LSTM's forget-gate bias at initialisation (default {d.forget_bias:g})")
    p.add_argument("--hidden", type=integer, default=d.hidden, help=f"H (default {d.hidden})")
    p.add_argument("--seq-length", type=integer, default=d.seq_length, help=f"k1 (default {d.seq_length})")
    p.add_argument("--bptt-depth", type=integer, default=None, help="k2 (default: k1)")
    p.add_argument("--batch-size", type=integer, default=d.batch_size, help=f"B (default {d.batch_size})")
    p.add_argument("--steps", type=integer, default=None, help=f"updates (default {d.steps})")
    p.add_argument("--epochs", type=positive_float, default=None, help="passes over the text, instead of --steps")
    p.add_argument("--lr", type=number, default=d.lr, help=f"learning rate (default {d.lr:g})")
    p.add_argument("--optimizer", choices=("sgd", "adagrad", "rmsprop", "adam"), default=d.optimizer)
    p.add_argument("--momentum", type=number, default=d.momentum, help="for sgd")
    p.add_argument("--clip", type=number, default=d.clip, help="global-norm clip (0: off)")
    p.add_argument("--clip-value", type=number, default=None, help="per-entry clip")
    p.add_argument("--lr-decay", type=number, default=d.lr_decay)
    p.add_argument("--lr-decay-every", type=integer, default=d.lr_decay_every)
    p.add_argument("--nonlinearity", choices=("tanh", "relu", "linear"), default=d.nonlinearity)
    p.add_argument("--dtype", choices=("float32", "float64"), default=d.dtype)
    p.add_argument("--seed", type=integer, default=d.seed)
    p.add_argument("--val-fraction", type=number, default=d.val_fraction)
    p.add_argument("--eval-every", type=integer, default=d.eval_every)
    p.add_argument("--sample-every", type=integer, default=d.sample_every, help="0: never")
    p.add_argument("--sample-length", type=integer, default=d.sample_length)
    p.add_argument("--diagnose-every", type=integer, default=0,
                   help="record gradient diagnostics (bptt diagnose RUN_DIR plots them) every N updates; 0: never")
    p.add_argument("--out", type=Path, default=None, help="run folder (default: a new folder under runs/)")
    p.add_argument("--resume", type=Path, default=None, metavar="DIR", help="continue the run in DIR up to --steps")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


class _Progress:
    """A rich progress bar: loss, validation loss, bits per character, tokens/s, time left."""

    def __init__(self, console, total, start):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)
        self.console = console
        self.bar = Progress(TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), TextColumn("left"),
                            TimeRemainingColumn(), console=console, refresh_per_second=4)
        self.task = self.bar.add_task("train", total=total, completed=start, stats="")
        self._last = 0.0

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        self.bar.__exit__(*exc)

    def update(self, step, loss, val, tokens_per_s):
        now = time.perf_counter()
        if now - self._last < 0.2 and step < self.bar.tasks[0].total:
            self.bar.update(self.task, completed=step)
            return
        self._last = now
        val_s = f"val {val:.3f} ({val / math.log(2):.2f} bpc)" if val is not None else "val -"
        self.bar.update(self.task, completed=step,
                        stats=f"loss {loss:.3f}  {val_s}  {tokens_per_s:,.0f} tok/s")

    def epoch(self, n, step, val):
        val_s = f": validation {val:.4f} nats/char ({val / math.log(2):.3f} bits/char)" if val is not None else ""
        self.console.print(f"epoch {n} done at update {step}{val_s}")

    def sample(self, step, text):
        from rich.panel import Panel
        from rich.text import Text
        self.console.print(Panel(Text(text), title=f"sample at step {step}", expand=False))


def run(args):
    import signal
    import sys

    from rich.console import Console

    console = Console()
    # Outside Trainer.run (reading a large file, plotting) a signal stops at once, in one line;
    # inside it, Trainer.run's own handlers let the current step finish and save.
    old = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    trainer = None
    try:
        trainer = _setup(args, console)
        code, summary = _train(args, trainer, console)
        signum = summary["interrupted"] if summary else None
    except _Stopped as stop:
        code, signum = 128 + stop.signum, stop.signum
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    if signum is not None:
        name = signal.Signals(signum).name
        saved = trainer is not None and (trainer.out / "checkpoint.npz").is_file()
        if not saved:
            print(f"bptt: interrupted by {name} before training began; nothing to save", file=sys.stderr)
        else:
            step = checkpoint_step(trainer.out)
            # One unwrapped line on stderr, so the resume command can be copied whole.
            print(f"bptt: interrupted by {name} at step {step}; the checkpoint {trainer.out / 'checkpoint.npz'} "
                  f"is saved. Resume with: bptt train --resume {trainer.out} --steps {trainer.config.steps}",
                  file=sys.stderr)
    return code


def checkpoint_step(run_dir) -> int:
    from .. import checkpoint
    return checkpoint.load(run_dir).meta.get("step", 0)


def _train(args, trainer, console):
    """Run, plot, print the summary; (exit code, summary)."""
    from rich.table import Table

    from ..loss_plot import plot_loss
    from ..train import Diverged

    c = trainer.config
    console.print(f"run folder: {trainer.out}")
    try:
        if args.quiet:
            summary = trainer.run()
        else:
            with _Progress(console, c.steps, trainer.step) as progress:
                summary = trainer.run(progress)
    except Diverged as err:
        console.print(f"[red]bptt: {err}[/red]")
        return 1, None
    if (trainer.out / "metrics.jsonl").is_file():   # a run stopped before its first log has no curve
        plot_loss(trainer.out / "metrics.jsonl", trainer.out / "loss.png")
    table = Table(title="bptt train: summary")
    table.add_column("")
    table.add_column("value", justify="right")
    rows = [("updates", f"{summary['steps']}"), ("epochs completed", f"{summary['epoch']}"),
            ("training loss (nats/char)", f"{summary['loss']:.4f}")]
    if summary["val_loss"] is not None:
        rows += [("validation loss (nats/char)", f"{summary['val_loss']:.4f}"),
                 ("validation bits/char", f"{summary['val_loss'] / math.log(2):.4f}")]
    rows += [("tokens/s", f"{summary['tokens_per_s']:,.0f}"), ("seconds", f"{summary['seconds']:.1f}"),
             ("skipped (non-finite) updates", f"{summary['skipped']}"),
             ("files", f"{trainer.out}/checkpoint.npz, metrics.jsonl, loss.png, samples.txt")]
    for r in rows:
        table.add_row(*r)
    console.print(table)
    if summary["interrupted"] is not None:
        return 128 + summary["interrupted"], summary
    return 0, summary


class _Stopped(BaseException):
    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _stop(signum, frame):
    raise _Stopped(signum)


def _setup(args, console):
    """Check the flags, read the text, and make (or resume) the Trainer."""
    from ..train import TrainConfig, Trainer

    if args.file and args.data:
        raise ValueError(f"FILE: expected either FILE or --data, got both ({args.file!r} and --data {args.data})")
    if args.steps is not None:
        check.positive_int("--steps", args.steps)
    if args.resume is not None:
        from .. import checkpoint
        resolved = checkpoint.resolve(args.resume, name="--resume")
        if resolved.name != checkpoint.FILENAME:   # a run is its folder: metrics, source, checkpoint
            raise ValueError(f"--resume: expected a run folder or its {checkpoint.FILENAME}, got {str(resolved)!r}")
        run_dir = resolved.parent
        vocab = checkpoint.load(run_dir, name="--resume").vocab
        source = data.run_source(run_dir) or {"file": args.file, "data": args.data, "encoding": args.encoding}
        corpus = _read_corpus(source["file"] or source["data"], source.get("encoding", "utf-8"), vocab, run_dir,
                              console, args.quiet)
        trainer = Trainer.resume(run_dir, corpus, args.steps, console=console)
    else:
        d = TrainConfig()
        config = TrainConfig(
            cell=args.cell, layers=args.layers, forget_bias=args.forget_bias,
            hidden=args.hidden, seq_length=args.seq_length, bptt_depth=args.bptt_depth,
            batch_size=args.batch_size, steps=args.steps or d.steps, lr=args.lr, optimizer=args.optimizer,
            momentum=args.momentum, clip=args.clip or None, clip_value=args.clip_value, lr_decay=args.lr_decay,
            lr_decay_every=args.lr_decay_every, nonlinearity=args.nonlinearity, dtype=args.dtype, seed=args.seed,
            val_fraction=args.val_fraction, eval_every=args.eval_every, sample_every=args.sample_every,
            sample_length=args.sample_length, diagnose_every=args.diagnose_every).validate()   # bad flags are named before a big file is read
        out = args.out or Path("runs") / time.strftime("%Y%m%d-%H%M%S")
        if out.exists() and not out.is_dir():
            raise NotADirectoryError(f"--out: expected a folder, got {str(out)!r}, which is a file")
        if (out / "checkpoint.npz").exists():
            raise ValueError(f"--out: expected a new or empty run folder, got {str(out)!r}, which holds a run "
                             f"(continue it with --resume {out})")
        _check_writable(out)
        source = args.file or args.data or "the embedded corpus (pydoc_data)"
        corpus = _read_corpus(args.file or args.data, args.encoding, None, out, console, args.quiet)
        if args.epochs is not None:
            n_train = int(len(corpus) * (1 - config.val_fraction))
            per_epoch = math.ceil(((n_train - 1) // config.batch_size) / config.seq_length)
            config = dataclasses.replace(config, steps=max(1, math.ceil(args.epochs * per_epoch)))
        trainer = Trainer(config, corpus, out, console=console)
        data.remember_source(out, args.file, args.data, args.encoding)
        layers = f"{config.layers}-layer " if config.layers > 1 else ""
        console.print(f"training on {source}: {len(corpus):,} characters, vocabulary {len(trainer.vocab)}, "
                      f"{layers}{config.cell}, H={config.hidden}, k1={config.seq_length}, k2={config.k2}, B={config.batch_size}, "
                      f"{config.steps} updates, {config.optimizer} lr={config.lr:g}, {config.dtype}")
    return trainer


def _check_writable(out: Path):
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise PermissionError(f"--out: expected a writable folder, got {str(out)!r} ({err.strerror})") from None


def _read_corpus(source, encoding, vocab, workdir, console, quiet):
    """The text as ids: a file is streamed (two passes, a progress bar), the embedded corpus is a string."""
    if source is None:
        return data.Corpus.from_text(data.default_corpus(), vocab)
    if quiet or not console.is_terminal:
        return data.Corpus.from_file(source, encoding=encoding, vocab=vocab, workdir=workdir)
    from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                               TransferSpeedColumn)
    with Progress(TextColumn("[bold]read"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task("read", total=None)
        return data.Corpus.from_file(source, encoding=encoding, vocab=vocab, workdir=workdir,
                                     progress=lambda done, total: bar.update(task, completed=done, total=total))
