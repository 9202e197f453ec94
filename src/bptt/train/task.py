"""Training on a long-lag task (``tasks.py``): fresh batches, a held-out set, an early stop.

Every update draws a new batch from the task's generator, back-propagates through the whole
sequence (full BPTT: the lag is the point) and applies one optimiser step. Every
``eval_every`` updates the model is scored on a held-out set of fresh sequences drawn once
from a separate seed; training stops as soon as the task's criterion holds there, or when the
update budget ends. A run folder then holds ``result.json``, ``checkpoint.npz`` (the model,
which maps the generator's inputs to its outputs, with the optimiser's state and the run state
that ``resume`` continues from: ``runstate.py``), ``metrics.jsonl``, ``learning_curve.png`` and
``lag_profile.png``.

Shape legend: T time, B batch, I inputs, H hidden, O outputs.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np

from .. import _threads
from .. import _validate as check
from . import checkpoint as ckpt
from . import runfiles, runstate, signals
from ..data import tasks
from ..nn.activations import ACTIVATIONS
from ..nn.dropout import dropout_masks
from ..nn.network import GRU, LSTM, Network, SimpleRNN, param_name
from .config import DROPOUT_HELP, DTYPES, build_network, check_cell_options, check_fields, flag, option, options_of
from .evaluate import scored_chunks
from ..nn.cells import CELLS as NN_CELLS, CHRONO
from .online import GRADIENTS, check_spec_fits, sequence_updates
from .optim import OPTIMIZERS
from .progress import SILENT, Progress
from .update import Diverged, Updates  # noqa: F401  (Diverged: what train() raises, importable from here)

EVAL_CHUNK = 250          # held-out sequences per forward pass: keeps (T, chunk, 4H) arrays small
PROFILE_SEQUENCES = 4     # held-out sequences the lag profile is measured on
METRICS = "metrics.jsonl"


# ------------------------------------------------------------------------------ the models
def identity_init(model) -> None:
    """Le et al. (2015): every layer's (and direction's) recurrent matrix W set to the identity, its bias b to zero."""
    params = dict(model.params)
    for layer in range(model.layers):
        for reverse in (False, True)[:model.directions]:
            params[param_name("W", layer, reverse)] = np.eye(model.n_hidden)
            params[param_name("b", layer, reverse)] = np.zeros(model.n_hidden)
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
INITS = ("uniform", "identity", "chrono")

# Per cell, then per (task, cell): what differs from TaskConfig's defaults. Measured on adding
# at T = 50 (H = 64, B = 50, Adam, clip 1, seed 0; benchmarks/long_lag.py has the rest): the LSTM
# solves it in 500 updates at lr 1e-2 (2,100 at 1e-3), the GRU in 300 at 1e-2; the IRNN in
# 1,200 at 3e-4 (at 1e-4 it was still at MSE 0.02 after 3,000); the tanh RNN stays at the
# baseline at both 1e-3 (2,000 updates) and 1e-2 (1,500).
#
# The 1997 tasks at T = 100 need the chrono initialisation (Tallec & Ollivier 2018; init
# "chrono", T_max the task's longest lag). Measured at the settings above, 3,000 updates (150,000
# sequences; benchmarks/long_lag/records/ has every run, docs/long-lag.md the table):
# temporal-order, seed 0: the LSTM with forget bias 1, 2 or 4 ends at 76.8% wrong (guessing is
# 75%), the GRU at 75.3%; chrono solves it in 200 updates (10,000 sequences) with either cell;
# seeds 0-2: chrono 3 of 3 for both cells (LSTM 200-1,000 updates, GRU 200), forget bias 1 0 of 3,
# the plain GRU 2 of 3 (2,400 and 2,600 updates).
# adding-1997, seed 0: forget bias 1, 2, 4 end at 83.5-83.7% wrong (always answering 0.5 is
# 84.6%), the GRU at 83.7%; chrono solves it in 400 updates (20,000 sequences) with either cell;
# seeds 0-2: chrono 3 of 3 for both cells (400 updates each), forget bias 1 0 of 3, the plain GRU
# 1 of 3 (2,800 updates).
# copy: at these settings, T = 50, 2,000 updates, seed 0, chrono brings the held-out loss to 36%
# of the memoryless baseline's for the LSTM (forget bias 1: 85%) and 26% for the GRU (uniform:
# 68%), 0.8% and 6.5% of sequences recalled whole (none without); in Arjovsky et al.'s setup
# (H = 40, B = 20, RMSprop 1e-3), 10,000 updates, seeds 0-2, to a median 80% (T = 100) and 82%
# (T = 200) for the LSTM (forget bias 1: 88%, 89%) and 76%, 79% for the GRU (uniform: 87%, 88%).
DEFAULTS = {
    "rnn": dict(lr=1e-3),
    "irnn": dict(lr=3e-4),
    "lstm": dict(lr=1e-2),
    "gru": dict(lr=1e-2),
    ("temporal-order", "lstm"): dict(init="chrono"),
    ("temporal-order", "gru"): dict(init="chrono"),
    ("adding-1997", "lstm"): dict(init="chrono"),
    ("adding-1997", "gru"): dict(init="chrono"),
    ("copy", "lstm"): dict(init="chrono"),
    ("copy", "gru"): dict(init="chrono"),
    # An encoder-decoder on reverse (lengths up to 20) at H=128, B=64 and a constant lr 0.01 was still at
    # 98.5% whole after 8000 updates; halving the lr every 1000 updates solves it in about 4250
    # (docs/seq2seq.md: seeds 0 and 1, 150-165 CPU seconds).
    **{(task, "lstm"): dict(hidden=128, batch_size=64, lr_decay=0.5, lr_decay_every=1000, steps=8000,
                            eval_every=250) for task in ("reverse", "sort")},
}
DEFAULT_LENGTH = {"adding": 50, "adding-1997": 100, "temporal-order": 100, "copy": 50, "lookahead": 20,
                  "reverse": 20, "sort": 20}
MODELS = ("network", "seq2seq")     # what reads the task's batches (a PairTask's: seq2seq)


def _per(table: dict, key: str) -> str:
    return ", ".join(f"{name} {format(value[key] if key else value, 'g')}" for name, value in table.items())


# ------------------------------------------------------------------------------ the config
@dataclass(frozen=True)
class TaskConfig:
    """Training on a long-lag task. Each field's help (``option``) is what ``bptt task --help`` says
    of its flag; ``default_config`` fills in the defaults tuned per task and cell."""

    task: str = option("adding", "the task", choices=tasks.TASKS, positional="TASK")
    model: str | None = option(None, "network: one recurrent network reads x and answers; seq2seq: an encoder "
                                     "reads x, a decoder trained with teacher forcing answers (reverse, sort)",
                               choices=MODELS, says_default="the task's")
    cell: str = option("rnn", "the recurrent cell; irnn: Le et al.'s ReLU RNN started from W = I, b = 0",
                       choices=CELLS)
    length: int = option(50, "T, the lag (the sequence length for adding)",
                         says_default=f"the paper's: {_per(DEFAULT_LENGTH, '')}")
    hidden: int = option(64, "H, hidden units", says_default="64; 128 for reverse and sort with lstm")
    layers: int = option(1, "recurrent layers stacked")
    dropout: float = option(0.0, DROPOUT_HELP)
    batch_size: int = option(50, "B, fresh sequences per update", says_default="50; 64 for reverse and sort with lstm")
    steps: int = option(2000, "the update budget", says_default="2000; 8000 for reverse and sort with lstm")
    lr: float = option(1e-3, "learning rate", says_default=f"per cell: {_per({c: v for c, v in DEFAULTS.items() if c in CELLS}, 'lr')}")
    optimizer: str = option("adam", "the update rule, as torch.optim's", choices=OPTIMIZERS)
    lr_decay: float = option(1.0, "multiply the learning rate by this every --lr-decay-every updates",
                             says_default="1; 0.5 for reverse and sort with lstm")
    lr_decay_every: int = option(1000, "updates between decays")
    clip: float | None = option(1.0, "clip the global gradient norm to this (Pascanu et al. 2013); 0: off",
                                zero_is_none=True)
    nonlinearity: str | None = option(None, "f in h(t) = f(a(t))", choices=ACTIVATIONS, says_default="tanh")
    init: str | None = option(None, "uniform: uniform(-1/sqrt(H), 1/sqrt(H)), then the cell's own adjustment "
                                    "(the lstm's forget bias); identity (rnn): W = I, b = 0 (with --nonlinearity "
                                    "relu: the IRNN); chrono (lstm, gru): the gate biases of Tallec & Ollivier "
                                    "2018 for the task's longest lag", choices=INITS,
                              says_default="uniform; chrono for lstm and gru on adding-1997, temporal-order and copy")
    forget_bias: float | None = option(None, "added to the forget gate's bias at initialisation (not with "
                                             "--init chrono, which draws it)", says_default="1")
    seed: int = option(0, "initial weights, training batches and held-out set")
    eval_every: int = option(100, "updates between held-out scores (and the early-stop check)",
                             says_default="100; 250 for reverse and sort with lstm")
    eval_size: int = option(1000, "held-out sequences")
    dtype: str = option("float32", "the model's float type", choices=DTYPES)
    bidirectional: bool = option(False, "each layer also reads every sequence from its end (Goodfellow et al. "
                                        "10.3); the readout sees [h_forward; h_reverse]")
    log_every: int = 10           # updates between metrics lines
    # bptt: one update per batch, BPTT through the whole sequence. rtrl, uoro, snap1 (train/online.py):
    # forward in time, an update every seq_length steps that carry a target, the past never truncated.
    gradient: str = option("bptt", "bptt: BPTT through each whole sequence; rtrl, uoro, snap1: forward in time, "
                                   "an update every --seq-length steps that carry a target", choices=GRADIENTS)
    seq_length: int | None = option(None, "with --gradient rtrl, uoro or snap1: steps between updates",
                                    says_default="one at the sequence's end")
    # BLAS threads (bptt/_threads.py says why: on a busy machine more threads are slower).
    threads: int | None = option(None, "the most BLAS threads a matrix product uses; the loop's small per-step "
                                       "products use one", says_default="OPENBLAS_NUM_THREADS or "
                                       "OMP_NUM_THREADS if set, else the cores other processes leave free")

    # {cell: the options it takes}: the cells' own (bptt.nn.cells: the rnn's nonlinearity), and the
    # rnn's init; the IRNN fixes both.
    CELL_OPTIONS = {**{name: frozenset() for name in CELLS}, **options_of()}
    CELL_OPTIONS["rnn"] = CELL_OPTIONS["rnn"] | {"init"}
    for _name in CHRONO:
        CELL_OPTIONS[_name] = CELL_OPTIONS[_name] | {"init"}
    # which cells each init applies to
    INIT_CELLS = {"uniform": tuple(CELLS), "identity": ("rnn",), "chrono": CHRONO}

    def validate(self):
        """Every field checked; each error names the flag that sets it."""
        check_fields(self)
        task = tasks.get(self.task)
        if self.model is not None and self.model != task.model:
            raise ValueError(f"--model: expected {task.model} for {task.name}, got {self.model}")
        if task.model == "seq2seq" and self.cell not in ("rnn", "lstm", "gru"):
            raise ValueError(f"--cell: expected rnn, lstm or gru for --model seq2seq, got {self.cell}")
        task.check_length(self.length)
        for name in ("hidden", "layers", "batch_size", "steps", "eval_every", "eval_size", "log_every",
                     "lr_decay_every"):
            check.positive_int(flag(name), getattr(self, name))
        check.nonnegative_int("--seed", self.seed)
        check.boolean("--bidirectional", self.bidirectional)
        check.number_in("--lr", self.lr, 0)
        check.number_in("--dropout", self.dropout, 0, 1, lo_open=False)
        if self.dropout and (self.gradient != "bptt" or self.bidirectional or task.model == "seq2seq"):
            other = ("--model seq2seq" if task.model == "seq2seq" else "--bidirectional" if self.bidirectional
                     else f"--gradient {self.gradient}")
            raise ValueError(f"--dropout: expected only for one unidirectional network trained with --gradient "
                             f"bptt, got {self.dropout!r} with {other}")
        check.number_in("--lr-decay", self.lr_decay, 0, 1, hi_open=False)
        if self.clip is not None:
            check.number_in("--clip", self.clip, 0, lo_open=False, note="0 turns clipping off")
        if self.init is not None and self.cell not in self.INIT_CELLS[self.init]:
            raise ValueError(f"--init: expected only with --cell {' or '.join(self.INIT_CELLS[self.init])}, "
                             f"got {self.init!r} with --cell {self.cell}")
        if self.init == "chrono" and not hasattr(task, "max_lag"):
            raise ValueError(f"--init: expected chrono only with a task one network reads (it takes T_max from "
                             f"the task's longest lag), got it with {task.name}")
        check_cell_options(self, self.CELL_OPTIONS)
        if self.forget_bias is not None:
            check.number_in("--forget-bias", self.forget_bias)
            if self.init == "chrono":
                raise ValueError(f"--forget-bias: expected only with --cell lstm and without --init chrono "
                                 f"(which draws the forget gate's bias), got {self.forget_bias!r} with "
                                 f"--init chrono")
        if self.threads is not None:
            check.positive_int("--threads", self.threads)
        if self.seq_length is not None:
            check.positive_int("--seq-length", self.seq_length)
            if self.gradient == "bptt":
                raise ValueError(f"--seq-length: expected only with --gradient rtrl, uoro or snap1 (bptt "
                                 f"back-propagates through each whole sequence), got {self.seq_length}")
        cell = NN_CELLS["rnn" if self.cell == "irnn" else self.cell]()      # its shape is all the cost needs
        check_spec_fits(self.gradient, cell, task.n_in, self.hidden, self.layers, self.batch_size, self.dtype)
        return self


def default_config(task="adding", cell=None, **overrides) -> TaskConfig:
    """The tuned defaults for a task and cell (None: rnn, lstm for a seq2seq task), with ``overrides``
    on top (None too: clip=None is off)."""
    if cell is None:
        cell = "lstm" if getattr(tasks.TASKS.get(task), "model", "") == "seq2seq" else "rnn"
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
    model = build_network(config, task.n_in, task.n_out, output=task.output, **chrono_options(config, task))
    if config.init == "identity":
        identity_init(model)
    return model


def chrono_options(config: TaskConfig, task: tasks.Task) -> dict:
    """With --init chrono, the cell option the config holds no field for: T_max, the task's longest lag."""
    return {"chrono": task.max_lag(config.length)} if config.init == "chrono" else {}


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
    if tasks.get(config.task).model == "seq2seq":
        from . import pairs
        return pairs.train(config, out, progress=progress)
    task = tasks.get(config.task)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = build_model(config)
    opt = OPTIMIZERS[config.optimizer](model.params, config.lr)
    run = runstate.RunState(0, 0, 0, 0.0, 0.0, np.random.default_rng([config.seed, 0]),    # training batches
                            signs=np.random.default_rng([config.seed, 2]))                  # UORO's random signs
    (out / METRICS).write_text("")
    return _train(config, out, task, model, opt, run, progress)


