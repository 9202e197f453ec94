"""Training on a long-lag task (``tasks.py``): fresh batches, a held-out set, an early stop.

Every update draws a new batch from the task's generator, back-propagates through the whole
sequence (full BPTT: the lag is the point) and applies one optimiser step. Every
``eval_every`` updates the model is scored on a held-out set of fresh sequences drawn once
from a separate seed; training stops as soon as the task's criterion holds there, or when the
update budget ends. A run folder then holds ``result.json``, ``checkpoint.npz`` (the model
alone, which maps the generator's inputs to its outputs), ``metrics.jsonl``,
``learning_curve.png`` and ``lag_profile.png``.

Shape legend: T time, B batch, I inputs, H hidden, O outputs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np

from .. import _validate as check
from . import checkpoint as ckpt
from . import runfiles, signals
from ..data import tasks
from ..nn.activations import ACTIVATIONS
from ..nn.cells import CELLS as NN_CELLS
from ..nn.network import GRU, LSTM, Network, SimpleRNN, suffix
from ..nn.dropout import dropout_masks
from .config import DROPOUT_HELP, DTYPES, build_network, check_cell_options, check_fields, flag, option, options_of, written
from .evaluate import scored_chunks
from .optim import OPTIMIZERS
from .progress import SILENT, Progress
from .update import Diverged, Updates  # noqa: F401  (Diverged: what train() raises, importable from here)

EVAL_CHUNK = 250          # held-out sequences per forward pass: keeps (T, chunk, 4H) arrays small
PROFILE_SEQUENCES = 4     # held-out sequences the lag profile is measured on
METRICS = "metrics.jsonl"


# ------------------------------------------------------------------------------ the models
def identity_init(model) -> None:
    """Le et al. (2015): every layer's recurrent matrix W set to the identity, its bias b to zero."""
    params = dict(model.params)
    for layer in range(model.layers):
        params["W" + suffix(layer)] = np.eye(model.n_hidden)
        params["b" + suffix(layer)] = np.zeros(model.n_hidden)
    model.set_params(params)


def irnn(n_in, n_hidden, n_out, **options):
    """The IRNN of Le et al. (2015): a ReLU RNN started from W = I, b = 0."""
    model = SimpleRNN(n_in, n_hidden, n_out, nonlinearity="relu", **options)
    identity_init(model)
    return model


# cell name -> constructor(n_in, n_hidden, n_out, *, output, layers, seed, dtype): every cell of
# bptt.nn.cells (a cell without a named class, the leaky unit, is a Network of it) and the IRNN.
CELLS = {
    "rnn": SimpleRNN,       # Goodfellow et al. ch. 10: tanh, uniform(-1/sqrt(H), 1/sqrt(H))
    "irnn": irnn,           # Le et al. 2015
    "lstm": LSTM,           # Hochreiter & Schmidhuber 1997, with the forget gate (bias 1)
    "gru": GRU,             # Cho et al. 2014
}
CELLS.update({name: partial(Network.create, name) for name in NN_CELLS if name not in CELLS})
INITS = ("uniform", "identity")

# Per cell, then per (task, cell): what differs from TaskConfig's defaults. Measured on adding
# at T = 50 (H = 64, B = 50, Adam, clip 1, seed 0; benchmarks/long_lag.py has the rest): the LSTM
# solves it in 500 updates at lr 1e-2 (2,100 at 1e-3), the GRU in 300 at 1e-2; the IRNN in
# 1,200 at 3e-4 (at 1e-4 it was still at MSE 0.02 after 3,000); the tanh RNN stays at the
# baseline at both 1e-3 (2,000 updates) and 1e-2 (1,500).
DEFAULTS = {
    "rnn": dict(lr=1e-3),
    "irnn": dict(lr=3e-4),
    "lstm": dict(lr=1e-2),
    "gru": dict(lr=1e-2),
}
DEFAULT_LENGTH = {"adding": 50, "adding-1997": 100, "temporal-order": 100, "copy": 50}


def _per(table: dict, key: str) -> str:
    return ", ".join(f"{name} {format(value[key] if key else value, 'g')}" for name, value in table.items())


