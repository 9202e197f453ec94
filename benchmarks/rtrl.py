"""BPTT beside real-time recurrent learning: cost per update, accuracy, and learning online.

    python benchmarks/rtrl.py                  # all three parts (about 5 minutes of CPU time)
    python benchmarks/rtrl.py cost             # time and memory per update as T and H grow
    python benchmarks/rtrl.py accuracy         # SnAp-1's error and UORO's spread, per cell
    python benchmarks/rtrl.py curves           # adding and copy: truncated BPTT beside UORO and SnAp-1
    python benchmarks/rtrl.py limit            # one step of exact RTRL at the size training refuses beyond

cost: one update of a tanh simple RNN (I = O = 8, one stream, float64, token-id targets) by
full BPTT (``model.gradients``), recomputing BPTT (``bptt.low_memory_gradients``, sqrt(T)
segments), exact RTRL (``bptt.rtrl``), UORO (``bptt.uoro``) and SnAp-1 (``bptt.snap``), as T
grows at H = 16 and as H grows at T = 64. Time is CPU time (time.process_time, one BLAS thread:
the machine is shared, and CPU time does not count what the other processes run), the least of
a few repeats; memory is the peak of what numpy and Python allocate during the update
(tracemalloc, in a separate run from the timing), inputs and parameters excluded.
accuracy: on a fixed network, each method's gradient beside exact RTRL's.
curves: fresh batches of one task at a short lag, the GRU, Adam; every method updates every
K1 = 5 steps of each sequence, where that window carries a loss: truncated BPTT back-propagates
through the last k2 steps, UORO and SnAp-1 carry their influence from the sequence's start.

Writes benchmarks/rtrl/{cost.jsonl, cost.md, cost.png, accuracy.md, curves.jsonl, curves.md,
curves.png, limit.md}. Small on purpose (minutes, not hours): one seed, short lags, small models.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")      # one thread, before numpy loads BLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import bptt  # noqa: E402
from bptt.data import tasks  # noqa: E402
from bptt.nn.recompute import low_memory_gradients  # noqa: E402
from bptt.nn.snap import snap_walk  # noqa: E402
from bptt.nn.uoro import uoro_walk  # noqa: E402
from bptt.train.optim import OPTIMIZERS, clip_global_norm  # noqa: E402
from bptt.train.task import evaluate  # noqa: E402

OUT = ROOT / "benchmarks" / "rtrl"
METHODS = ("bptt", "recompute", "rtrl", "uoro", "snap1")
T_SWEEP, H_FIXED = (16, 64, 256, 1024, 4096), 16
H_SWEEP, T_FIXED = (4, 8, 16, 32, 64, 128), 64
I = O = 8


# ------------------------------------------------------------------------------- the cost
def update(method, model, x, y, rng):
    """One gradient over the whole sequence by ``method``."""
    if method == "bptt":
        return model.gradients(x, y)
    if method == "recompute":
        return low_memory_gradients(model, x, y)
    if method == "rtrl":
        return bptt.rtrl(model, x, y, max_bytes=None)
    if method == "uoro":
        return bptt.uoro(model, x, y, rng)
    return bptt.snap(model, x, y)


def measure(method, T, H, seed=0):
    rng = np.random.default_rng(seed)
    model = bptt.SimpleRNN(I, H, O, seed=seed)
    x = rng.integers(0, I, size=(T, 1))
    y = rng.integers(0, O, size=(T, 1))
    best, total, repeats = math.inf, 0.0, 0
    while repeats < 3 or (total < 0.3 and repeats < 20):       # the least of a few, at least 0.3 s of them
        t = time.process_time()
        update(method, model, x, y, rng)
        dt = time.process_time() - t
        best, total, repeats = min(best, dt), total + dt, repeats + 1
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    update(method, model, x, y, rng)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return {"method": method, "T": T, "H": H, "cpu_seconds": best, "repeats": repeats, "peak_bytes": peak}


def crossings(rows, axis, what):
    """Where two methods' costs cross between neighbouring grid points (log-log interpolation):
    [(a, b, value of the axis)] with a the cheaper one beyond the crossing."""
    by = {m: {r[axis]: r[what] for r in rows if r["method"] == m} for m in METHODS}
    out = []
    for i, a in enumerate(METHODS):
        for b in METHODS[i + 1:]:
            xs = sorted(set(by[a]) & set(by[b]))
            for lo, hi in zip(xs, xs[1:]):
                d0 = math.log(by[a][lo] / by[b][lo])
                d1 = math.log(by[a][hi] / by[b][hi])
                if d0 * d1 < 0:
                    f = d0 / (d0 - d1)
                    at = math.exp(math.log(lo) + f * (math.log(hi) - math.log(lo)))
                    out.append((a if d1 < 0 else b, b if d1 < 0 else a, at))
    return out


def cost(out: Path):
    rows = []
    grid = [(T, H_FIXED) for T in T_SWEEP] + [(T_FIXED, H) for H in H_SWEEP if H != H_FIXED]
    for T, H in grid:
        for method in METHODS:
            r = measure(method, T, H)
            rows.append(r)
            print(f"cost: {method:<9} T={T:<5} H={H:<4} {r['cpu_seconds'] * 1e3:10.2f} ms CPU "
                  f"{r['peak_bytes'] / 1024:10.1f} KiB", flush=True)
    with open(out / "cost.jsonl", "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    write_cost_table(rows, out)
    plot_cost(rows, out / "cost.png")


def write_cost_table(rows, out: Path):
    cell = {(r["method"], r["T"], r["H"]): r for r in rows}
    points = sorted({(r["T"], r["H"]) for r in rows}, key=lambda p: (p[1] != H_FIXED, p[1], p[0]))
    lines = ["One update of a tanh simple RNN (I = O = 8, one stream, float64) over a sequence of T steps.",
             "CPU time (time.process_time, one BLAS thread, least of at least 3 repeats) and peak memory",
             "allocated during the update (tracemalloc). Cheapest of each row in bold.", "",
             "| T | H | " + " | ".join(f"{m} ms" for m in METHODS) + " | " + " | ".join(f"{m} KiB" for m in METHODS) + " |",
             "|" + "---|" * (2 + 2 * len(METHODS))]
    for T, H in points:
        ts = [cell[(m, T, H)]["cpu_seconds"] * 1e3 for m in METHODS]
        ms = [cell[(m, T, H)]["peak_bytes"] / 1024 for m in METHODS]
        fmt = lambda v, best: f"**{v:,.2f}**" if v == best else f"{v:,.2f}"   # noqa: E731
        lines.append(f"| {T} | {H} | " + " | ".join(fmt(v, min(ts)) for v in ts) + " | "
                     + " | ".join(fmt(v, min(ms)) for v in ms) + " |")
    lines += ["", "Crossing points (log-log interpolation between neighbouring grid points; "
              "the first named is the cheaper beyond the point):", ""]
    for axis, fixed, label in (("T", H_FIXED, f"H = {H_FIXED}"), ("H", T_FIXED, f"T = {T_FIXED}")):
        sweep = [r for r in rows if r["H" if axis == "T" else "T"] == fixed]
        for what, unit in (("cpu_seconds", "time"), ("peak_bytes", "memory")):
            found = crossings(sweep, axis, what)
            text = "; ".join(f"{a} below {b} beyond {axis} = {v:,.0f}" for a, b, v in found) or "none in the grid"
            lines.append(f"- {unit}, {label}, as {axis} grows: {text}")
    (out / "cost.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def plot_cost(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.5), constrained_layout=True)
    for col, (axis, fixed, other) in enumerate((("T", H_FIXED, "H"), ("H", T_FIXED, "T"))):
        for row, (what, scale, unit) in enumerate((("cpu_seconds", 1e3, "CPU ms per update"),
                                                   ("peak_bytes", 1 / 1024, "peak KiB per update"))):
            ax = axes[row, col]
            for m in METHODS:
                pts = sorted((r[axis], r[what] * scale) for r in rows if r["method"] == m and r[other] == fixed)
                ax.loglog(*zip(*pts), marker="o", label=m)
            ax.set_xlabel(f"{axis} ({other} = {fixed})")
            ax.set_ylabel(unit)
            ax.grid(True, which="both", alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("One update: BPTT, recomputing BPTT, exact RTRL, UORO, SnAp-1 (tanh RNN, one stream, "
                 "CPU time, one thread)", fontsize=9)
    fig.savefig(path, dpi=80)
    plt.close(fig)


# --------------------------------------------------------------------------- the accuracy
def relative_error(got, exact, names=("U", "W", "b")):
    num = math.sqrt(sum(float(np.square(got[k] - exact[k]).sum()) for k in names))
    return num / math.sqrt(sum(float(np.square(exact[k]).sum()) for k in names))


def accuracy(out: Path, T=50, H=8, draws=400):
    lines = [f"Gradient of one sequence (T = {T}, H = {H}, I = O = 4, 4 streams, float64, random vectors in,",
             "squared error out) beside exact RTRL's, relative error ||g - g_exact|| / ||g_exact|| over U, W, b.",
             f"UORO: one draw's root-mean-square error over {draws} draws, and the error of their mean.", "",
             "| cell | BPTT | SnAp-1, dense W | SnAp-1, diagonal W blocks | UORO, one draw (rms) "
             f"| UORO, mean of {draws} |", "|---|---|---|---|---|---|"]
    for cell in ("rnn", "lstm", "gru"):
        rng = np.random.default_rng(0)
        model = bptt.Network.create(cell, 4, H, 4, output="identity", seed=0)
        x, y = rng.normal(size=(T, 4, 4)), rng.normal(size=(T, 4, 4))
        exact = bptt.rtrl(model, x, y).grads
        bp = relative_error(model.gradients(x, y).grads, exact)
        snap_dense = relative_error(bptt.snap(model, x, y).grads, exact)
        diag = model.copy()
        G = model.cell.gates
        diag.params["W"] = (model.params["W"].reshape(G, H, H) * np.eye(H)).reshape(G * H, H)
        snap_diag = relative_error(bptt.snap(diag, x, y).grads, bptt.rtrl(diag, x, y).grads)
        estimates = [bptt.uoro(model, x, y, rng).grads for _ in range(draws)]
        rms = math.sqrt(np.mean([relative_error(e, exact) ** 2 for e in estimates]))
        mean = {k: np.mean([e[k] for e in estimates], axis=0) for k in "UWb"}
        lines.append(f"| {cell} | {bp:.1e} | {snap_dense:.3f} | {snap_diag:.1e} | {rms:.2f} | "
                     f"{relative_error(mean, exact):.3f} |")
        print(lines[-1], flush=True)
    lines += ["", f"A mean of n draws has about 1/sqrt(n) of one draw's error: {draws} draws, "
              f"1/{math.sqrt(draws):.0f} of it."]
    (out / "accuracy.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


# ------------------------------------------------------------------------------ the curves
K1 = 5                                                    # every method's update period, in steps
CELL = "gru"                                              # solves adding at T = 20 in 200 updates (long_lag.py)
CURVES = {   # task: (length, hidden, batch, updates, lr, eval_every, truncations k2; the last = the whole sequence)
    "adding": (20, 16, 16, 800, 1e-2, 40, (5, 10, 20)),
    "copy": (5, 48, 16, 3000, 1e-2, 150, (5, 10, 25)),
}
EVAL_SIZE = 200


def truncated_windows(model, x, y, mask, k2):
    """BPTT(k2; K1) with a mask, over one batch: (window's loss, its gradient) every K1 steps that
    carry a loss; the states at the chain's start come from the walk's earlier forward passes
    (with the parameters as they were), and are held constant."""
    T = x.shape[0]
    states = {0: {f"{n}0": np.zeros((x.shape[1], model.n_hidden)) for n in model.cell.states}}
    for start in range(0, T, K1):
        stop = min(start + K1, T)
        c0 = max(0, stop - k2)
        trace = model.forward(x[c0:stop], **states[c0])
        for t in range(c0 + 1, stop + 1):
            states[t] = {f"{n}0": trace.layers[0].states[n][t - c0].copy() for n in model.cell.states}
        m = mask[c0:stop].copy()
        m[:start - c0] = 0                                # the chain's older steps carry no loss here
        if mask[start:stop].sum() > 0:
            yield model.backward(trace, y[c0:stop], mask=m)


def online_windows(model, x, y, mask, make_walk):
    walk = make_walk(model, x.shape[1])
    for start in range(0, x.shape[0], K1):
        r = walk.run(x[start:start + K1], y[start:start + K1], mask[start:start + K1])
        if mask[start:start + K1].sum() > 0:
            yield r


def learn(task_name, method, seed=0):
    """One run of ``method``: "tbptt<k2>", "uoro", "uoro@<lr>" (another learning rate), "snap1"."""
    length, H, B, updates, lr, eval_every, _ = CURVES[task_name]
    if "@" in method:
        lr = float(method.split("@")[1])
    task = tasks.get(task_name)
    model = bptt.Network.create(CELL, task.n_in, H, task.n_out, output=task.output, seed=seed)
    opt = OPTIMIZERS["adam"](model.params, lr)
    rng = np.random.default_rng([seed, 0])
    signs = np.random.default_rng([seed, 2])
    held_out = task.generate(length, EVAL_SIZE, np.random.default_rng([seed, 1]))
    curve, step, sequences, t0 = [], 0, 0, time.process_time()
    while step < updates:
        batch = task.generate(length, B, rng)
        y = batch.y.astype(np.float64) if batch.y.dtype.kind == "f" else batch.y
        sequences += B
        if method.startswith("tbptt"):
            windows = truncated_windows(model, batch.x, y, batch.mask, int(method[5:]))
        elif method.startswith("uoro"):
            windows = online_windows(model, batch.x, y, batch.mask, lambda m, b: uoro_walk(m, b, signs))
        else:
            windows = online_windows(model, batch.x, y, batch.mask, snap_walk)
        for r in windows:                                   # applied before the next window is computed
            grads = r.grads
            clip_global_norm(grads, 1.0)
            opt.step(model.params, grads)
            step += 1
            if step % eval_every == 0:
                metric, loss = evaluate(model, task, held_out)
                curve.append({"task": task_name, "method": method, "update": step, "sequences": sequences,
                              "metric": metric, "loss": loss, "cpu_seconds": time.process_time() - t0})
            if step >= updates:
                break
    return curve


def curves(out: Path):
    rows = []
    for task_name, (length, H, B, updates, lr, _, truncations) in CURVES.items():
        for method in [f"tbptt{k}" for k in truncations] + ["uoro", "uoro@0.001", "snap1"]:
            curve = learn(task_name, method)
            rows += curve
            last = curve[-1]
            print(f"curves: {task_name} T={length} {method:<8} after {last['update']} updates: "
                  f"loss {last['loss']:.4f} metric {last['metric']:.3f} ({last['cpu_seconds']:.0f} s CPU)", flush=True)
    with open(out / "curves.jsonl", "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    write_curves(rows, out)


def write_curves(rows, out: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(CURVES), figsize=(10, 3.8), constrained_layout=True)
    lines = [f"The {CELL.upper()} on fresh batches, Adam (lr 1e-2 unless named), global-norm clip 1, one seed; every method updates every {K1} steps that "
             "carry a loss. Held-out loss per target step (200 sequences) at the end, and the CPU seconds of the run.", "",
             "| task | T | H | B | method | updates | held-out loss | memoryless baseline | metric | CPU s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for ax, (task_name, (length, H, B, updates, lr, _, truncations)) in zip(axes, CURVES.items()):
        task = tasks.get(task_name)
        methods = list(dict.fromkeys(r["method"] for r in rows if r["task"] == task_name))
        for m in methods:
            pts = [r for r in rows if r["task"] == task_name and r["method"] == m]
            whole = " (the whole sequence: exact online)" if m == f"tbptt{truncations[-1]}" else ""
            label = (f"truncated BPTT, k2 = {m[5:]}{whole}" if m.startswith("tbptt")
                     else {"uoro": "UORO", "uoro@0.001": "UORO, lr 1e-3", "snap1": "SnAp-1"}[m])
            ax.plot([r["update"] for r in pts], [r["loss"] for r in pts], label=label,
                    linestyle="-" if m.startswith("tbptt") else "--")
            last = pts[-1]
            lines.append(f"| {task_name} | {length} | {H} | {B} | {label} | {last['update']} | {last['loss']:.4f} | "
                         f"{task.loss_baseline(length):.4f} | {task.metric_name} {last['metric']:.3f} | "
                         f"{last['cpu_seconds']:.0f} |")
        ax.axhline(task.loss_baseline(length), color="grey", linewidth=0.8, linestyle=":", label="memoryless")
        ax.set_title(f"{task_name}, T = {length}, {CELL.upper()} H = {H}", fontsize=9)
        ax.set_xlabel("updates")
        ax.set_ylabel("held-out loss per target step")
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    fig.savefig(out / "curves.png", dpi=80)
    plt.close(fig)
    (out / "curves.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


# ------------------------------------------------------------------------------- the limit
def limit(out: Path):
    """What one step of exact RTRL costs at the size ``--gradient rtrl`` refuses beyond."""
    from bptt.nn.rtrl import rtrl_walk
    from bptt.train.online import RTRL_MAX_MADDS, rtrl_cost
    lines = []
    for dtype in ("float32", "float64"):
        model = bptt.SimpleRNN(65, 62, 65, seed=0, dtype=dtype)
        rng = np.random.default_rng(0)
        x, y = rng.integers(0, 65, (8, 32)), rng.integers(0, 65, (8, 32))
        walk = rtrl_walk(model, 32)
        t = time.process_time()
        walk.run(x, y)
        seconds = (time.process_time() - t) / 8
        madds = rtrl_cost(model.cell, 65, 62, 32)[0]
        lines.append(f"exact RTRL, RNN, 65 inputs, H = 62, B = 32, {dtype}: {madds:.3g} multiply-adds per step "
                     f"(limit {RTRL_MAX_MADDS:.0e}), {seconds:.3f} s CPU per step, {madds / seconds:.3g} per second")
        print(lines[-1], flush=True)
    (out / "limit.md").write_text("\n".join(lines) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("part", nargs="?", default="all", choices=("all", "cost", "accuracy", "curves", "limit"))
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"CPU time (time.process_time), OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; "
          f"small runs on a shared machine", flush=True)
    t0 = time.process_time()
    if args.part in ("all", "cost"):
        cost(args.out)
    if args.part in ("all", "accuracy"):
        accuracy(args.out)
    if args.part in ("all", "curves"):
        curves(args.out)
    if args.part in ("all", "limit"):
        limit(args.out)
    print(f"total CPU time {time.process_time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