def resume(out, changes: dict | None = None, *, progress: Progress | None = None) -> dict:
    """Continue the task run in folder ``out`` from its checkpoint, bit for bit as if it had not stopped.

    changes: {field: value} of the settings in ``runstate.RESUMABLE`` (a larger ``steps``, say); any
    other field is refused unless it equals the run's own. A seq2seq run goes to ``pairs.resume``.
    The parameters, the optimiser's moments, the Generators' states (training batches, UORO's
    signs), the counts and the held-out set (redrawn from the seed) are the run's.
    """
    from ..nn.seq2seq import Seq2Seq
    if isinstance(ckpt.load(out, name="--resume").model, Seq2Seq):
        from . import pairs
        return pairs.resume(out, changes, progress=progress)
    ck, config, model, opt, run = runstate.load(
        out, "network", changes, build_model, lambda c, params: OPTIMIZERS[c.optimizer](params, c.lr))
    return _train(config, ck.path.parent, tasks.get(config.task), model, opt, run, progress)


def _train(config, out, task, model, opt, run: runstate.RunState, progress) -> dict:
    """The update loop from ``run``'s position to ``config.steps`` (or solved, or a stop signal).

    A checkpoint with the run state is written at every held-out score and at the end (a stopped
    run's too), so a run that is killed resumes from its last score, one that is stopped from where
    it stopped.
    """
    progress = SILENT if progress is None else progress
    updates = Updates(opt, lr=config.lr, clip=config.clip, lr_decay=config.lr_decay,
                      lr_decay_every=config.lr_decay_every, skipped=run.skipped)
    held_out = task.generate(config.length, config.eval_size, np.random.default_rng([config.seed, 1]))
    baseline = task.baseline(config.length)
    log = out / METRICS
    t0, c0 = time.perf_counter() - run.seconds, time.process_time() - run.cpu_seconds
    metric = held_loss = None
    solved = False
    last_loss = last_norm = float("nan")
    pending = iter(())                                           # the current batch's updates still to come
    left = 0                                                     # how many of them
    with signals.noted() as stop:
        while run.step < config.steps and not solved and stop.signum is None:
            with _threads.for_update(config.threads):           # the forward and backward passes
                update = next(pending, None)
            if update is None:                                   # bptt: one per batch; online: one per window
                batch = task.generate(config.length, config.batch_size, run.rng)
                masks = None if not config.dropout else dropout_masks(    # this update's, from (seed, step, t)
                    config.dropout, (config.seed, 2, run.step), 0, batch.x.shape[0], model.layers,
                    batch.x.shape[1], model.n_hidden, model.dtype)
                pending = sequence_updates(config.gradient, model, batch.x, _targets(batch.y, model), batch.mask,
                                           config.seq_length, run.signs, dropout=masks)
                left = _updates_in(config, batch.mask)
                run.sequences += config.batch_size
                continue
            result, targets = update
            left -= 1
            if not updates.accept(result.loss, result.grads, run.step):
                pending, left = iter(()), 0                      # the rest of this batch carries it on
                continue
            last_norm = updates.apply(model.params, result.grads, run.step).norm
            run.step += 1
            step = run.step
            last_loss = result.loss * config.batch_size / targets   # per target step
            evaluate_now = step % config.eval_every == 0 or step == config.steps
            if step % config.log_every == 0 or evaluate_now:
                record = {"step": step, "sequences": run.sequences, "loss": _number(last_loss),
                          "grad_norm": last_norm, "skipped": updates.skipped, "seconds": time.perf_counter() - t0}
                if evaluate_now:
                    with _threads.for_update(config.threads):
                        metric, held_loss = evaluate(model, task, held_out)
                    solved = task.solved(metric)
                    record.update({"metric": _number(metric), "val_loss": _number(held_loss), "solved": solved})
                # Log, then save: a kill between the two leaves a line past the checkpoint, which resume trims.
                runfiles.append_jsonl(log, record)
                if evaluate_now:
                    _note(run, updates, t0, c0, left)
                    runstate.save(out, model, opt, run, config)
                    progress.evaluated(step, record)
            progress.update(step, {"loss": _number(last_loss), "metric": None if metric is None else _number(metric)})
        _note(run, updates, t0, c0, left)
        seconds = run.seconds
        if metric is None:   # every update was skipped (or a signal came) before the first evaluation
            metric, held_loss = evaluate(model, task, held_out)
            solved = task.solved(metric)
        # JSON has no inf or NaN: a model whose outputs overflowed scores null
        result = {"task": config.task, "cell": config.cell, "length": config.length, "seed": config.seed,
                  "solved": solved, "updates": run.step, "sequences_seen": run.sequences, "metric": _number(metric),
                  "metric_name": task.metric_name, "baseline": baseline, "baseline_means": task.baseline_means,
                  "criterion": task.criterion, "threshold": task.threshold, "loss": _number(held_loss),
                  "loss_baseline": task.loss_baseline(config.length), "seconds": seconds,
                  "skipped": updates.skipped, "eval_size": config.eval_size, "paper": task.paper,
                  "config": _config_record(config)}
        if stop.signum is not None:
            result["interrupted"] = stop.signum
        runstate.save(out, model, opt, run, config, result)
        profile = None if model.bidirectional else lag_profile_of(model, task, held_out)
        result["lag_ratio"] = None if profile is None else [_number(v) for v in profile.ratio]
        runfiles.write_json(out / "result.json", result)
    from ..diagnose.plots import plot_lags_beside
    from .plots import plot_task_curve
    plot_task_curve(log, out / "learning_curve.png", result)
    if profile is not None:          # the lag profile follows one direction's chain: not drawn for two
        plot_lags_beside({f"{config.cell} (trained, {'solved' if solved else 'not solved'})": profile},
                         out / "lag_profile.png",
                         title=f"How much of the error at the answer reaches h(t - lag)\n"
                               f"{config.task}, T = {config.length}: the trained model")
    return result


def _note(run, updates, t0, c0, left) -> None:
    """The counts and clocks into the run state, before it is saved."""
    run.skipped = updates.skipped
    run.seconds, run.cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    run.between_batches = left <= 0


def _updates_in(config, mask) -> int:
    """How many updates ``sequence_updates`` makes of a batch: one for bptt, else one per window with a target."""
    if config.gradient == "bptt":
        return 1
    k1 = mask.shape[0] if config.seq_length is None else config.seq_length
    return sum(1 for start in range(0, mask.shape[0], k1) if mask[start:start + k1].sum() > 0)


def _config_record(config: TaskConfig) -> dict:
    """The config as result.json records it; ``bidirectional`` only when on, so one-direction
    runs' files read as they did before it existed."""
    record = asdict(config)
    if not record["bidirectional"]:
        del record["bidirectional"]
    if record["forget_bias"] is None:           # likewise a run that did not set it
        del record["forget_bias"]
    if not record["dropout"]:                   # and one without dropout
        del record["dropout"]
    if record["lr_decay"] == 1.0:               # and a constant learning rate
        del record["lr_decay"], record["lr_decay_every"]
    return record


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
