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
from ..data import NEWLINES

# The flags that map onto TrainConfig fields of the same name (--clip 0 and --input-init-std 0: None).
CONFIG_FLAGS = ("cell", "layers", "forget_bias", "hidden", "seq_length", "bptt_depth", "batch_size", "steps", "lr", "optimizer", "momentum", "clip",
                "clip_value", "lr_decay", "lr_decay_every", "nonlinearity", "dtype", "seed", "val_fraction",
                "eval_every", "sample_every", "sample_length", "diagnose_every", "input_init_std")


def add(sub):
    from ..train import TrainConfig
    d = TrainConfig()
    p = sub.add_parser("train", help="train on a text file (default: the embedded corpus)",
                       description="Train a character-level SimpleRNN with truncated BPTT(k2; k1). With no FILE, "
                                   "the embedded corpus (the standard library's pydoc reference text) is used.")
    p.add_argument("file", nargs="?", metavar="FILE", help="a UTF-8 text file")
    p.add_argument("--data", choices=("tinyshakespeare",), help="a named public corpus, downloaded once and cached")
    p.add_argument("--encoding", default=None, help="the text file's encoding (default utf-8)")
    p.add_argument("--newline", choices=NEWLINES, default=None,
                   help="normalize: \\r\\n and a lone \\r become \\n, as editors read text; keep: every "
                        "character as it is (default normalize; a resumed run keeps its own)")
    # Training flags default to None, "not given": a resumed or fine-tuned run then knows which
    # ones the user asked for, and the help states TrainConfig's default.
    p.add_argument("--cell", choices=tuple(CELLS), default=None,
                   help=f"the recurrent cell: the simple RNN, LSTM or GRU (default {d.cell})")
    p.add_argument("--layers", type=integer, default=None, help=f"recurrent layers stacked (default {d.layers})")
    p.add_argument("--forget-bias", type=number, default=None,
                   help=f"added to the LSTM's forget-gate bias at initialisation (default {d.forget_bias:g})")
    p.add_argument("--hidden", type=integer, default=None, help=f"H (default {d.hidden})")
    p.add_argument("--seq-length", type=integer, default=None, help=f"k1 (default {d.seq_length})")
    p.add_argument("--bptt-depth", type=integer, default=None, help="k2 (default: k1)")
    p.add_argument("--batch-size", type=integer, default=None, help=f"B (default {d.batch_size})")
    p.add_argument("--steps", type=integer, default=None, help=f"updates (default {d.steps})")
    p.add_argument("--epochs", type=positive_float, default=None, help="passes over the text, instead of --steps")
    p.add_argument("--lr", type=number, default=None, help=f"learning rate (default {d.lr:g})")
    p.add_argument("--optimizer", choices=("sgd", "adagrad", "rmsprop", "adam"), default=None,
                   help=f"(default {d.optimizer})")
    p.add_argument("--momentum", type=number, default=None, help=f"for sgd (default {d.momentum:g})")
    p.add_argument("--clip", type=number, default=None, help=f"global-norm clip; 0: off (default {d.clip:g})")
    p.add_argument("--clip-value", type=number, default=None, help="per-entry clip (default off)")
    p.add_argument("--lr-decay", type=number, default=None, help=f"(default {d.lr_decay:g})")
    p.add_argument("--lr-decay-every", type=integer, default=None, help=f"(default {d.lr_decay_every})")
    p.add_argument("--nonlinearity", choices=("tanh", "relu", "linear"), default=None,
                   help=f"(default {d.nonlinearity})")
    p.add_argument("--dtype", choices=("float32", "float64"), default=None, help=f"(default {d.dtype})")
    p.add_argument("--seed", type=integer, default=None, help=f"(default {d.seed})")
    p.add_argument("--val-fraction", type=number, default=None, help=f"(default {d.val_fraction:g})")
    p.add_argument("--eval-every", type=integer, default=None, help=f"(default {d.eval_every})")
    p.add_argument("--sample-every", type=integer, default=None, help=f"0: never (default {d.sample_every})")
    p.add_argument("--sample-length", type=integer, default=None, help=f"(default {d.sample_length})")
    p.add_argument("--diagnose-every", type=integer, default=None,
                   help="record gradient diagnostics (bptt diagnose RUN_DIR plots them) every N updates; 0: never")
    p.add_argument("--input-init-std", type=number, default=None,
                   help=f"token inputs' weights drawn N(0, std^2); 0: PyTorch's uniform(-1/sqrt(H), 1/sqrt(H)) "
                        f"(default {d.input_init_std:g})")
    p.add_argument("--out", type=Path, default=None, help="run folder (default: a new folder under runs/)")
    p.add_argument("--resume", type=Path, default=None, metavar="DIR",
                   help="continue the run in DIR up to --steps, on its own text (give FILE if it moved); "
                        "--lr, --steps, --epochs, --eval-every, --sample-every, clipping and --lr-decay may change")
    p.add_argument("--init-from", type=Path, default=None, metavar="DIR",
                   help="a new run on FILE that starts from the weights of the run in DIR (fine-tuning): "
                        "shared characters keep their weights, new ones start fresh")
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
             *([("fine-tuned from", f"{n['run']}: {n['shared']} characters shared, {n['new']} new, "
                                    f"{n['dropped']} dropped")] if (n := trainer.init_from) else []),
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


