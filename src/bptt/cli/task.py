"""`bptt task`: train a cell on a long-lag task until its paper's criterion holds, and say so."""

from __future__ import annotations

import time
from pathlib import Path

from ..train.signals import Stopped, signal_name, stopping_at_once
from ._args import check_writable
from ._config import add_config_flags, given


DESCRIPTION = ("Train a cell on fresh sequences of a long-lag task, score it on held-out sequences, stop as soon "
               "as the task's criterion holds, and write result.json, checkpoint.npz, metrics.jsonl and two "
               "pictures. Unset flags take the defaults tuned for the task and cell. Ctrl-C, SIGTERM or SIGHUP "
               "stops after the update in flight and writes the model so far.")


def add(sub):
    from ..train.task import TaskConfig
    p = sub.add_parser("task", help="train on a long-lag task (adding, adding-1997, temporal-order, copy)",
                       description=DESCRIPTION)
    add_config_flags(p, TaskConfig)
    p.add_argument("--out", type=Path, default=None, help="run folder (default: a new folder under runs/)")
    p.add_argument("--resume", type=Path, default=None, metavar="DIR",
                   help="continue the task run in DIR from its checkpoint (its last held-out score, or where it "
                        "stopped), bit for bit as if it had not stopped; only --steps, --eval-every, --log-every "
                        "and --threads may change (default: a new run)")
    p.add_argument("--quiet", action="store_true", help="no progress")
    p.set_defaults(run=run)


class _Progress:
    """Task training's progress on a bar (``train.progress.Progress``): live on a terminal; in a pipe
    or a log, one plain line per held-out score. Each shows the training loss, the latest held-out
    metric against the baseline and the criterion, and the time left."""

    def __init__(self, bar, baseline, criterion, first=None):
        self.bar, self.baseline, self.criterion = bar, baseline, criterion
        self.first = first       # called once before the first line: a resumed run says so above its progress

    def _stats(self, loss, metric):
        held = "-" if metric is None else _g(metric)
        return f"loss {_g(loss)}  held-out {held} (baseline {self.baseline:.4g}, solved when {self.criterion})"

    def _begin(self):
        if self.first is not None:
            self.first, first = None, self.first
            first()

    def update(self, step, stats):
        self._begin()
        self.bar.update(step, self._stats(stats["loss"], stats["metric"]))

    def evaluated(self, step, record):
        self._begin()
        self.bar.update(step, self._stats(record["loss"], record["metric"]), line=True)

    def sampled(self, step, text):
        pass


def run(args):
    from ..data import tasks
    from .. import _threads
    from ..train import memory
    from ..train.task import Diverged, TaskConfig, default_config, train
    from ._output import Output, error_line

    if args.resume is not None:
        return _resume(args)
    config = default_config(**given(args, TaskConfig)).validate()
    memory.check_task_run(config)       # before the run folder is made: a run that cannot fit leaves nothing
    task = tasks.get(config.task)
    kind = f"{config.cell}-bi" if config.bidirectional else config.cell
    out = args.out or Path("runs") / f"{config.task}-{kind}-T{config.length}-{time.strftime('%Y%m%d-%H%M%S')}"
    _check_out(out)
    output = Output()
    baseline = task.baseline(config.length)
    output.line(f"{task.name} (after {task.paper}), T = {config.length}, cell {config.cell}: H={config.hidden}, "
                f"layers {config.layers}{', bidirectional' if config.bidirectional else ''}, B={config.batch_size}, at most {config.steps} updates, "
                f"{config.optimizer} lr={config.lr:g}"
                f"{f' times {config.lr_decay:g} every {config.lr_decay_every} updates' if config.lr_decay != 1 else ''}"
                f", clip {config.clip}, seed {config.seed}"
                f"{'' if config.gradient == 'bptt' else f', gradient {config.gradient} ' + (f'every {config.seq_length} steps' if config.seq_length else 'once per sequence')}"
                f"; solved when "
                f"{task.criterion} on {config.eval_size} held-out sequences (baseline {baseline:.4g}: "
                f"{task.baseline_means})")
    # Outside train's loop a signal stops at once, in one line; inside it, train's own handlers
    # let the update in flight finish, then the model so far is scored and written.
    try:
        with stopping_at_once(), _threads.for_update(config.threads):   # each update sets its own
            if args.quiet:
                result = train(config, out)
            else:
                with output.progress("train", config.steps, every=None, tenths=False) as bar:
                    result = train(config, out, progress=_Progress(bar, baseline, task.criterion))
    except Stopped as stop:
        error_line(f"bptt: interrupted by {signal_name(stop.signum)}; {out} holds what was written so far")
        return 128 + stop.signum
    except Diverged as err:
        error_line(f"bptt: {err}")
        return 1
    return _report(output, result, out)


