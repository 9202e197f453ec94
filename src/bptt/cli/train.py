"""`bptt train`: train a SimpleRNN on text with truncated BPTT, with a progress bar and a run folder."""

from __future__ import annotations

import math
import time
from pathlib import Path

from .. import _validate as check
from .. import data
from ..nn.cells import CELLS
from ._args import check_writable, integer, number, positive_float
from ..data import NEWLINES
from ._output import Output, error_line

# The flags that map onto TrainConfig fields of the same name (--clip 0 and --input-init-std 0: None).
CONFIG_FLAGS = ("cell", "layers", "forget_bias", "hidden", "seq_length", "bptt_depth", "batch_size", "steps", "lr",
                "optimizer", "momentum", "clip", "clip_value", "lr_decay", "lr_decay_every", "nonlinearity", "dtype",
                "seed", "val_fraction", "eval_every", "sample_every", "sample_length", "diagnose_every",
                "input_init_std", "gradient")


def add(sub):
    from ..train.text import TrainConfig
    d = TrainConfig()
    p = sub.add_parser("train", help="train on a text file (default: the embedded corpus)",
                       description="Train a character-level SimpleRNN with truncated BPTT(k2; k1). With no FILE, "
                                   "the embedded corpus (the standard library's pydoc reference text) is used.",
                       epilog="Checkpoints: the run folder's checkpoint.npz is replaced (atomically: the previous "
                              "one survives a crash) every --eval-every updates, at the end of every epoch, at "
                              "the last update, and when Ctrl-C, SIGTERM or SIGHUP stops the run after the update "
                              "in flight. The run folder also holds metrics.jsonl, summary.json, loss.png and, "
                              "once a sample is drawn, samples.txt.")
    p.add_argument("file", nargs="?", metavar="FILE", help="a UTF-8 text file (default: the embedded corpus)")
    p.add_argument("--data", choices=("tinyshakespeare",),
                   help="a named public corpus, downloaded once and cached, instead of FILE (default: none)")
    p.add_argument("--encoding", default="utf-8", help="the text file's encoding (a resumed run keeps its own)")
    p.add_argument("--newline", choices=NEWLINES, default="normalize",
                   help="normalize: \\r\\n and a lone \\r become \\n, as editors read text; keep: every "
                        "character as it is (a resumed run keeps its own)")
    p.add_argument("--cell", choices=tuple(CELLS), default=d.cell,
                   help="the recurrent cell: the simple RNN, LSTM or GRU")
    p.add_argument("--layers", type=integer, default=d.layers, help="recurrent layers stacked")
    p.add_argument("--forget-bias", type=number, default=d.forget_bias,
                   help="added to the LSTM's forget-gate bias at initialisation")
    p.add_argument("--hidden", type=integer, default=d.hidden, help="H, hidden units")
    p.add_argument("--seq-length", type=integer, default=d.seq_length,
                   help="k1, characters per update (the loss window)")
    p.add_argument("--bptt-depth", type=integer, default=None,
                   help="k2, steps back-propagated through (default: k1)")
    p.add_argument("--batch-size", type=integer, default=d.batch_size, help="B, parallel streams through the text")
    p.add_argument("--gradient", choices=("bptt", "rtrl", "uoro", "snap1"), default=d.gradient,
                   help="how each update's gradient is computed: truncated BPTT(k2; k1), or forward in time "
                        "every k1 steps, the past never truncated: exact RTRL, UORO, SnAp-1")
    p.add_argument("--steps", type=integer, default=None,
                   help=f"updates to run in all, counted from the run's start (default {d.steps}; "
                        f"not with --epochs)")
    p.add_argument("--epochs", type=positive_float, default=None,
                   help="passes over the training text, instead of --steps (default: none, --steps decides)")
    p.add_argument("--lr", type=number, default=d.lr, help="learning rate")
    p.add_argument("--optimizer", choices=("sgd", "adagrad", "rmsprop", "adam"), default=d.optimizer,
                   help="the update rule, as torch.optim's")
    p.add_argument("--momentum", type=number, default=d.momentum, help="momentum, for sgd only")
    p.add_argument("--clip", type=number, default=d.clip, help="clip the global gradient norm to this; 0: off")
    p.add_argument("--clip-value", type=number, default=None,
                   help="clip each gradient entry to [-v, v] (default: off)")
    p.add_argument("--lr-decay", type=number, default=d.lr_decay,
                   help="multiply the learning rate by this every --lr-decay-every updates")
    p.add_argument("--lr-decay-every", type=integer, default=d.lr_decay_every, help="updates between decays")
    p.add_argument("--nonlinearity", choices=("tanh", "relu", "linear"), default=d.nonlinearity,
                   help="the rnn cell's f in h(t) = f(a(t))")
    p.add_argument("--dtype", choices=("float32", "float64"), default=d.dtype,
                   help="float32 for speed, float64 to compare with references")
    p.add_argument("--seed", type=integer, default=d.seed, help="seed of the initial weights and the samples")
    p.add_argument("--val-fraction", type=number, default=d.val_fraction,
                   help="the fraction at the end of the text held out for validation")
    p.add_argument("--eval-every", type=integer, default=d.eval_every,
                   help="updates between validation losses and checkpoints")
    p.add_argument("--sample-every", type=integer, default=d.sample_every,
                   help="updates between samples shown and written to samples.txt; 0: never")
    p.add_argument("--sample-length", type=integer, default=d.sample_length, help="characters per sample")
    p.add_argument("--diagnose-every", type=integer, default=0,
                   help="record gradient diagnostics (bptt diagnose RUN_DIR plots them) every N updates; 0: never")
    p.add_argument("--input-init-std", type=number, default=d.input_init_std,
                   help="draw the token inputs' weights U from N(0, std^2); 0: PyTorch's uniform(-1/sqrt(H), "
                        "1/sqrt(H))")
    p.add_argument("--out", type=Path, default=None,
                   help="run folder, new or empty (default: a new folder runs/DATE-TIME, never one in use)")
    p.add_argument("--resume", type=Path, default=None, metavar="DIR",
                   help="continue the run in DIR up to --steps, on its own text (give FILE if it moved); --lr, "
                        "--steps, --epochs, --eval-every, --sample-every, clipping and --lr-decay may change "
                        "(default: start a new run)")
    p.add_argument("--init-from", type=Path, default=None, metavar="DIR",
                   help="a new run on FILE starting from the weights of the run in DIR (fine-tuning): shared "
                        "characters keep their weights, new ones start fresh (default: fresh weights)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or samples on the screen")
    _not_given_is_none(p, set(CONFIG_FLAGS) | {"encoding", "newline"})
    p.set_defaults(run=run)


