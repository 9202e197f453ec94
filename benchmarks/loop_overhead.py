"""What the loop over time costs beyond its matrix products, per cell: the measurement behind
docs/results-speed.md's account of where the LSTM's and GRU's time goes.

For each cell, the recurrence forward (``unroll.forward_through_time``) and backward
(``unroll.backward_through_time``, including the cell's ``backward_locals``) over T steps,
float32, beside the same T recurrent products alone ((B, H) @ (H, G*H) forward,
(B, G*H) @ (G*H, H) backward, written into the same kind of buffers). The difference is the
cell's elementwise work (gate nonlinearities, products with the gates) and the per-step
Python calls. Rounds alternate between the four, the median is kept; the clock is this
process's CPU time, so other jobs on a busy machine do not inflate it.

    OPENBLAS_NUM_THREADS=1 python benchmarks/loop_overhead.py --sizes 256x64x100,512x64x100

The gated cells take their compiled path where numba is installed; ``BPTT_KERNELS=numpy`` in
front of the command times the NumPy path instead.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from bptt.nn.cells import CELLS
from bptt.nn.unroll import Weights, backward_through_time, forward_through_time


def measure(cell_name, H, B, T, rounds):
    cell = CELLS[cell_name]()
    G = cell.gates
    rng = np.random.default_rng(0)
    f32 = np.float32
    W = (rng.uniform(-1, 1, (G * H, H)) / np.sqrt(H)).astype(f32)                     # (G*H, H)
    P = Weights.of(cell, W, {k: rng.uniform(-0.1, 0.1, s).astype(f32) for k, s in cell.extra_params(H).items()})
    xu = rng.standard_normal((T, B, G * H)).astype(f32)                                  # (T, B, G*H)
    state0 = {n: np.zeros((B, H), f32) for n in cell.states}
    fwd_out = ({n: np.empty((T + 1, B, H), f32) for n in cell.states},
               {n: np.empty((T, B, w * H), f32) for n, w in cell.keeps})
    dh_out = rng.standard_normal((T, B, H)).astype(f32)                                 # (T, B, H)
    bwd_out = ({n: np.empty((T, B, H), f32) for n in cell.states},
               {n: np.empty((T, B, G * H), f32) for n in cell.errors})
    scratch_arrays = {}

    def scratch(name, shape, dtype):
        return scratch_arrays.setdefault(name, np.empty(shape, dtype))
    hs, g, carry = fwd_out[0]["h"], np.empty((T, B, G * H), f32), np.empty((B, H), f32)

    def products_forward():
        for t in range(T):
            np.matmul(hs[t], P.W_T, out=g[t])

    def products_backward():
        for t in range(T):
            np.matmul(g[t], P.W, out=carry)
    runs = {
        "forward": lambda: forward_through_time(cell, P, xu, state0, out=fwd_out),
        "products forward": products_forward,
        "backward": lambda: backward_through_time(cell, P, dh_out, *fwd_out, out=bwd_out, scratch=scratch),
        "products backward": products_backward,
    }
    times = {k: [] for k in runs}
    for r in range(rounds + 1):
        for k, f in runs.items():
            t = time.process_time()
            f()
            if r:
                times[k].append(time.process_time() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", default="rnn,lstm,gru")
    ap.add_argument("--sizes", default="256x64x100,512x64x100", help="HxBxT,...")
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args(argv)
    print(f"{'cell':>4} {'H':>5} {'B':>4} {'T':>4} | {'forward':>8} {'products':>8} {'rest/step':>9} {'rest %':>6} | "
          f"{'backward':>8} {'products':>8} {'rest/step':>9} {'rest %':>6}   (ms per T steps, CPU time)")
    for cell in args.cells.split(","):
        for H, B, T in (tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")):
            m = measure(cell, H, B, T, args.rounds)
            row = []
            for side in ("forward", "backward"):
                total, prod = m[side], m[f"products {side}"]
                row.append(f"{1e3 * total:>8.1f} {1e3 * prod:>8.1f} {1e6 * (total - prod) / T:>7.0f}us "
                           f"{100 * (total - prod) / total:>5.0f}%")
            print(f"{cell:>4} {H:>5} {B:>4} {T:>4} | {row[0]} | {row[1]}", flush=True)


if __name__ == "__main__":
    main()
