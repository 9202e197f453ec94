"""Which cells solve the long-lag tasks as the lag grows, within a fixed update budget.

    python benchmarks/long_lag.py --jobs 2                  # docs/results-long-lag.md
    python benchmarks/long_lag.py --tasks adding --cells rnn lstm --lengths 50 --seeds 0
    python benchmarks/long_lag.py --report                  # table and picture from the results so far

Each run is ``bptt.train.task.train`` with the defaults for its task and cell (``DEFAULTS``
there) and the update budget below, stopping early once the task's criterion holds on 1,000
held-out sequences. Every finished run appends one JSON line (its result.json, with its
seconds) to benchmarks/long_lag/results.jsonl, so the grid can be run in parts; in the table a
later run of the same (task, cell, length, seed) replaces an earlier one. The table goes to
benchmarks/long_lag/table.md, the picture (the trained models' lag profiles on one task) to
benchmarks/long_lag/lag_profiles.png; run folders (checkpoints, curves) under runs/long_lag/.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
OUT = ROOT / "benchmarks" / "long_lag"

GRID = {"adding": (10, 20, 50, 100, 200), "copy": (10, 20, 50, 100, 200),
        "adding-1997": (100,), "temporal-order": (100,)}
CELLS = ("rnn", "irnn", "lstm", "gru")
SEEDS = (0, 1, 2)
# The update budget of every run, by task: chosen so that the whole grid fits in 30 minutes on
# 2 cores. The papers trained for far longer (see docs/results-long-lag.md).
BUDGET = {"adding": 1500, "copy": 1000, "adding-1997": 1500, "temporal-order": 1500}
EVAL_EVERY = 100


def run_one(spec):
    """One run in a worker process: (task, cell, length, seed) -> the result dict."""
    sys.path.insert(0, str(SRC))
    from bptt.train.task import default_config, train
    task, cell, length, seed, steps, runs = spec
    config = default_config(task, cell, length=length, seed=seed, steps=steps, eval_every=EVAL_EVERY)
    out = Path(runs) / f"{task}-{cell}-T{length}-seed{seed}"
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        result = train(config, out)
    except Exception as err:   # a diverged run is a result too; the table says so
        result = {"task": task, "cell": cell, "length": length, "seed": seed, "solved": False,
                  "error": f"{type(err).__name__}: {err}", "updates": None}
    result["wall_seconds"] = time.perf_counter() - t0
    result["cpu_seconds"] = time.process_time() - c0   # what the run cost, whatever else the machine ran
    result["budget"] = steps
    result.pop("config", None)
    return result


def run_grid(specs, jobs, results_path):
    results_path.parent.mkdir(parents=True, exist_ok=True)
    # one BLAS thread per worker: the matrices are small, the workers share the cores
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    t0 = time.perf_counter()
    done = 0
    pool = multiprocessing.get_context("spawn").Pool(jobs) if jobs > 1 else None
    try:
        for result in (pool.imap_unordered(run_one, specs) if pool else map(run_one, specs)):
            done += 1
            with open(results_path, "a") as f:
                f.write(json.dumps(result) + "\n")
            elapsed = time.perf_counter() - t0
            if result.get("error"):
                verdict = f"failed ({result['error']})"
            else:
                verdict = (f"{'solved' if result['solved'] else 'not solved'} after {result['updates']} updates, "
                           f"{result['metric_name']} {_g(result['metric'])}")
            print(f"[{done}/{len(specs)}] {result['task']} T={result['length']} {result['cell']} seed "
                  f"{result['seed']}: {verdict}, {result['wall_seconds']:.1f} s; {elapsed / 60:.1f} min so far, "
                  f"about {elapsed / done * (len(specs) - done) / 60:.1f} min left", flush=True)
    finally:
        if pool is not None:
            pool.terminate()


def latest(results_path):
    """The last result of each (task, cell, length, seed)."""
    by_key = {}
    if results_path.is_file():
        for line in results_path.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                by_key[(r["task"], r["cell"], r["length"], r["seed"])] = r
    return by_key


def table(results) -> str:
    """Markdown: one row per (task, T), one column per cell; each entry is solved/runs, the
    median updates of the solved runs (or, when none solved, the best run's held-out loss as a
    share of the memoryless baseline's), and the median CPU seconds per run."""
    cells = [c for c in CELLS if any(k[1] == c for k in results)]
    rows = sorted({(k[0], k[2]) for k in results}, key=lambda r: (list(GRID).index(r[0]) if r[0] in GRID else 9, r[1]))
    lines = ["| task | T | " + " | ".join(cells) + " |", "| --- | ---: | " + " | ".join("---" for _ in cells) + " |"]
    for task, length in rows:
        entries = []
        for cell in cells:
            runs = [r for k, r in sorted(results.items()) if k[:3] == (task, cell, length)]
            if not runs:
                entries.append("")
                continue
            solved = [r for r in runs if r["solved"]]
            text = f"{len(solved)}/{len(runs)}"
            if solved:
                text += f", {statistics.median(r['updates'] for r in solved):,.0f} updates"
            else:   # how far the best run got: its held-out loss against the memoryless one
                best = [r["loss"] / r["loss_baseline"] for r in runs if r.get("loss") is not None]
                if best:
                    text += f", loss {_percent(min(best))} of baseline"
            text += f", {statistics.median(r['cpu_seconds'] for r in runs):.0f} s"
            entries.append(text)
        lines.append(f"| {task} | {length} | " + " | ".join(entries) + " |")
    return "\n".join(lines)


def _g(value) -> str:
    return "overflowed" if value is None else f"{value:.3g}"


def _percent(fraction) -> str:
    return f"{100 * fraction:.0f}%" if fraction < 10 else f"{fraction:.1e}x"


def picture(results, task, length, path):
    sys.path.insert(0, str(SRC))
    from types import SimpleNamespace

    import numpy as np
    from bptt.diagnose.plots import plot_lags_beside
    profiles = {}
    for cell in CELLS:
        r = results.get((task, cell, length, 0))
        if r is not None and r.get("lag_ratio"):
            verdict = "solved" if r["solved"] else "not solved"
            # the run's LagProfile.ratio, as results.jsonl keeps it (null where undefined)
            ratio = np.array([np.nan if v is None else v for v in r["lag_ratio"]])
            profiles[f"{cell}: {verdict} ({r['metric_name']} {_g(r['metric'])}) after {r['updates']} updates"] = \
                SimpleNamespace(ratio=ratio)
    if not profiles:
        return None
    return plot_lags_beside(profiles, path,
                            title=f"How much of the error at the answer reaches h(t - lag)\n{task}, T = {length}: "
                                  f"the trained models (seed 0)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tasks", nargs="+", choices=tuple(GRID), default=["adding", "copy"])
    p.add_argument("--cells", nargs="+", choices=CELLS, default=list(CELLS))
    p.add_argument("--lengths", nargs="+", type=int, default=None, help="default: the task's grid")
    p.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    p.add_argument("--steps", type=int, default=None, help="override the budget of every run")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--results", type=Path, default=OUT / "results.jsonl")
    p.add_argument("--runs", type=Path, default=ROOT / "runs" / "long_lag")
    p.add_argument("--report", action="store_true", help="only write the table and picture")
    p.add_argument("--picture", nargs=2, metavar=("TASK", "T"), default=("adding", "100"))
    args = p.parse_args(argv)
    if not args.report:
        specs = [(task, cell, length, seed, args.steps or BUDGET[task], str(args.runs))
                 for task in args.tasks for length in (args.lengths or GRID[task])
                 for cell in args.cells for seed in args.seeds]
        specs.sort(key=lambda s: -(s[2] * (2 if s[1] in ("lstm", "gru") else 1)))   # long runs first
        print(f"{len(specs)} runs on {args.jobs} processes; results: {args.results}", flush=True)
        run_grid(specs, args.jobs, args.results)
    results = latest(args.results)
    text = table(results)
    (args.results.parent / "table.md").write_text(text + "\n")
    print(text)
    png = picture(results, args.picture[0], int(args.picture[1]), args.results.parent / "lag_profiles.png")
    if png:
        print(f"picture: {png}")


if __name__ == "__main__":
    main()
