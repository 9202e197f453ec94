"""`bptt task`: train a cell on a long-lag task until its paper's criterion holds, and say so."""

from __future__ import annotations

import time
from pathlib import Path

from ._args import check_writable, integer, number


def add(sub):
    from ..train.task import ALL_CELLS, DEFAULTS, INITS, TaskConfig
    from ..data.tasks import TASKS
    d = TaskConfig()
    lrs = ", ".join(f"{cell} {DEFAULTS[cell]['lr']:g}" for cell in ALL_CELLS)
    p = sub.add_parser("task", help="train on a long-lag task (adding, adding-1997, temporal-order, copy)",
                       description="Train a cell on fresh sequences of a long-lag task, score it on held-out "
                                   "sequences, stop as soon as the task's criterion holds, and write "
                                   "result.json, checkpoint.npz, metrics.jsonl and two pictures. Unset "
                                   "flags take the defaults tuned for the task and cell.")
    p.add_argument("task", choices=tuple(TASKS), metavar="TASK", help=f"the task: {', '.join(TASKS)} (required)")
    p.add_argument("--cell", choices=ALL_CELLS, default="rnn", help="default rnn")
    p.add_argument("--length", type=integer, default=None,
                   help="T, the lag (default: the paper's, 50 for adding and copy)")
    p.add_argument("--hidden", type=integer, default=None, help=f"H (default {d.hidden})")
    p.add_argument("--layers", type=integer, default=None, help=f"default {d.layers}")
    p.add_argument("--batch-size", type=integer, default=None, help=f"fresh sequences per update (default {d.batch_size})")
    p.add_argument("--steps", type=integer, default=None, help=f"the update budget (default {d.steps})")
    p.add_argument("--lr", type=number, default=None, help=f"learning rate (default: {lrs})")
    p.add_argument("--optimizer", choices=("sgd", "adagrad", "rmsprop", "adam"), default=None,
                   help=f"the optimiser (default {d.optimizer})")
    p.add_argument("--clip", type=number, default=None, help=f"global-norm clip (default {d.clip:g}; 0: off)")
    p.add_argument("--nonlinearity", choices=("tanh", "relu"), default=None,
                   help="--cell rnn only: f in h(t) = f(a(t)) (default tanh)")
    p.add_argument("--init", choices=INITS, default=None,
                   help="uniform: uniform(-1/sqrt(H), 1/sqrt(H)), then the cell's own adjustment (the "
                        "lstm's forget bias); identity (--cell rnn only): W = I, b = 0 (with "
                        "--nonlinearity relu: the IRNN); chrono (--cell lstm or gru): the gate biases of "
                        "Tallec & Ollivier 2018 for the task's longest lag (default: uniform, or the "
                        "task's tuned choice)")
    p.add_argument("--forget-bias", type=number, default=None,
                   help="--cell lstm only, not with --init chrono: added to the forget gate's bias "
                        "at initialisation (default 1)")
    p.add_argument("--seed", type=integer, default=None,
                   help=f"initial weights, training batches and held-out set (default {d.seed})")
    p.add_argument("--eval-every", type=integer, default=None, help=f"updates between held-out scores (default {d.eval_every})")
    p.add_argument("--eval-size", type=integer, default=None, help=f"held-out sequences (default {d.eval_size})")
    p.add_argument("--dtype", choices=("float32", "float64"), default=None,
                   help=f"the model's float type (default {d.dtype})")
    p.add_argument("--out", type=Path, default=None, help="run folder (default: a new folder under runs/)")
    p.add_argument("--quiet", action="store_true", help="no progress")
    p.set_defaults(run=run)


class _Progress:
    """The bar (a terminal) or a plain line at each tenth (anywhere else): the training loss, the
    latest held-out metric against the baseline and the criterion, and the time left."""

    def __init__(self, output, total, baseline, criterion):
        self.bar = output.progress("train", total)
        self.baseline, self.criterion = baseline, criterion

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        self.bar.__exit__(*exc)

    def __call__(self, r):
        metric = "-" if r["metric_last"] is None else _g(r["metric_last"])
        self.bar.update(r["step"], f"loss {_g(r['loss'])}  held-out {metric} (baseline {self.baseline:.4g}, "
                                   f"solved when {self.criterion})")


def run(args):
    from ..data import tasks
    from ..train.task import Diverged, default_config, train
    from ._output import Output, error_line

    config = default_config(args.task, args.cell, length=args.length, hidden=args.hidden, layers=args.layers,
                            batch_size=args.batch_size, steps=args.steps, lr=args.lr,
                            optimizer=args.optimizer, clip=args.clip, nonlinearity=args.nonlinearity,
                            init=args.init, forget_bias=args.forget_bias, seed=args.seed, eval_every=args.eval_every,
                            eval_size=args.eval_size, dtype=args.dtype)
    if args.clip == 0:
        from dataclasses import replace
        config = replace(config, clip=None)
    config.validate()
    task = tasks.get(config.task)
    out = args.out or Path("runs") / f"{config.task}-{config.cell}-T{config.length}-{time.strftime('%Y%m%d-%H%M%S')}"
    _check_out(out)
    output = Output()
    baseline = task.baseline(config.length)
    output.line(f"{task.name} (after {task.paper}), T = {config.length}, cell {config.cell}: H={config.hidden}, "
                f"layers {config.layers}, B={config.batch_size}, at most {config.steps} updates, "
                f"{config.optimizer} lr={config.lr:g}, clip {config.clip}, seed {config.seed}; solved when "
                f"{task.criterion} on {config.eval_size} held-out sequences (baseline {baseline:.4g}: "
                f"{task.baseline_means})")
    try:
        if args.quiet:
            result = train(config, out)
        else:
            with _Progress(output, config.steps, baseline, task.criterion) as progress:
                result = train(config, out, progress=progress)
    except Diverged as err:
        error_line(f"bptt: {err}")
        return 1
    verdict = "solved" if result["solved"] else "not solved"
    output.line(f"{verdict}: {result['metric_name']} {_g(result['metric'])} on {result['eval_size']} held-out "
                f"sequences (baseline {result['baseline']:.4g}, solved when {result['criterion']}) after "
                f"{result['updates']} updates ({result['sequences_seen']} sequences), {result['seconds']:.1f} s")
    output.line(f"files: {out}/result.json, checkpoint.npz, metrics.jsonl, learning_curve.png, lag_profile.png")
    return 0


def _g(value) -> str:
    """A number as the lines print it; None is what the run folder holds for an overflow."""
    return "overflowed" if value is None else f"{value:.4g}"


def _check_out(out: Path):
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out: expected a folder, got {str(out)!r}, which is a file")
    if (out / "result.json").exists() or (out / "checkpoint.npz").exists():
        raise ValueError(f"--out: expected a new or empty run folder, got {str(out)!r}, which holds a run")
    check_writable(out)