def _not_given_is_none(parser, dests):
    """These flags default to None, "not given", so that a resumed or fine-tuned run knows which
    ones the user asked for; their help names the default a new run takes."""
    for action in parser._actions:
        if action.dest in dests and action.default is not None:
            default = format(action.default, "g") if isinstance(action.default, float) else action.default
            if "default" not in (action.help or ""):
                action.help = f"{action.help} (default {default})"
            action.default = None


class _Progress:
    """Training's progress on an Output: loss, validation loss, bits per character, tokens/s, time left."""

    def __init__(self, output, total, start):
        self.output = output
        self.bar = output.progress("train", total, start)

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        self.bar.__exit__(*exc)

    def update(self, step, loss, val, tokens_per_s):
        val_s = f"val {val:.3f} ({val / math.log(2):.2f} bpc)" if val is not None else "val -"
        self.bar.update(step, f"loss {loss:.3f}  {val_s}  {tokens_per_s:,.0f} tok/s")

    def epoch(self, n, step, val):
        val_s = f": validation {val:.4f} nats/char ({val / math.log(2):.3f} bits/char)" if val is not None else ""
        self.output.line(f"epoch {n} done at update {step}{val_s}")

    def sample(self, step, text):
        self.output.panel(f"sample at step {step}", text)


# A closed terminal or a dropped ssh session (SIGHUP) is a stop like Ctrl-C and SIGTERM: save, then exit.
STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


def run(args):
    import signal

    output = Output()
    # A signal the caller ignores (nohup's SIGHUP, a background job's SIGINT) stays ignored.
    signals = [getattr(signal, name) for name in STOP_SIGNALS
               if hasattr(signal, name) and signal.getsignal(getattr(signal, name)) is not signal.SIG_IGN]
    # Outside Trainer.run (reading a large file, plotting) a signal stops at once, in one line;
    # inside it, Trainer.run's own handlers let the current step finish and save.
    old = {s: signal.signal(s, _stop) for s in signals}
    trainer, folder = None, _Folder()
    try:
        trainer = _setup(args, output, folder)
        code, summary = _train(args, trainer, output)
        signum = summary["interrupted"] if summary else None
    except _Stopped as stop:
        code, signum = 128 + stop.signum, stop.signum
    except BaseException:
        if trainer is None or trainer.step == 0:
            folder.undo()
        raise
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    if code != 0 and (trainer is None or trainer.step == 0):
        folder.undo()   # stopped or diverged before the first update: leave nothing behind
    if signum is not None:
        name = signal.Signals(signum).name
        if not folder.has_checkpoint():
            error_line(f"bptt: interrupted by {name} before training began; nothing to save")
        else:
            step = checkpoint_step(trainer.out)
            # One unwrapped line on stderr, so the resume command can be copied whole.
            error_line(f"bptt: interrupted by {name} at step {step}; the checkpoint {trainer.out / 'checkpoint.npz'} "
                       f"is saved. Resume with: bptt train --resume {trainer.out} --steps {trainer.config.steps}")
    return code