def _given(args) -> dict:
    """The TrainConfig settings given on the command line, as TrainConfig values."""
    given = {k: getattr(args, k) for k in CONFIG_FLAGS if getattr(args, k) is not None}
    for k in ("clip", "input_init_std"):     # 0: off / PyTorch's initialisation
        if given.get(k) == 0:
            given[k] = None
    return given


def _setup(args, console):
    """Check the flags, read the text, and make (or resume, or fine-tune) the Trainer."""
    from ..train import TrainConfig, Trainer, fine_tune_config, steps_for_epochs

    if args.file and args.data:
        raise ValueError(f"FILE: expected either FILE or --data, got both ({args.file!r} and --data {args.data})")
    if args.steps is not None:
        check.positive_int("--steps", args.steps)
    given = _given(args)
    if args.resume is not None:
        return _resume(args, given, console)
    config = TrainConfig(**given).validate()   # bad flags are named before a big file is read
    out = args.out or Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out: expected a folder, got {str(out)!r}, which is a file")
    if (out / "checkpoint.npz").exists():
        raise ValueError(f"--out: expected a new or empty run folder, got {str(out)!r}, which holds a run "
                         f"(continue it with --resume {out})")
    if args.init_from is not None:      # a bad run or a flag against its model is named before the text is read
        fine_tune_config(args.init_from, given)
    _check_writable(out)
    source = args.file or args.data or "the embedded corpus (pydoc_data)"
    encoding, newline = args.encoding or "utf-8", args.newline or "normalize"
    corpus = _read_corpus(args.file or args.data, encoding, newline, out, console, args.quiet)
    if args.epochs is not None:
        given["steps"] = steps_for_epochs(args.epochs, len(corpus), config)
    if args.init_from is not None:
        trainer = Trainer.fine_tune(args.init_from, corpus, out, given, console=console)
        n = trainer.init_from
        console.print(f"fine-tuning from {n['run']}: {n['shared']} characters shared (trained weights kept), "
                      f"{n['new']} new (fresh weights), {n['dropped']} only in that run (dropped)")
    else:
        trainer = Trainer(TrainConfig(**given), corpus, out, console=console)
    config = trainer.config
    data.remember_source(out, args.file, args.data, encoding, newline, corpus.identity())
    layers = f"{config.layers}-layer " if config.layers > 1 else ""
    console.print(f"training on {source}: {len(corpus):,} characters, vocabulary {len(trainer.vocab)}, "
                  f"{layers}{config.cell}, H={config.hidden}, k1={config.seq_length}, k2={config.k2}, "
                  f"B={config.batch_size}, {config.steps} updates, {config.optimizer} lr={config.lr:g}, {config.dtype}")
    return trainer


def _resume(args, given, console):
    """Continue a run: its own text (FILE if it moved), the flags that can change applied, the rest refused."""
    from .. import checkpoint
    from ..train import Trainer

    resolved = checkpoint.resolve(args.resume, name="--resume")
    if resolved.name != checkpoint.FILENAME:   # a run is its folder: metrics, source, checkpoint
        raise ValueError(f"--resume: expected a run folder or its {checkpoint.FILENAME}, got {str(resolved)!r}")
    run_dir = resolved.parent
    if args.init_from is not None:
        raise ValueError(f"--init-from: expected either --resume (continue a run) or --init-from (a new run from "
                         f"its weights), got both")
    if args.out is not None and Path(args.out).resolve() != run_dir.resolve():
        raise ValueError(f"--out: expected no --out with --resume (a resumed run stays in its folder "
                         f"{str(run_dir)!r}), got {str(args.out)!r}")
    checkpoint.load(run_dir, name="--resume")       # a damaged run is named before its text is read
    recorded = data.run_source(run_dir) or {}
    given_text = args.file or args.data
    origin = given_text if given_text else recorded.get("file") or recorded.get("data")
    if not given_text and recorded.get("file") and not Path(recorded["file"]).exists():
        raise FileNotFoundError(f"--resume {str(run_dir)!r}: expected its text at {recorded['file']!r}, which does "
                                f"not exist (moved?); give the text as FILE: bptt train PATH --resume {run_dir}")
    encoding = args.encoding or recorded.get("encoding") or "utf-8"
    # Runs from before --newline read their text as it was; a run without source.json had a string.
    newline = args.newline or recorded.get("newline") or ("keep" if recorded else "normalize")
    corpus = _read_corpus(origin, encoding, newline, run_dir, console, args.quiet)
    changes = dict(given)
    if args.epochs is not None:
        changes["epochs"] = args.epochs
    trainer = Trainer.resume(run_dir, corpus, changes=changes, console=console)
    if given_text:     # the run's text, checked: where it now lives is where a later resume looks
        data.remember_source(run_dir, args.file, args.data, encoding, newline, corpus.identity())
    return trainer


def _check_writable(out: Path):
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise PermissionError(f"--out: expected a writable folder, got {str(out)!r} ({err.strerror})") from None


def _read_corpus(source, encoding, newline, workdir, console, quiet):
    """The text as ids: a file is streamed (two passes, a progress bar), the embedded corpus is a string."""
    if source is None:
        return data.Corpus.from_text(data.default_corpus(), name="the embedded corpus")
    if quiet or not console.is_terminal:
        return data.Corpus.from_file(source, encoding=encoding, newline=newline, workdir=workdir)
    from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                               TransferSpeedColumn)
    with Progress(TextColumn("[bold]read"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task("read", total=None)
        return data.Corpus.from_file(source, encoding=encoding, newline=newline, workdir=workdir,
                                     progress=lambda done, total: bar.update(task, completed=done, total=total))
