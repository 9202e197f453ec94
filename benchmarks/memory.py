"""Full BPTT over a very long sequence: plain (every step kept) against segment recomputation.

Each path runs in its own process, so each peak is its own: the peak resident memory the
gradient computation adds (ru_maxrss at the end minus the resident memory just before it) and
the wall time. The gradients of the two are compared in float64 on a shorter sequence.

    python benchmarks/memory.py                    # T = 100,000, H = 256, B = 8, float32
    python benchmarks/memory.py --steps 20000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def child(path, T, H, B, dtype):
    from bptt import SimpleRNN
    from bptt.nn.recompute import low_memory_gradients
    rng = np.random.default_rng(0)
    V = 65
    model = SimpleRNN(V, H, V, seed=0, dtype=dtype)
    x = rng.integers(0, V, size=(T, B))
    y = rng.integers(0, V, size=(T, B))
    before = rss_bytes()
    t = time.perf_counter()
    if path == "plain":
        result = model.gradients(x, y)
    else:
        result = low_memory_gradients(model, x, y)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak_added": peak - before, "loss": result.loss}))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child, args.steps, args.hidden, args.batch, args.dtype)
    # correctness first, float64, a sequence short enough for the plain path to be quick
    from bptt.nn.recompute import low_memory_gradients
    from bptt.proof.random_cases import random_problem
    model, x, y, h0, _ = random_problem("tokens", I=65, O=65, H=64, T=5000, B=4, seed=1)
    a, b = model.gradients(x, y, h0), low_memory_gradients(model, x, y, h0)
    err = max(float(np.abs(a.grads[k] - b.grads[k]).max() / np.abs(a.grads[k]).max()) for k in a.grads)
    print(f"float64, T=5000, H=64, B=4: max relative gradient difference, recomputed vs plain: {err:.1e}")
    rows = {}
    for path in ("plain", "recompute"):
        out = subprocess.run([sys.executable, __file__, "--child", path, "--steps", str(args.steps),
                              "--hidden", str(args.hidden), "--batch", str(args.batch), "--dtype", args.dtype],
                             capture_output=True, text=True, check=True)
        rows[path] = json.loads(out.stdout.strip().splitlines()[-1])
    T = args.steps
    print(f"full BPTT over T={T:,} steps, H={args.hidden}, B={args.batch}, {args.dtype}, segments of "
          f"sqrt(T) = {int(np.ceil(np.sqrt(T)))} steps")
    print(f"{'path':<10} {'peak memory added':>18} {'seconds':>9}")
    for path, r in rows.items():
        print(f"{path:<10} {r['peak_added'] / 2**20:>15,.0f} MB {r['seconds']:>9.2f}")
    p, q = rows["plain"], rows["recompute"]
    print(f"recompute / plain: memory {q['peak_added'] / p['peak_added']:.2%}, time {q['seconds'] / p['seconds']:.2f}x; "
          f"loss difference {abs(p['loss'] - q['loss']):.1e}")


if __name__ == "__main__":
    main()