class _Folder:
    """The run folder as this run found it, so that a run which ends before its first update can
    take back what it made: the files it wrote, and the folder itself if it created it."""

    def __init__(self):
        self.path, self.created, self.before = None, False, set()

    def claim(self, path: Path, *, created: bool):
        self.path, self.created = path, created
        try:
            self.before = set() if created else {p.name for p in path.iterdir()}
        except OSError:   # unlistable: then nothing here is taken back
            self.path = None

    def has_checkpoint(self) -> bool:
        from ..train import checkpoint
        return self.path is not None and (self.path / checkpoint.FILENAME).is_file()

    def undo(self):
        if self.path is None or self.has_checkpoint() or not self.path.is_dir():
            return
        for p in self.path.iterdir():
            if p.name not in self.before and p.is_file():
                p.unlink(missing_ok=True)
        if self.created:
            try:
                self.path.rmdir()   # only if empty: never a file this run did not write
            except OSError:
                pass


def checkpoint_step(run_dir) -> int:
    from ..train import checkpoint
    return checkpoint.load(run_dir).meta.get("step", 0)


def _train(args, trainer, output):
    """Run, plot, print the summary; (exit code, summary)."""
    from ..train.plots import plot_loss
    from ..train.text import Diverged

    c = trainer.config
    if trainer.step >= c.steps:   # a resume to a --steps already reached: nothing to train
        output.line(f"{trainer.out}: already at step {trainer.step} (--steps {c.steps}); nothing to do")
        return 0, None
    output.line(f"run folder: {trainer.out}")
    try:
        if args.quiet:
            summary = trainer.run()
        else:
            with _Progress(output, c.steps, trainer.step) as progress:
                summary = trainer.run(progress)
    except Diverged as err:
        error_line(f"bptt: {err}")
        return 1, None
    if (trainer.out / "metrics.jsonl").is_file():   # a run stopped before its first log has no curve
        plot_loss(trainer.out / "metrics.jsonl", trainer.out / "loss.png")
    rows = [("updates", f"{summary['steps']}"), ("epochs completed", f"{summary['epoch']}"),
            ("training loss (nats/char)", _number(summary["loss"], ".4f"))]
    if summary["val_loss"] is not None:
        rows += [("validation loss (nats/char)", f"{summary['val_loss']:.4f}"),
                 ("validation bits/char", f"{summary['val_loss'] / math.log(2):.4f}")]
    rows += [("tokens/s", f"{summary['tokens_per_s']:,.0f}"), ("seconds", f"{summary['seconds']:.1f}"),
             ("skipped (non-finite) updates", f"{summary['skipped']}")]
    if trainer.init_from:
        n = trainer.init_from
        rows.append(("fine-tuned from", f"{n['run']}: {n['shared']} characters shared, {n['new']} new, "
                                        f"{n['dropped']} dropped"))
    files = [name for name in RUN_FILES if (trainer.out / name).is_file()]
    rows += [("run folder", f"{trainer.out}"), ("files", ", ".join(files))]
    output.fields("bptt train: summary", rows)
    if summary["interrupted"] is not None:
        return 128 + summary["interrupted"], summary
    return 0, summary


RUN_FILES = ("checkpoint.npz", "metrics.jsonl", "summary.json", "loss.png", "samples.txt")


def _number(value, spec):
    return "-" if value is None or value != value else format(value, spec)


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


