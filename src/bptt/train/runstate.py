"""Where a task run is, saved in its checkpoint so ``bptt task TASK --resume DIR`` continues it bit for bit.

Both task trainers (``task.py``: one network; ``pairs.py``: an encoder-decoder) save, at every
held-out score and at the end (an interrupted run too), the parameters, the optimiser's state
(``state/opt/*``) and ``meta["run"]``: the updates, sequences and skipped updates so far, the time
spent, the PCG64 state of every Generator the run draws from (its training batches; UORO's random
signs), and the config. ``load`` reads that back and checks it; the trainer's loop then goes on
from there, drawing what it would have drawn. Like ``bptt train --resume`` (``text.py``) a resume
first removes what a crash left half-written and trims the log lines past the checkpoint
(``runfiles``), so metrics.jsonl reads as a straight run's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from .. import _validate as check
from . import checkpoint as ckpt
from . import runfiles
from .config import flag

RESUMABLE = ("steps", "eval_every", "log_every", "threads")   # what a resumed task run may change
METRICS = "metrics.jsonl"


@dataclass
class RunState:
    """Where a run is: its updates, sequences drawn, skipped updates, the time spent so far, and the
    Generators it draws from (saved whole, so a resumed run draws what it would have).

    rng: the training batches'. signs: UORO's random signs (a network run's; None for seq2seq).
    between_batches: False while updates of the current batch are still to come (an online
    gradient's windows): such a point cannot be resumed, since the walk's influence is not saved.
    """

    step: int
    sequences: int
    skipped: int
    seconds: float
    cpu_seconds: float
    rng: np.random.Generator
    signs: np.random.Generator | None = None
    between_batches: bool = field(default=True)

    def record(self) -> dict:
        record = {"step": self.step, "sequences": self.sequences, "skipped": self.skipped, "seconds": self.seconds,
                  "cpu_seconds": self.cpu_seconds, "rng": self.rng.bit_generator.state}
        if self.signs is not None:
            record["signs"] = self.signs.bit_generator.state
        if not self.between_batches:
            record["between_batches"] = False
        return record


def save(out, model, opt, run: RunState, config, result=None) -> None:
    """The checkpoint of ``model`` with the optimiser's state and the run state (and the result, at the end)."""
    meta = {"run": {**run.record(), "config": asdict(config)}}
    if result is not None:
        meta["task_result"] = result
    ckpt.save(out / ckpt.FILENAME, model, vocab=None, meta=meta,
              state={f"opt/{k}": v for k, v in opt.state().items()})


def _generator(saved, where, key, what) -> np.random.Generator:
    rng = np.random.default_rng(0)
    try:
        rng.bit_generator.state = saved[key]
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{where}: expected {what} PCG64 state, got an unreadable one ({err})") from None
    return rng


def load(out, kind: str, changes: dict | None, build_model, optimizer):
    """(checkpoint, config, model, optimiser, RunState) of the task run in folder ``out``, ready to go on.

    kind: "network" or "seq2seq", the checkpoint the caller trains. changes: {field: value} of the
    settings in ``RESUMABLE`` (a larger ``steps``, say); any other field is refused, in one line
    naming its flag, unless it equals the run's own. build_model(config): the model the settings
    describe, whose spec the checkpoint's must match; optimizer(config, params): a fresh optimiser,
    whose state is then restored. The run folder is tidied as ``bptt train --resume`` tidies it.
    """
    from .task import TaskConfig
    ck = ckpt.load(out, name="--resume", accept=(kind,))
    run_dir = ck.path.parent
    where = f"--resume {str(run_dir)!r}"
    saved = ck.meta.get("run")
    if not isinstance(saved, dict) or not isinstance(saved.get("config"), dict):
        raise ValueError(f"{where}: expected a task run's checkpoint with its run state, got one without "
                         f"(saved by a bptt from before {'seq2seq' if kind == 'seq2seq' else 'network task'} "
                         f"runs could resume)")
    try:
        config = TaskConfig(**saved["config"])
    except TypeError as err:
        raise ValueError(f"{where}: expected the settings of a task run, got {err}") from None
    for name, value in (changes or {}).items():
        if name not in RESUMABLE and value != getattr(config, name):
            raise ValueError(f"{flag(name)}: expected the run's own {getattr(config, name)!r} or no flag (a "
                             f"resumed run may change only {', '.join(flag(n) for n in RESUMABLE)}), got {value!r}")
    config = replace(config, **(changes or {})).validate()
    step = saved.get("step")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"{where}: expected a whole number of updates in the run state, got {step!r:.40}")
    result = ck.meta.get("task_result") or {}
    if result.get("solved"):
        raise ValueError(f"{where}: expected a run that is not solved yet, got one solved after {step} updates")
    if saved.get("between_batches", True) is not True:
        raise ValueError(f"{where}: expected a checkpoint saved between batches, got one saved at update {step}, "
                         f"partway through a batch's --gradient {config.gradient} windows, whose carried "
                         f"influence is not saved")
    if config.steps <= step:
        raise ValueError(f"--steps: expected more than the run's {step} updates to go on, got {config.steps}")
    model = ck.model
    want = build_model(config).spec()
    if model.spec() != want:
        raise ValueError(f"{where}: expected the model its settings describe ({want}), got {model.spec()}")
    opt = optimizer(config, model.params)
    state = {k[len("opt/"):]: v for k, v in ck.state.items() if k.startswith("opt/")}
    for k, v in opt.state().items():
        if k not in state or state[k].shape != v.shape:
            raise ValueError(f"{where}: expected the optimiser state state/opt/{k} of shape {v.shape}, got "
                             f"{'none' if k not in state else check.describe(state[k])}")
    opt.restore(state)
    rng = _generator(saved, where, "rng", "the training batches'")
    signs = _generator(saved, where, "signs", "UORO's random signs'") if kind == "network" else None
    run = RunState(step, int(saved.get("sequences", 0)), int(saved.get("skipped", 0)),
                   float(saved.get("seconds", 0.0)), float(saved.get("cpu_seconds", 0.0)), rng, signs)
    # A kill may have left half-written files and log lines past the checkpoint: as bptt train --resume.
    runfiles.remove_stale_temps(run_dir, (ckpt.FILENAME, METRICS, "result.json"))
    runfiles.trim_jsonl(run_dir / METRICS, step)
    return ck, config, model, opt, run
