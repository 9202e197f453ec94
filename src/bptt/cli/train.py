"""`bptt train`: train a character-level language model (any cell) on text with truncated BPTT,
with a progress bar and a run folder."""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

from .. import _validate as check
from .. import data
from ..data import NEWLINES
from ..nn.cells import CELLS
from ..train.signals import Stopped, signal_name, stopping_at_once
from ._args import check_writable, positive_float
from ._config import add_config_flags
from ._config import given as given_flags
from ._output import Output, error_line


def add(sub):
    from ..train.config import flag
    from ..train.text import RESUMABLE, TrainConfig
    p = sub.add_parser("train", help="train on a text file (default: the embedded corpus)",
                       description=f"Train a character-level language model, a stack of --layers recurrent "
                                   f"layers of any cell (--cell {', '.join(CELLS)}) and a softmax readout, "
                                   f"with truncated BPTT(k2; k1). With no FILE, the embedded corpus (the "
                                   f"standard library's pydoc reference text) is used.",
                       epilog="Checkpoints: the run folder's checkpoint.npz is replaced (atomically: the previous "
                              "one survives a crash) every --eval-every updates, at the end of every epoch, at "
                              "the last update, and when Ctrl-C, SIGTERM or SIGHUP stops the run after the update "
                              "in flight. The run folder also holds metrics.jsonl, summary.json, loss.png and, "
                              "once a sample is drawn, samples.txt.")
    p.add_argument("file", nargs="?", metavar="FILE", help="a UTF-8 text file (default: the embedded corpus)")
    p.add_argument("--data", choices=tuple(data.PUBLIC_CORPORA),
                   help="a named public corpus, downloaded once and cached, instead of FILE (default: none)")
    p.add_argument("--encoding", default=None,
                   help="the text file's encoding; a resumed run keeps its own (default utf-8)")
    p.add_argument("--newline", choices=NEWLINES, default=None,
                   help="normalize: \\r\\n and a lone \\r become \\n, as editors read text; keep: every "
                        "character as it is; a resumed run keeps its own (default normalize)")
    add_config_flags(p, TrainConfig)
    p.add_argument("--epochs", type=positive_float, default=None,
                   help="passes over the training text, instead of --steps (default: none, --steps decides)")
    p.add_argument("--out", type=Path, default=None,
                   help="run folder, new or empty (default: a new folder runs/DATE-TIME, never one in use)")
    resumable = ", ".join(flag(f.name) for f in dataclasses.fields(TrainConfig)
                          if f.name in RESUMABLE and f.metadata.get("help"))
    p.add_argument("--resume", type=Path, default=None, metavar="DIR",
                   help=f"continue the run in DIR up to --steps, on its own text (give FILE if it moved); "
                        f"{resumable} and --epochs may change, and the change is shown, logged and marked on "
                        f"loss.png (default: start a new run)")
    p.add_argument("--init-from", type=Path, default=None, metavar="DIR",
                   help="a new run on FILE starting from the weights of the run in DIR (fine-tuning): shared "
                        "characters keep their weights, new ones start fresh (default: fresh weights)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or samples on the screen")
    p.add_argument("--bidirectional", action="store_true",
                   help="refused: a language model predicts the next character, which a reverse direction "
                        "would already have read (bidirectional models: bptt task NAME --bidirectional)")
    p.set_defaults(run=run)


class _Progress:
    """Training's progress on an Output (``train.progress.Progress``): on its bar the loss, validation
    loss, bits per character, tokens/s and time left; a line at each epoch's end; the samples."""

    def __init__(self, output, bar):
        self.output, self.bar = output, bar

    def update(self, step, stats):
        val = stats["val_loss"]
        val_s = f"val {val:.3f} ({val / math.log(2):.2f} bpc)" if val is not None else "val -"
        self.bar.update(step, f"loss {stats['loss']:.3f}  {val_s}  {stats['tokens_per_s']:,.0f} tok/s")

    def evaluated(self, step, record):
        if "epochs_completed" not in record:
            return
        val = record.get("val_loss")
        val_s = f": validation {val:.4f} nats/char ({val / math.log(2):.3f} bits/char)" if val is not None else ""
        self.output.line(f"epoch {record['epochs_completed']} done at update {step}{val_s}")

    def sampled(self, step, text):
        self.output.panel(f"sample at step {step}", text)


def run(args):
    output = Output()
    trainer, folder = None, _Folder()
    # Outside Trainer.run (reading a large file, plotting) a signal stops at once, in one line;
    # inside it, Trainer.run's own handlers let the current step finish and save.
    try:
        with stopping_at_once():
            trainer = _setup(args, output, folder)
            code, summary = _train(args, trainer, output)
        signum = summary["interrupted"] if summary else None
    except Stopped as stop:
        code, signum = 128 + stop.signum, stop.signum
    except BaseException:
        if trainer is None or trainer.step == 0:
            folder.undo()
        raise
    if code != 0 and (trainer is None or trainer.step == 0):
        folder.undo()   # stopped or diverged before the first update: leave nothing behind
    if signum is not None:
        name = signal_name(signum)
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
    return checkpoint.load(run_dir, accept=("network",)).meta.get("step", 0)


def _train(args, trainer, output):
    """Run, plot, print the summary; (exit code, summary)."""
    from ..train.plots import plot_loss
    from ..train.text import Diverged, describe_changes

    c = trainer.config
    if trainer.step >= c.steps:   # a resume to a --steps already reached: nothing to train
        output.line(f"{trainer.out}: already at step {trainer.step} (--steps {c.steps}); nothing to do")
        return 0, None
    output.line(f"run folder: {trainer.out}")
    if trainer.resumed:      # the curve may bend here: say why on the screen, as metrics.jsonl and loss.png do
        output.line(f"resumed at step {trainer.step} with changed settings: {describe_changes(trainer.resumed)}")
    try:
        if args.quiet:
            summary = trainer.run()
        else:
            with output.progress("train", c.steps, trainer.step) as bar:
                summary = trainer.run(_Progress(output, bar))
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


def _setup(args, output, folder):
    """Check the flags, read the text, and make (or resume, or fine-tune) the Trainer."""
    from ..train import memory
    from ..train.text import TrainConfig, Trainer, fine_tune_config, steps_for_epochs

    if args.bidirectional:
        raise ValueError("--bidirectional: expected a unidirectional model for a text language model (it predicts "
                         "each next character, which a reverse direction would already have read), got "
                         "--bidirectional; bidirectional models train on tasks: bptt task lookahead --bidirectional")
    if args.file and args.data:
        raise ValueError(f"FILE: expected either FILE or --data, got both ({args.file!r} and --data {args.data})")
    if args.steps is not None:
        check.positive_int("--steps", args.steps)
    if args.steps is not None and args.epochs is not None:   # which one wins would be a guess
        raise ValueError(f"--epochs: expected either --steps or --epochs, got both (--steps {args.steps}, "
                         f"--epochs {args.epochs:g})")
    given = given_flags(args, TrainConfig)
    if args.resume is not None:
        return _resume(args, given, output, folder)
    config = TrainConfig(**given).validate()   # bad flags are named before a big file is read
    sized = config
    if args.init_from is not None:      # so are a bad run and a flag against its model
        sized = fine_tune_config(args.init_from, given)[1]
    memory.check_text_run(sized, vocab_size=1)      # and sizes that cannot fit with any text
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
    memory.check_text_run(sized, len(corpus.vocab))  # with its vocabulary (refused: the folder is taken back)
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
    checkpoint.load(run_dir, name="--resume", accept=("network",))       # a damaged run is named before its text is read
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