# ------------------------------------------------------------------------------ the config
@dataclass(frozen=True)
class TaskConfig:
    """Training on a long-lag task. Each field's help (``option``) is what ``bptt task --help`` says
    of its flag; ``default_config`` fills in the defaults tuned per task and cell."""

    task: str = option("adding", "the task", choices=tasks.TASKS, positional="TASK")
    cell: str = option("rnn", "the recurrent cell; irnn: Le et al.'s ReLU RNN started from W = I, b = 0",
                       choices=CELLS)
    length: int = option(50, "T, the lag (the sequence length for adding)",
                         says_default=f"the paper's: {_per(DEFAULT_LENGTH, '')}")
    hidden: int = option(64, "H, hidden units")
    layers: int = option(1, "recurrent layers stacked")
    dropout: float = option(0.0, DROPOUT_HELP)
    batch_size: int = option(50, "B, fresh sequences per update")
    steps: int = option(2000, "the update budget")
    lr: float = option(1e-3, "learning rate", says_default=f"per cell: {_per(DEFAULTS, 'lr')}")
    optimizer: str = option("adam", "the update rule, as torch.optim's", choices=OPTIMIZERS)
    clip: float | None = option(1.0, "clip the global gradient norm to this (Pascanu et al. 2013); 0: off",
                                zero_is_none=True)
    nonlinearity: str | None = option(None, "f in h(t) = f(a(t))", choices=ACTIVATIONS, says_default="tanh")
    init: str | None = option(None, "uniform(-1/sqrt(H), 1/sqrt(H)), or identity: W = I, b = 0 (with "
                                    "--nonlinearity relu: the IRNN)", choices=INITS, says_default="uniform")
    seed: int = option(0, "initial weights, training batches and held-out set")
    eval_every: int = option(100, "updates between held-out scores (and the early-stop check)")
    eval_size: int = option(1000, "held-out sequences")
    dtype: str = option("float32", "the model's float type", choices=DTYPES)
    log_every: int = 10           # updates between metrics lines

    # {cell: the options it takes}: the cells' own (bptt.nn.cells: the rnn's nonlinearity), and the
    # rnn's init; the IRNN fixes both.
    CELL_OPTIONS = {**{name: frozenset() for name in CELLS}, **options_of()}
    CELL_OPTIONS["rnn"] = CELL_OPTIONS["rnn"] | {"init"}

    def validate(self):
        """Every field checked; each error names the flag that sets it."""
        check_fields(self)
        task = tasks.get(self.task)
        task.check_length(self.length)
        for name in ("hidden", "layers", "batch_size", "steps", "eval_every", "eval_size", "log_every"):
            check.positive_int(flag(name), getattr(self, name))
        check.nonnegative_int("--seed", self.seed)
        check.number_in("--lr", self.lr, 0)
        check.number_in("--dropout", self.dropout, 0, 1, lo_open=False)
        if self.clip is not None:
            check.number_in("--clip", self.clip, 0, lo_open=False, note="0 turns clipping off")
        check_cell_options(self, self.CELL_OPTIONS)
        return self


def default_config(task="adding", cell="rnn", **overrides) -> TaskConfig:
    """The tuned defaults for a task and cell, with ``overrides`` on top (None too: clip=None is off)."""
    values = {"task": task, "cell": cell, "length": DEFAULT_LENGTH.get(task, 50)}
    values.update(DEFAULTS.get(cell, {}))
    values.update(DEFAULTS.get((task, cell), {}))
    values.update(overrides)
    return TaskConfig(**values)


def build_model(config: TaskConfig):
    """The model ``config`` asks for, mapping the task's inputs to its outputs."""
    task = tasks.get(config.task)
    if config.cell == "irnn":
        config = replace(config, cell="rnn", nonlinearity="relu", init="identity")
    model = build_network(config, task.n_in, task.n_out, output=task.output)
    if config.init == "identity":
        identity_init(model)
    return model


# --------------------------------------------------------------------------- the scoring
def evaluate(model, task: tasks.Task, batch: tasks.Batch, chunk=EVAL_CHUNK) -> tuple[float, float]:
    """(metric, loss per target step) of ``model`` on ``batch``, in chunks of sequences."""
    outputs, loss_sum = [], 0.0
    for trace, loss, _ in scored_chunks(model, batch.x, _targets(batch.y, model), batch.mask, chunk=chunk,
                                        along="sequences"):
        loss_sum += loss * trace.o.shape[1]
        outputs.append(trace.o)
    o = np.concatenate(outputs, axis=1)                          # (T, B, O)
    return task.metric(o, batch), loss_sum / float(batch.mask.sum())


def _columns(batch: tasks.Batch, cols) -> tasks.Batch:
    return tasks.Batch(batch.x[:, cols], batch.y[:, cols], batch.mask[:, cols])


def _targets(y, model):
    return y.astype(model.dtype) if y.dtype.kind == "f" else y


