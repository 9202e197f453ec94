"""Two versions of bptt, one training update each, timed side by side in one run.

Each version runs in its own process importing its own ``src`` (a checkout of another commit,
e.g. ``git archive 25d560e src | tar -x -C /tmp/before``); the rounds alternate between them,
with a pause before each block so neither inherits the other's busy threads, and the median
of each is kept. The update is the one ``bptt train`` makes and ``benchmarks/speed.py`` times:
forward over T steps, BPTT, global-norm clip, Adam, float32, one-hot inputs (V = 65).

    python benchmarks/compare.py /tmp/before/src src                  # the RNN at speed.py's sizes
    python benchmarks/compare.py /tmp/before/src src --cell lstm --sizes 256x64x100
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

V = 65
SIZES = [(100, 1, 25), (128, 32, 64), (256, 64, 100), (512, 64, 100), (1024, 128, 100)]   # (H, B, T)


def worker(clock):
    """Reads "setup CELL H B T UPDATES" and "run K" lines; answers each run with K times (s) in JSON."""
    import numpy as np

    import bptt
    try:                                    # the layout by level
        from bptt.train.optim import Adam, clip_global_norm
        from bptt.nn.truncated import TruncatedBPTT
    except ImportError:                     # before it (a baseline checkout)
        from bptt.optim import Adam, clip_global_norm
        from bptt.truncated import TruncatedBPTT

    step = None
    for line in sys.stdin:
        cmd, *args = line.split()
        if cmd == "setup":
            cell, (H, B, T, n) = args[0], map(int, args[1:])
            make = {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}[cell]
            model = getattr(bptt, make)(V, H, V, seed=0, dtype=np.float32)
            stream = np.random.default_rng(0).integers(0, V, size=(T * n + 1, B))
            walk = TruncatedBPTT(model, stream[:-1], stream[1:], T, T)
            opt = Adam(model.params, 1e-3)

            def step():
                u = walk.next_update()
                clip_global_norm(u.grads, 5.0)
                opt.step(model.params, u.grads)
            print("ok", flush=True)
        elif cmd == "run":
            step()                                     # warms caches; not counted
            times = []
            for _ in range(int(args[0])):
                t = clock()
                step()
                times.append(clock() - t)
            print(json.dumps(times), flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", nargs=2, help="the two versions' src folders (first: the baseline)")
    ap.add_argument("--cell", default="rnn", choices=("rnn", "lstm", "gru"))
    ap.add_argument("--sizes", default=None, help="e.g. 128x32x64,256x64x100 (HxBxT)")
    ap.add_argument("--rounds", type=int, default=12, help="alternating rounds per size")
    ap.add_argument("--block", type=int, default=3, help="timed updates per round")
    ap.add_argument("--clock", default="wall", choices=("wall", "cpu"),
                    help="cpu: each process's CPU time, which other jobs on a busy machine do not inflate")
    ap.add_argument("--pause", type=float, default=0.25, help="seconds of rest before each block")
    args = ap.parse_args(argv)
    sizes = SIZES if not args.sizes else [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    procs = []
    for src in args.src:
        env = {**os.environ, "PYTHONPATH": os.path.abspath(src)}
        procs.append(subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", args.clock], env=env,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    print(f"{args.cell}, float32, V={V}; {args.clock} clock; {args.rounds} alternating rounds of {args.block} updates; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}; "
          f"A = {args.src[0]}, B = {args.src[1]}")
    print(f"{'H':>5} {'B':>4} {'T':>4} | {'A ms/update':>11} {'B ms/update':>11} {'B/A time':>9} | "
          f"{'A tok/s':>9} {'B tok/s':>9}")
    try:
        for H, B, T in sizes:
            n = (args.rounds + 1) * (args.block + 1) + 2
            for p in procs:
                p.stdin.write(f"setup {args.cell} {H} {B} {T} {n}\n")
                p.stdin.flush()
                assert p.stdout.readline().strip() == "ok"
            times = [[], []]
            for r in range(args.rounds + 1):             # round 0 warms up
                for k, p in enumerate(procs if r % 2 == 0 else procs[::-1]):
                    k = k if r % 2 == 0 else 1 - k
                    time.sleep(args.pause)
                    p.stdin.write(f"run {args.block}\n")
                    p.stdin.flush()
                    t = json.loads(p.stdout.readline())
                    if r:
                        times[k] += t
            a, b = (statistics.median(t) for t in times)
            print(f"{H:>5} {B:>4} {T:>4} | {1e3 * a:>11.2f} {1e3 * b:>11.2f} {b / a:>9.3f} | "
                  f"{B * T / a:>9,.0f} {B * T / b:>9,.0f}", flush=True)
    finally:
        for p in procs:
            p.stdin.close()
            p.wait()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(time.process_time if sys.argv[2] == "cpu" else time.perf_counter)
    else:
        main()