def _setup(args, output, folder):
    """Check the flags, read the text, and make (or resume, or fine-tune) the Trainer."""
    from ..train.text import TrainConfig, Trainer, fine_tune_config, steps_for_epochs

    if args.file and args.data:
        raise ValueError(f"FILE: expected either FILE or --data, got both ({args.file!r} and --data {args.data})")
    if args.steps is not None:
        check.positive_int("--steps", args.steps)
    if args.steps is not None and args.epochs is not None:   # which one wins would be a guess
        raise ValueError(f"--epochs: expected either --steps or --epochs, got both (--steps {args.steps}, "
                         f"--epochs {args.epochs:g})")
    given = _given(args)
    if args.resume is not None:
        return _resume(args, given, output, folder)
    config = TrainConfig(**given).validate()   # bad flags are named before a big file is read
    if args.init_from is not None:      # so are a bad run and a flag against its model
        fine_tune_config(args.init_from, given)
    out = args.out
    if out is None:
        out = _new_run_folder(Path("runs"))
        folder.claim(out, created=True)
    elif out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out: expected a folder, got {str(out)!r}, which is a file")
    if (out / "checkpoint.npz").exists():
        raise ValueError(f"--out: expected a new or empty run folder, got {str(out)!r}, which holds a run "
                         f"(continue it with --resume {out})")
    if folder.path is None:
        made = not out.exists()
        check_writable(out)
        folder.claim(out, created=made)
    source = args.file or args.data or "the embedded corpus (pydoc_data)"
    encoding, newline = args.encoding or "utf-8", args.newline or "normalize"
    corpus = _read_corpus(args.file or args.data, encoding, newline, out, output, args.quiet)
    if args.epochs is not None:
        given["steps"] = steps_for_epochs(args.epochs, len(corpus), config)
    if args.init_from is not None:
        trainer = Trainer.fine_tune(args.init_from, corpus, out, given)
        n = trainer.init_from
        output.line(f"fine-tuning from {n['run']}: {n['shared']} characters shared (trained weights kept), "
                    f"{n['new']} new (fresh weights), {n['dropped']} only in that run (dropped)")
    else:
        trainer = Trainer(TrainConfig(**given), corpus, out)
    config = trainer.config
    data.remember_source(out, args.file, args.data, encoding, newline, corpus.identity())
    layers = f"{config.layers}-layer " if config.layers > 1 else ""
    output.line(f"training on {source}: {len(corpus):,} characters, vocabulary {len(trainer.vocab)}, "
                f"{layers}{config.cell}, H={config.hidden}, k1={config.seq_length}, "
                f"{f'k2={config.k2}' if config.gradient == 'bptt' else f'gradient {config.gradient}'}, "
                f"B={config.batch_size}, {config.steps} updates, {config.optimizer} lr={config.lr:g}, {config.dtype}")
    return trainer


def _resume(args, given, output, folder):
    """Continue a run: its own text (FILE if it moved), the flags that can change applied, the rest refused."""
    from ..train import checkpoint
    from ..train.text import Trainer

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
    corpus = _read_corpus(origin, encoding, newline, run_dir, output, args.quiet)
    changes = dict(given)
    if args.epochs is not None:
        changes["epochs"] = args.epochs
    folder.claim(run_dir, created=False)
    trainer = Trainer.resume(run_dir, corpus, changes=changes)
    if given_text:     # the run's text, checked: where it now lives is where a later resume looks
        data.remember_source(run_dir, args.file, args.data, encoding, newline, corpus.identity())
    return trainer


def _new_run_folder(parent: Path) -> Path:
    """runs/<date>-<time>, made here and now: mkdir is atomic, so two runs started in the same
    second get two folders (the second one "-2"), never one between them."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise PermissionError(f"--out: expected a writable folder for runs, got {str(parent)!r} "
                              f"({err.strerror})") from None
    for n in range(1, 10_000):
        path = parent / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
        except OSError as err:
            raise PermissionError(f"--out: expected a writable folder, got {str(path)!r} ({err.strerror})") from None
    raise ValueError(f"--out: expected a free run folder name under {str(parent)!r}, got {stamp} to {stamp}-9999 taken")


def _read_corpus(source, encoding, newline, workdir, output, quiet):
    """The text as ids: a file is streamed (two passes, a progress bar), the embedded corpus is a string."""
    if source is None:
        return data.Corpus.from_text(data.default_corpus(), name="the embedded corpus")
    if quiet or output.console is None:
        return data.Corpus.from_file(source, encoding=encoding, newline=newline, workdir=workdir)
    from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                               TransferSpeedColumn)
    with Progress(TextColumn("[bold]read"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  TimeRemainingColumn(), console=output.console, transient=True) as bar:
        task = bar.add_task("read", total=None)
        return data.Corpus.from_file(source, encoding=encoding, newline=newline, workdir=workdir,
                                     progress=lambda done, total: bar.update(task, completed=done, total=total))