def _report(output, result, out) -> int:
    from ..train.signals import signal_name
    from ._output import error_line
    verdict = "solved" if result["solved"] else "not solved"
    output.line(f"{verdict}: {result['metric_name']} {_g(result['metric'])} on {result['eval_size']} held-out "
                f"sequences (baseline {result['baseline']:.4g}, solved when {result['criterion']}) after "
                f"{result['updates']} updates ({result['sequences_seen']} sequences), {result['seconds']:.1f} s")
    profile = ", lag_profile.png" if result.get("lag_ratio") is not None and result.get("model") != "seq2seq" else ""
    output.line(f"files: {out}/result.json, checkpoint.npz, metrics.jsonl, learning_curve.png{profile}")
    if "interrupted" in result:
        error_line(f"bptt: interrupted by {signal_name(result['interrupted'])} at update {result['updates']}; "
                   f"the model so far and its score are in {out}")
        return 128 + result["interrupted"]
    return 0


def _resume(args) -> int:
    """``bptt task TASK --resume DIR``: a task run (one network, or an encoder-decoder) continued where its
    checkpoint left it, bit for bit as if it had not stopped."""
    from .. import _threads
    from ..train import checkpoint, task as task_training
    from ..train.task import Diverged, TaskConfig
    from ._output import Output, error_line
    if args.out is not None:
        raise ValueError(f"--out: expected no --out with --resume (a resumed run stays in its folder), got {str(args.out)!r}")
    changes = given(args, TaskConfig)
    task = changes.pop("task")
    output = Output()
    try:
        ck = checkpoint.load(args.resume, name="--resume")
        run_task = (ck.meta.get("run") or {}).get("config", {}).get("task")
        if run_task is not None and task != run_task:
            raise ValueError(f"TASK: expected the run's task {run_task!r} with --resume, got {task!r}")
        step = (ck.meta.get("run") or {}).get("step")
        said = f"resumed {task} at update {step} in {ck.path.parent}"
        with stopping_at_once(), _threads.for_update(changes.get("threads")):
            if args.quiet:
                result = task_training.resume(args.resume, changes)
            else:
                result, said = _resume_showing(args.resume, changes, ck, output, said)
        if said is not None:                     # not shown above the progress: a quiet run's
            output.line(said)
    except Stopped as stop:
        error_line(f"bptt: interrupted by {signal_name(stop.signum)}; {args.resume} holds what was written so far")
        return 128 + stop.signum
    except Diverged as err:
        error_line(f"bptt: {err}")
        return 1
    return _report(output, result, ck.path.parent)


def _resume_showing(run, changes, ck, output, said):
    """The resumed run, its progress shown as a new run's is (the bar counts from the run's start),
    ``said`` on the line above it. Returns (result, ``said`` if it is still to be printed, else None)."""
    from dataclasses import replace
    from ..data import tasks
    from ..train import task as task_training
    from ..train.task import TaskConfig
    saved = (ck.meta.get("run") or {}).get("config")
    try:
        config = replace(TaskConfig(**saved), **changes)
    except TypeError:        # an unreadable run state: resume says so in one line
        return task_training.resume(run, changes), said
    task = tasks.get(config.task)
    shown = []
    with output.progress("train", config.steps, every=None, tenths=False) as bar:
        progress = _Progress(bar, task.baseline(config.length), task.criterion,
                             first=lambda: (output.line(said), shown.append(True)))
        result = task_training.resume(run, changes, progress=progress)
    return result, (None if shown else said)


def _g(value) -> str:
    """A number as the lines print it; None is what the run folder holds for an overflow."""
    return "overflowed" if value is None else f"{value:.4g}"


def _check_out(out: Path):
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out: expected a folder, got {str(out)!r}, which is a file")
    if (out / "result.json").exists() or (out / "checkpoint.npz").exists():
        raise ValueError(f"--out: expected a new or empty run folder, got {str(out)!r}, which holds a run")
    check_writable(out)
