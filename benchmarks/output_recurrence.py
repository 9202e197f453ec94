"""The output-recurrent network of Goodfellow et al. figure 10.4 (``bptt.nn.output_recurrent``),
measured two ways.

``train``: teacher-forced training on running-sum (y(t) = (x(1) + ... + x(t)) mod 8), scored on
held-out sequences every --eval-every updates both ways: teacher-forced (the true previous sums
fed back) and free-running (its own previous greedy answer fed back). Prints a table and writes
it as JSON (--out).

    OPENBLAS_NUM_THREADS=1 python benchmarks/output_recurrence.py train --out /tmp/orn/train.json

``timing``: CPU seconds of one teacher-forced backward of this network against one BPTT backward
of a SimpleRNN of the same size (Network.backward) over growing T. The first is a few products
over all T*B rows; the second walks the T steps in reverse carrying dL/dh.

    OPENBLAS_NUM_THREADS=1 python benchmarks/output_recurrence.py timing --out /tmp/orn/timing.json

One thread; times are CPU seconds (time.process_time), the machine being shared.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

import bptt
from bptt.data import tasks
from bptt.nn import output_recurrent as orn
from bptt.nn.losses import cross_entropy
from bptt.train.optim import OPTIMIZERS

SYMBOLS = tasks.RUNNING_SUM_SYMBOLS


def scores(params, batch) -> dict:
    """Held-out loss per step, share of tokens wrong and of sequences not whole, both ways."""
    T, B = batch.y.shape
    out = {}
    forced = orn.forward(params, batch.x, orn.teacher_feedback(batch.y, SYMBOLS))
    free = orn.free_run(params, batch.x)
    for name, trace in (("forced", forced), ("free", free)):
        wrong = trace.o.argmax(-1) != batch.y                                      # (T, B)
        out[f"{name}_loss"] = float(cross_entropy(trace.o, trace.yhat, batch.y)[0]) / T
        out[f"{name}_token_wrong"] = float(wrong.mean())
        out[f"{name}_seq_wrong"] = float(wrong.any(axis=0).mean())
    return out


def train(a) -> dict:
    params = orn.init_params(SYMBOLS, a.hidden, SYMBOLS, seed=a.seed)
    opt = OPTIMIZERS["adam"](params, a.lr)
    rng = np.random.default_rng([a.seed, 0])
    held_out = tasks.running_sum(a.length, a.eval_size, np.random.default_rng([a.seed, 1]))
    rows, cpu = [], 0.0
    for step in range(1, a.steps + 1):
        c0 = time.process_time()
        batch = tasks.running_sum(a.length, a.batch_size, rng)
        trace = orn.forward(params, batch.x, orn.teacher_feedback(batch.y, SYMBOLS))
        _, grads, _, _ = orn.backward(params, trace, batch.y)
        opt.step(params, grads)
        cpu += time.process_time() - c0
        if step % a.eval_every == 0:
            rows.append({"step": step, "cpu_seconds": cpu, **scores(params, held_out)})
    print(f"running-sum, T = {a.length}, H = {a.hidden}, B = {a.batch_size}, adam lr {a.lr:g}, seed {a.seed}; "
          f"held-out: {a.eval_size} sequences")
    print(f"{'update':>7} {'cpu s':>6} {'loss forced':>12} {'loss free':>10} {'tokens wrong forced':>20} "
          f"{'tokens wrong free':>18} {'seqs wrong forced':>18} {'seqs wrong free':>16}")
    for r in rows:
        print(f"{r['step']:>7} {r['cpu_seconds']:>6.1f} {r['forced_loss']:>12.4f} {r['free_loss']:>10.4f} "
              f"{r['forced_token_wrong']:>20.4f} {r['free_token_wrong']:>18.4f} {r['forced_seq_wrong']:>18.4f} "
              f"{r['free_seq_wrong']:>16.4f}")
    return {"config": vars(a) | {"out": str(a.out)}, "rows": rows}


def cpu_per_call(fn, repeat) -> float:
    fn()
    c0 = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - c0) / repeat


def timing(a) -> dict:
    rows = []
    H, B = a.hidden, a.batch_size
    print(f"one backward, H = {H}, B = {B}, {SYMBOLS} symbols in and out; CPU ms per call (one thread)")
    print(f"{'T':>6} {'output-recurrent':>17} {'per step':>9} {'SimpleRNN BPTT':>15} {'per step':>9} {'ratio':>6}")
    for T in a.lengths:
        batch = tasks.running_sum(T, B, np.random.default_rng(T))
        params = orn.init_params(SYMBOLS, H, SYMBOLS, seed=0)
        trace = orn.forward(params, batch.x, orn.teacher_feedback(batch.y, SYMBOLS))
        net = bptt.SimpleRNN(SYMBOLS, H, SYMBOLS, seed=0)
        net_trace = net.forward(batch.x)
        repeat = max(3, 3000 // T)
        ours = cpu_per_call(lambda: orn.backward(params, trace, batch.y), repeat)
        theirs = cpu_per_call(lambda: net.backward(net_trace, batch.y), repeat)
        rows.append({"T": T, "output_recurrent_ms": ours * 1e3, "bptt_ms": theirs * 1e3})
        print(f"{T:>6} {ours * 1e3:>17.3f} {ours * 1e6 / T:>7.1f}us {theirs * 1e3:>15.3f} {theirs * 1e6 / T:>7.1f}us "
              f"{theirs / ours:>6.1f}")
    return {"config": vars(a) | {"out": str(a.out)}, "rows": rows}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    t = sub.add_parser("train")
    t.add_argument("--length", type=int, default=20)
    t.add_argument("--hidden", type=int, default=32)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--lr", type=float, default=3e-3)
    t.add_argument("--steps", type=int, default=500)
    t.add_argument("--eval-every", type=int, default=25)
    t.add_argument("--eval-size", type=int, default=1000)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", type=Path, required=True)
    s = sub.add_parser("timing")
    s.add_argument("--hidden", type=int, default=32)
    s.add_argument("--batch-size", type=int, default=8)
    s.add_argument("--lengths", type=int, nargs="+", default=[25, 100, 400, 1600])
    s.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    result = train(a) if a.what == "train" else timing(a)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1))
    print(f"written: {a.out}")


if __name__ == "__main__":
    main()
