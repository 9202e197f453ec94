"""Training an encoder-decoder (``nn.seq2seq.Seq2Seq``) on a sequence-to-sequence task
(``tasks.PairTask``: reverse, sort) with teacher forcing, judged by free-running decoding.

Every update draws fresh pairs and back-propagates the teacher-forced loss through the decoder,
the context and the encoder. Every ``eval_every`` updates the held-out set is scored both ways
(``score``): with teacher-forced inputs (the loss, and the share of sequences whose every step's
most likely token is right) and free-running (``generate`` feeding back its own tokens: the share
returned whole, the task's metric). The gap between the two is teacher forcing's exposure bias.
``task.train`` hands a ``--model seq2seq`` run to ``train`` here; the run folder holds
result.json, checkpoint.npz, metrics.jsonl and learning_curve.png.

Shape legend: Tx encoder steps, Ty decoder steps, B batch.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from . import runfiles, runstate, signals
from ..data import tasks
from ..nn.seq2seq import Seq2Seq
from .optim import OPTIMIZERS
from .progress import SILENT
from .runstate import RESUMABLE, RunState  # noqa: F401  (RESUMABLE: what a resumed run may change)
from .update import Updates

EVAL_CHUNK = 250          # held-out sequences per forward pass


def build_seq2seq(config, task) -> Seq2Seq:
    return Seq2Seq(task.n_in, config.hidden, task.n_out, cell=config.cell, layers=config.layers,
                   seed=config.seed, dtype=config.dtype)


def _part(batch: tasks.Pairs, cols) -> tasks.Pairs:
    return tasks.Pairs(batch.x[:, cols], batch.x_lengths[cols], batch.y_in[:, cols], batch.y[:, cols],
                       batch.mask[:, cols])


def score(model: Seq2Seq, task, batch: tasks.Pairs, chunk=EVAL_CHUNK) -> dict:
    """Held-out scores with teacher-forced inputs and free-running, in chunks of sequences.

    Free-running, the decoder reads its own previous most likely token (``generate``); feeding
    those tokens back as y_in replays that run exactly, so its loss against the true y is the
    free-running loss. Returns {"loss", "free_loss": cross-entropy per target step; "forced_wrong",
    "free_wrong": share of sequences not right whole (free_wrong is the task's metric);
    "forced_token_wrong", "free_token_wrong": share of target tokens wrong}. Under greedy decoding
    a sequence is right whole one way exactly when it is the other (up to its first wrong token the
    two runs read the same inputs), so the two sequence scores are equal; the losses and the token
    scores are where exposure bias shows.
    """
    sums = dict.fromkeys(("loss", "free_loss", "forced_wrong", "free_wrong", "forced_token_wrong",
                          "free_token_wrong"), 0.0)
    B = batch.x.shape[1]
    for lo in range(0, B, chunk):
        part = _part(batch, slice(lo, lo + chunk))
        n = part.x.shape[1]
        need = part.mask != 0
        trace = model.forward(part.x, part.y_in, part.x_lengths)
        forced = trace.o.argmax(-1)                                            # (Ty, B)
        free = model.generate(part.x, task.start, part.y.shape[0], part.x_lengths)
        free_in = np.concatenate([part.y_in[:1], free[:-1]])
        sums["loss"] += model.trace_loss(trace, part.y, part.mask) * n
        sums["free_loss"] += model.loss(part.x, free_in, part.y, part.mask, part.x_lengths) * n
        sums["forced_wrong"] += task.metric(forced, part) * n
        sums["free_wrong"] += task.metric(free, part) * n
        sums["forced_token_wrong"] += float(((forced != part.y) & need).sum())
        sums["free_token_wrong"] += float(((free != part.y) & need).sum())
    steps = float(batch.mask.sum())
    return {"loss": sums["loss"] / steps, "free_loss": sums["free_loss"] / steps,
            "forced_wrong": sums["forced_wrong"] / B, "free_wrong": sums["free_wrong"] / B,
            "forced_token_wrong": sums["forced_token_wrong"] / steps,
            "free_token_wrong": sums["free_token_wrong"] / steps}


def train(config, out, *, progress=None) -> dict:
    """Train ``config``'s Seq2Seq on its pair task; write the run folder ``out``; return the result."""
    task = tasks.get(config.task)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = build_seq2seq(config, task)
    opt = OPTIMIZERS[config.optimizer](model.params, config.lr)
    run = RunState(0, 0, 0, 0.0, 0.0, np.random.default_rng([config.seed, 0]))    # training batches
    (out / "metrics.jsonl").write_text("")
    return _train(config, out, task, model, opt, run, progress)


def resume(out, changes=None, *, progress=None) -> dict:
    """Continue the run in folder ``out`` from its checkpoint, bit for bit as if it had not stopped.

    changes: {field: value} of the settings in ``runstate.RESUMABLE`` (a larger ``steps``, say); any
    other field is refused unless it equals the run's own. The parameters, the optimiser's moments,
    the batch Generator's state, the counts and the held-out set (redrawn from the seed) are the run's.
    """
    ck, config, model, opt, run = runstate.load(
        out, "seq2seq", changes, lambda c: build_seq2seq(c, tasks.get(c.task)),
        lambda c, params: OPTIMIZERS[c.optimizer](params, c.lr))
    return _train(config, ck.path.parent, tasks.get(config.task), model, opt, run, progress)


def _save(out, model, opt, run, config, result=None):
    runstate.save(out, model, opt, run, config, result)


def _train(config, out, task, model, opt, run, progress) -> dict:
    """The update loop from ``run``'s position to ``config.steps`` (or solved, or a stop signal).

    A checkpoint with the run state is written at every held-out score and at the end, so a run
    that is killed resumes from its last score.
    """
    progress = SILENT if progress is None else progress
    updates = Updates(opt, lr=config.lr, clip=config.clip, lr_decay=config.lr_decay,
                      lr_decay_every=config.lr_decay_every, skipped=run.skipped)
    held_out = task.generate(config.length, config.eval_size, np.random.default_rng([config.seed, 1]))
    log = out / "metrics.jsonl"
    t0, c0 = time.perf_counter() - run.seconds, time.process_time() - run.cpu_seconds
    scores, solved = None, False
    last_loss = float("nan")
    with signals.noted() as stop:
        while run.step < config.steps and not solved and stop.signum is None:
            batch = task.generate(config.length, config.batch_size, run.rng)
            result = model.gradients(batch.x, batch.y_in, batch.y, batch.mask, batch.x_lengths)
            run.sequences += config.batch_size
            if not updates.accept(result.loss, result.grads, run.step):
                continue
            norm = updates.apply(model.params, result.grads, run.step).norm
            run.step += 1
            step = run.step
            last_loss = result.loss * config.batch_size / float(batch.mask.sum())   # per target step
            evaluate_now = step % config.eval_every == 0 or step == config.steps
            if step % config.log_every == 0 or evaluate_now:
                record = {"step": step, "sequences": run.sequences, "loss": last_loss, "grad_norm": norm,
                          "skipped": updates.skipped, "seconds": time.perf_counter() - t0,
                          "cpu_seconds": time.process_time() - c0}
                if evaluate_now:
                    scores = score(model, task, held_out)
                    solved = task.solved(scores["free_wrong"])
                    record.update({"metric": scores["free_wrong"], "val_loss": scores["loss"], **scores,
                                   "solved": solved})
                runfiles.append_jsonl(log, record)
                if evaluate_now:
                    run.skipped, run.seconds, run.cpu_seconds = updates.skipped, record["seconds"], record["cpu_seconds"]
                    _save(out, model, opt, run, config)
                    progress.evaluated(step, record)
            progress.update(step, {"loss": last_loss, "metric": None if scores is None else scores["free_wrong"]})
        if scores is None:
            scores = score(model, task, held_out)
            solved = task.solved(scores["free_wrong"])
        run.skipped = updates.skipped
        run.seconds, run.cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
        result = {"task": config.task, "model": "seq2seq", "cell": config.cell, "length": config.length,
                  "seed": config.seed, "solved": solved, "updates": run.step, "sequences_seen": run.sequences,
                  "metric": scores["free_wrong"], "metric_name": task.metric_name,
                  "scores": scores, "baseline": task.baseline(config.length),
                  "baseline_means": task.baseline_means, "criterion": task.criterion, "threshold": task.threshold,
                  "loss": scores["loss"], "loss_baseline": task.loss_baseline(config.length),
                  "seconds": run.seconds, "cpu_seconds": run.cpu_seconds,
                  "skipped": updates.skipped, "eval_size": config.eval_size, "paper": task.paper,
                  "config": asdict(config)}
        if stop.signum is not None:
            result["interrupted"] = stop.signum
        _save(out, model, opt, run, config, result)
        runfiles.write_json(out / "result.json", result)
    from .plots import plot_task_curve
    plot_task_curve(log, out / "learning_curve.png", result)
    return result