# ---------------------------------------------------------------------------- the training
def train(config: TaskConfig, out, *, progress: Progress | None = None) -> dict:
    """Train, write the run folder ``out`` and return the result (as written to result.json).

    progress: told of every update and every held-out score (``progress.Progress``).
    A stop signal (``signals``: Ctrl-C, SIGTERM, SIGHUP) ends training after the update in flight;
    the model so far is scored, saved and written as usual, with ``interrupted`` (the signal's
    number) in the result.
    """
    config = config.validate()
    progress = SILENT if progress is None else progress
    task = tasks.get(config.task)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = build_model(config)
    opt = OPTIMIZERS[config.optimizer](model.params, config.lr)
    updates = Updates(opt, lr=config.lr, clip=config.clip)
    rng = np.random.default_rng([config.seed, 0])                # training batches
    held_out = task.generate(config.length, config.eval_size, np.random.default_rng([config.seed, 1]))
    baseline = task.baseline(config.length)
    log = out / METRICS
    log.write_text("")
    t0 = time.perf_counter()
    step = sequences = 0
    metric = held_loss = None
    solved = False
    last_loss = last_norm = float("nan")
    with signals.noted() as stop:
        while step < config.steps and not solved and stop.signum is None:
            batch = task.generate(config.length, config.batch_size, rng)
            masks = None if not config.dropout else dropout_masks(    # this update's, from (seed, step, t)
                config.dropout, (config.seed, 2, step), 0, batch.x.shape[0], model.layers, batch.x.shape[1],
                model.n_hidden, model.dtype)
            trace = model.forward(batch.x, dropout=masks)
            result = model.backward(trace, _targets(batch.y, model), mask=batch.mask)
            sequences += config.batch_size
            if not updates.accept(result.loss, result.grads, step):
                continue
            last_norm = updates.apply(model.params, result.grads, step).norm
            step += 1
            last_loss = result.loss * config.batch_size / float(batch.mask.sum())   # per target step
            evaluate_now = step % config.eval_every == 0 or step == config.steps
            if step % config.log_every == 0 or evaluate_now:
                record = {"step": step, "sequences": sequences, "loss": _number(last_loss),
                          "grad_norm": last_norm, "skipped": updates.skipped, "seconds": time.perf_counter() - t0}
                if evaluate_now:
                    metric, held_loss = evaluate(model, task, held_out)
                    solved = task.solved(metric)
                    record.update({"metric": _number(metric), "val_loss": _number(held_loss), "solved": solved})
                runfiles.append_jsonl(log, record)
                if evaluate_now:
                    progress.evaluated(step, record)
            progress.update(step, {"loss": _number(last_loss), "metric": None if metric is None else _number(metric)})
        seconds = time.perf_counter() - t0
        if metric is None:   # every update was skipped (or a signal came) before the first evaluation
            metric, held_loss = evaluate(model, task, held_out)
            solved = task.solved(metric)
        # JSON has no inf or NaN: a model whose outputs overflowed scores null
        result = {"task": config.task, "cell": config.cell, "length": config.length, "seed": config.seed,
                  "solved": solved, "updates": step, "sequences_seen": sequences, "metric": _number(metric),
                  "metric_name": task.metric_name, "baseline": baseline, "baseline_means": task.baseline_means,
                  "criterion": task.criterion, "threshold": task.threshold, "loss": _number(held_loss),
                  "loss_baseline": task.loss_baseline(config.length), "seconds": seconds,
                  "skipped": updates.skipped, "eval_size": config.eval_size, "paper": task.paper,
                  "config": written(config)}
        if stop.signum is not None:
            result["interrupted"] = stop.signum
        ckpt.save(out / ckpt.FILENAME, model, vocab=None, meta={"task_result": result})
        profile = lag_profile_of(model, task, held_out)
        result["lag_ratio"] = [_number(v) for v in profile.ratio]
        runfiles.write_json(out / "result.json", result)
    from ..diagnose.plots import plot_lags_beside
    from .plots import plot_task_curve
    plot_task_curve(log, out / "learning_curve.png", result)
    plot_lags_beside({f"{config.cell} (trained, {'solved' if solved else 'not solved'})": profile},
                     out / "lag_profile.png",
                     title=f"How much of the error at the answer reaches h(t - lag)\n"
                           f"{config.task}, T = {config.length}: the trained model")
    return result


def lag_profile_of(model, task: tasks.Task, batch: tasks.Batch, n=PROFILE_SEQUENCES):
    """``bptt.lag_profile`` on the first n held-out sequences, following the losses that need
    the distant past: the targets' steps (for copy, the 10 recall steps)."""
    from ..diagnose import lag_profile
    part = _columns(batch, slice(0, n))
    mask = part.mask.copy()
    if task.name == "copy":   # the blanks are predictable from the last step; the recall is not
        mask[:-tasks.COPY_RECALL] = 0.0
    return lag_profile(model, part.x, _targets(part.y, model), mask=mask)


def _number(value):
    value = float(value)
    return value if math.isfinite(value) else None
