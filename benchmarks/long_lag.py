"""Which cells solve the long-lag tasks as the lag grows, within a fixed update budget.

    python benchmarks/long_lag.py --jobs 2                  # the adding and copy grid, on 2 cores (joblib)
    python benchmarks/long_lag.py --tasks adding --cells rnn lstm --lengths 50 --seeds 0
    python benchmarks/long_lag.py --tasks copy --cells lstm lstm-chrono --setup arjovsky --steps 5000
    python benchmarks/long_lag.py --engine submitit --jobs 50   # Slurm job arrays, or submitit's local executor
    python benchmarks/long_lag.py --report                  # table and pictures from the results so far

The grid is tasks x lengths x cells x seeds. Each grid cell is a function of its settings alone
(``run_cell``): it trains ``bptt.train.task.train`` with the defaults for its task and cell
(``DEFAULTS`` there), the cell's initialisation (``VARIANTS``: ``lstm`` is forget bias 1,
``lstm-chrono`` the chrono initialisation, ...), the setup's overrides (``SETUPS``) and the
update budget, stopping early once the task's criterion holds on 1,000 held-out sequences, and
writes its own run folder under ``--runs``, named by its settings. A folder that already holds
the record of the same settings is not run again, so a grid that was stopped, or ran in parts on
several machines sharing the folder, is finished by running it again.

Engines: ``serial`` (one process), ``joblib`` (``--jobs`` processes on one machine, the default
when ``--jobs`` > 1), ``submitit`` (a Slurm job array of ``--jobs`` tasks at a time where Slurm
is, its local executor where it is not; ``--cluster local`` forces that). joblib and submitit
come with ``pip install -e ".[grid]"``.

Every record (the run's result.json, its grid settings, wall-clock and CPU seconds, and the
held-out curve) is copied to ``benchmarks/long_lag/records/<name>.json`` (the files the docs' table
links to) and merged into ``benchmarks/long_lag/results.jsonl``, where a later record of the
same grid cell replaces an earlier one. The table goes to benchmarks/long_lag/table.md, the
pictures (the trained models' lag profiles) to benchmarks/long_lag/lag_profiles*.png.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
OUT = ROOT / "benchmarks" / "long_lag"

GRID = {"adding": (10, 20, 50, 100, 200), "copy": (10, 20, 50, 100, 200),
        "adding-1997": (100,), "temporal-order": (100,)}
# The table's columns: a cell and how it starts. The TaskConfig fields each one sets on top of
# the task's defaults; "lstm" and "gru" name their plain start explicitly, whatever the defaults.
VARIANTS = {
    "rnn": ("rnn", {}),
    "irnn": ("irnn", {}),
    "lstm": ("lstm", {"init": "uniform", "forget_bias": 1.0}),   # Jozefowicz et al. 2015
    "lstm-fb2": ("lstm", {"init": "uniform", "forget_bias": 2.0}),
    "lstm-fb4": ("lstm", {"init": "uniform", "forget_bias": 4.0}),
    "lstm-chrono": ("lstm", {"init": "chrono"}),                  # Tallec & Ollivier 2018
    "gru": ("gru", {"init": "uniform"}),
    "gru-chrono": ("gru", {"init": "chrono"}),
    "leaky": ("leaky", {}),                                       # Goodfellow et al. 10.9.2: alpha learned
    "leaky-lr0.01": ("leaky", {"lr": 1e-2}),                      # the LSTM's and GRU's learning rate
}
CELLS = ("rnn", "irnn", "lstm", "gru")                           # the default columns
# Settings shared by every cell of a grid: the task defaults, or a paper's.
SETUPS = {
    "default": {},
    # Arjovsky et al. (2016) on the copying problem: an LSTM of 40 units, batch 20, RMSprop at
    # 1e-3, gradients clipped at 1 (RMSprop's decay is ours, alpha 0.99)
    "arjovsky": {"hidden": 40, "batch_size": 20, "optimizer": "rmsprop", "lr": 1e-3, "clip": 1.0},
}
SEEDS = (0, 1, 2)
# The update budget of every run, by task: for adding and copy chosen so that the README's grid
# fits in 30 minutes on 2 cores; for the 1997 tasks 150,000 sequences, twice the 74,000 the
# 1997 paper's LSTM needed on adding. The papers trained for far longer (see docs/long-lag.md).
BUDGET = {"adding": 1500, "copy": 1000, "adding-1997": 3000, "temporal-order": 3000}
EVAL_EVERY = 100


# ----------------------------------------------------------------------------- one grid cell
def cell_settings(task, variant, length, seed, steps, setup="default", eval_every=EVAL_EVERY) -> dict:
    """A grid cell's settings: everything its run depends on, and all it depends on."""
    return {"task": task, "variant": variant, "length": int(length), "seed": int(seed), "steps": int(steps),
            "setup": setup, "eval_every": int(eval_every)}


def cell_name(s: dict) -> str:
    """The run folder's name: the settings, readable."""
    setup = "" if s["setup"] == "default" else f"-{s['setup']}"
    every = "" if s["eval_every"] == EVAL_EVERY else f"-every{s['eval_every']}"
    return f"{s['task']}-T{s['length']}-{s['variant']}{setup}-seed{s['seed']}-n{s['steps']}{every}"


def run_cell(settings: dict, runs: str) -> dict:
    """Train one grid cell into ``runs/<cell_name>/`` and return its record (written there as
    record.json). A folder that holds the record of these settings is returned as it is; one
    left unfinished (no record) is trained again from the start."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")     # before numpy, where this process imports it
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    from bptt.train.task import default_config, train

    folder = Path(runs) / cell_name(settings)
    record_path = folder / "record.json"
    if record_path.is_file():
        record = json.loads(record_path.read_text())
        if record.get("grid_cell") == settings:
            return record
    if folder.exists():
        shutil.rmtree(folder)
    cell, overrides = VARIANTS[settings["variant"]]
    s = settings
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        config = default_config(s["task"], cell, length=s["length"], seed=s["seed"], steps=s["steps"],
                                eval_every=s["eval_every"], **SETUPS[s["setup"]], **overrides)
        result = train(config, folder)
    except Exception as err:   # a diverged run is a result too; the table says so
        folder.mkdir(parents=True, exist_ok=True)
        result = {"task": s["task"], "cell": cell, "length": s["length"], "seed": s["seed"], "solved": False,
                  "error": f"{type(err).__name__}: {err}", "updates": None}
    record = {**result, "variant": s["variant"], "setup": s["setup"], "budget": s["steps"],
              "wall_seconds": time.perf_counter() - t0,
              "cpu_seconds": time.process_time() - c0,     # what the run cost, whatever else the machine ran
              "grid_cell": settings, "curve": _curve(folder / "metrics.jsonl")}
    _write_json(record_path, record)
    return record


def _curve(metrics: Path) -> list:
    """[[update, held-out loss, held-out metric], ...] at every held-out score of the run."""
    if not metrics.is_file():
        return []
    rows = (json.loads(line) for line in metrics.read_text().splitlines() if line.strip())
    return [[r["step"], r["val_loss"], r["metric"]] for r in rows if "metric" in r]


def _write_json(path: Path, obj) -> None:
    """Atomically: a temporary file in the same folder, then renamed over the target."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


# ------------------------------------------------------------------------------- the engines
def run_grid(cells, runs, *, engine="serial", jobs=1, cluster=None, logs=None, timeout_min=240,
             partition=None, report=print):
    """Run every grid cell of ``cells`` (settings dicts), ``jobs`` at a time; return their records
    in the order given. Cells finished before are read back, not run."""
    # one BLAS thread per worker: the matrices are small and the workers share the cores
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    runs = str(runs)
    todo = [c for c in cells if not _finished(c, runs)]
    report(f"{len(cells)} grid cells, {len(cells) - len(todo)} finished before, {len(todo)} to run "
           f"({engine}, {jobs} at a time); run folders under {runs}")
    t0 = time.perf_counter()
    done = [0]

    def progress(record):
        done[0] += 1
        elapsed = time.perf_counter() - t0
        report(f"[{done[0]}/{len(todo)}] {_describe(record)}; {elapsed / 60:.1f} min so far, about "
               f"{elapsed / done[0] * (len(todo) - done[0]) / 60:.1f} min left")

    if engine == "serial" or not todo:
        for c in todo:
            progress(run_cell(c, runs))
    elif engine == "joblib":
        from joblib import Parallel, delayed
        for record in Parallel(n_jobs=jobs, return_as="generator_unordered")(delayed(run_cell)(c, runs)
                                                                                 for c in todo):
            progress(record)
    elif engine == "submitit":
        _run_submitit(todo, runs, jobs=jobs, cluster=cluster, logs=logs or Path(runs) / "submitit",
                      timeout_min=timeout_min, partition=partition, progress=progress)
    else:
        raise ValueError(f"engine: expected serial, joblib or submitit, got {engine!r}")
    return [run_cell(c, runs) for c in cells]          # every record, read back from its folder


def _run_submitit(todo, runs, *, jobs, cluster, logs, timeout_min, partition, progress):
    """A Slurm job array (``jobs`` tasks running at a time), or submitit's local executor where
    there is no Slurm, one process per grid cell, ``jobs`` at a time."""
    import submitit
    executor = submitit.AutoExecutor(folder=str(logs), cluster=cluster)
    executor.update_parameters(timeout_min=timeout_min, cpus_per_task=1, tasks_per_node=1, nodes=1,
                               slurm_array_parallelism=jobs, name="bptt-long-lag",
                               **({"slurm_partition": partition} if partition else {}))
    if executor.cluster == "slurm":
        batches = [todo]                               # one array; Slurm keeps ``jobs`` running
    else:                                              # the local executor starts every job it is given
        batches = [todo[i:i + jobs] for i in range(0, len(todo), jobs)]
    for batch in batches:
        submitted = executor.map_array(run_cell, batch, [runs] * len(batch))
        for job in submitted:
            progress(job.result())


def _finished(settings, runs) -> bool:
    path = Path(runs) / cell_name(settings) / "record.json"
    if not path.is_file():
        return False
    try:
        return json.loads(path.read_text()).get("grid_cell") == settings
    except ValueError:
        return False


def _describe(r) -> str:
    head = f"{r['task']} T={r['length']} {r.get('variant', r['cell'])} seed {r['seed']}"
    if r.get("error"):
        return f"{head}: failed ({r['error']})"
    return (f"{head}: {'solved' if r['solved'] else 'not solved'} after {r['updates']} updates, "
            f"{r['metric_name']} {_g(r['metric'])}, {r['wall_seconds']:.1f} s wall, {r['cpu_seconds']:.1f} s CPU")


# ----------------------------------------------------------------------------- the results
def key(r) -> tuple:
    """A record's grid cell: (task, variant, length, seed, setup, budget)."""
    return (r["task"], r.get("variant", r["cell"]), r["length"], r["seed"], r.get("setup", "default"), r.get("budget"))


def merge(results_path: Path, records, copies: Path | None = None) -> None:
    """Merge ``records`` into results.jsonl (a later record of a grid cell replaces an earlier
    one); copy each to ``copies/<name>.json``, without its lag ratios' duplicate, for the docs."""
    by_key = latest(results_path)
    for r in records:
        slim = {k: v for k, v in r.items() if k != "config"}
        by_key[key(slim)] = slim
        if copies is not None and "grid_cell" in r:
            copies.mkdir(parents=True, exist_ok=True)
            _write_json(copies / f"{cell_name(r['grid_cell'])}.json", r)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps({k: v for k, v in r.items() if k != "curve"}) + "\n" for r in by_key.values())
    fd, tmp = tempfile.mkstemp(dir=results_path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, results_path)


def latest(results_path):
    """The last result of each grid cell (task, variant, length, seed, setup, budget)."""
    by_key = {}
    if results_path.is_file():
        for line in results_path.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                by_key[key(r)] = r
    return by_key


def table(results, setup=None) -> str:
    """Markdown: one row per (task, T), one column per cell; each entry is solved/runs, the
    median updates of the solved runs (or, when none solved, the best run's held-out loss as a
    share of the memoryless baseline's), and the median CPU seconds per run."""
    results = {k: r for k, r in results.items() if setup is None or k[4] == setup}
    cells = [c for c in VARIANTS if any(k[1] == c for k in results)]
    lines = ["| task | T | " + " | ".join(cells) + " |", "| --- | ---: | " + " | ".join("---" for _ in cells) + " |"]
    for task, length, row_setup, budget in _rows(results):
        entries = []
        for cell in cells:
            runs = _runs(results, task, cell, length, row_setup, budget)
            entries.append(entry(runs) if runs else "")
        lines.append(f"| {_row_name(results, task, length, row_setup, budget)} | {length} | " + " | ".join(entries) + " |")
    return "\n".join(lines)


def _rows(results):
    """(task, T, setup, budget) of every row, in the grid's order."""
    return sorted({(k[0], k[2], k[4], k[5]) for k in results},
                  key=lambda r: (list(GRID).index(r[0]) if r[0] in GRID else 9, r[2] != "default", r[2], r[1],
                                 r[3] or 0))


def _runs(results, task, cell, length, setup, budget):
    return [r for k, r in sorted(results.items(), key=lambda kv: str(kv[0]))
            if (k[0], k[1], k[2], k[4], k[5]) == (task, cell, length, setup, budget)]


def _row_name(results, task, length, setup, budget):
    """The task, its setup where not the default, and its budget where the same (task, T, setup)
    ran with more than one."""
    name = task if setup == "default" else f"{task} ({setup})"
    if len({k[5] for k in results if (k[0], k[2], k[4]) == (task, length, setup)}) > 1:
        name += f", {budget:,} updates"
    return name


def entry(runs) -> str:
    solved = [r for r in runs if r["solved"]]
    text = f"{len(solved)}/{len(runs)}"
    if solved:
        text += f", {statistics.median(r['updates'] for r in solved):,.0f} updates"
    else:   # how far the best run got: its held-out loss against the memoryless one
        best = [r["loss"] / r["loss_baseline"] for r in runs if r.get("loss") is not None]
        if best:
            text += f", loss {_percent(min(best))} of baseline"
    return text + f", {statistics.median(r['cpu_seconds'] for r in runs):.0f} s"


# What the papers report for the rows of the docs' table, and where; "" where we quote nothing.
PAPERS = {
    ("adding-1997", "default"): "LSTM (no forget gate): 74,000 sequences, then 1 of 2,560 test sequences wrong "
                                "(Hochreiter & Schmidhuber 1997, exp. 4, as quoted in `bptt.tasks`)",
    ("temporal-order", "default"): "LSTM (no forget gate): 31,390 sequences, then 1 of 2,560 test sequences wrong "
                                   "(the same paper, exp. 6a, as quoted in `bptt.tasks`)",
}


# The docs' table: the tasks at their papers' lags, each in its setup and budget, and its columns.
PAPER_ROWS = [("adding", 100, "default", 1500), ("adding", 200, "default", 1500),
              ("adding-1997", 100, "default", 3000), ("temporal-order", 100, "default", 3000),
              ("copy", 100, "arjovsky", 10000), ("copy", 200, "arjovsky", 10000)]
PAPER_CELLS = ["rnn", "irnn", "lstm", "lstm-chrono", "gru", "gru-chrono"]


def docs_table(results, link, rows=None, cells=None) -> str:
    """The docs' table: one row per (task, T, setup), one column per cell, each entry solved/runs,
    median updates (or the best loss against the baseline), median CPU seconds, and a link to each
    run's record (``link(record)`` gives its path); the papers' results in the last column."""
    cells = cells or [c for c in VARIANTS if any(k[1] == c for k in results)]
    rows = rows or _rows(results)
    head = "| task | T | setup, budget | " + " | ".join(cells) + " | the paper |"
    lines = [head, "| --- | ---: | --- | " + " | ".join("---" for _ in cells) + " | --- |"]
    for task, length, setup, budget in rows:
        entries = []
        for cell in cells:
            runs = _runs(results, task, cell, length, setup, budget)
            if not runs:
                entries.append("not run")
                continue
            # MyST's download role: the record is copied beside the page (a plain link to a file
            # outside docs/ would not resolve)
            seeds = " ".join(f"{{download}}`{r['seed']} <{link(r)}>`" for r in sorted(runs, key=lambda r: r["seed"]))
            entries.append(f"{entry(runs)} (seeds {seeds})")
        lines.append(f"| {task} | {length} | {setup}, {budget:,} | " + " | ".join(entries)
                     + f" | {PAPERS.get((task, setup), '')} |")
    return "\n".join(lines)


def _g(value) -> str:
    return "overflowed" if value is None else f"{value:.3g}"


def _percent(fraction) -> str:
    return f"{100 * fraction:.0f}%" if fraction < 10 else f"{fraction:.1e}x"


def picture(results, task, length, path, setup="default", cells=tuple(VARIANTS)):
    """The seed-0 models' lag profiles on one (task, T), one line per cell of ``cells``."""
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    from types import SimpleNamespace

    import numpy as np
    from bptt.diagnose.plots import plot_lags_beside
    profiles = {}
    for cell in cells:
        found = [r for k, r in results.items() if k[:5] == (task, cell, length, 0, setup)]
        r = max(found, key=lambda r: r.get("budget") or 0) if found else None    # the longest run's
        if r is not None and r.get("lag_ratio"):
            verdict = "solved" if r["solved"] else "not solved"
            # the run's LagProfile.ratio, as results.jsonl keeps it (null where undefined)
            ratio = np.array([np.nan if v is None else v for v in r["lag_ratio"]])
            profiles[f"{cell}: {verdict} ({r['metric_name']} {_g(r['metric'])}) after {r['updates']} updates"] = \
                SimpleNamespace(ratio=ratio, direction="forward")
    if not profiles:
        return None
    return plot_lags_beside(profiles, path,
                            title=f"How much of the error at the answer reaches h(t - lag)\n{task}, T = {length}: "
                                  f"the trained models (seed 0)")


def curves(records_dir: Path, task, setup, lengths, path, seed=0):
    """Held-out loss per target step against updates, one panel per T, one line per cell, with
    the memoryless baseline drawn: the records' curves (``records/<name>.json``)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [json.loads(p.read_text()) for p in sorted(Path(records_dir).glob("*.json"))]
    fig, axes = plt.subplots(1, len(lengths), figsize=(6.5 * len(lengths), 4.6), dpi=120, squeeze=False,
                             constrained_layout=True)
    drawn = False
    for ax, length in zip(axes[0], lengths):
        mine = [r for r in records if r.get("grid_cell", {}).get("task") == task and r["length"] == length
                and r.get("setup") == setup and r["seed"] == seed and r.get("curve")]
        for variant in VARIANTS:
            for r in (r for r in mine if r["variant"] == variant):
                steps, losses = [c[0] for c in r["curve"]], [c[1] for c in r["curve"]]
                sweep = "-fb" in variant                 # the forget-bias sweep: thin
                ax.plot(steps, losses, lw=0.8 if sweep else 1.6, alpha=0.6 if sweep else 1.0,
                        label=f"{variant} ({'solved' if r['solved'] else 'not solved'})")
                drawn = True
        if mine:
            base = mine[0]["loss_baseline"]
            ax.axhline(base, color="black", ls="--", lw=1.2, label=f"memoryless baseline {base:.4f}")
            ax.set_ylim(0, 2.5 * base)          # the first scores and the odd spike run off the top
            ax.legend(fontsize=8)
        ax.set_title(f"{task}, T = {length} ({setup} setup, seed {seed})")
        ax.set_xlabel("update")
        ax.set_ylabel("held-out cross-entropy per step (nats)")
        ax.grid(alpha=0.3)
    fig.savefig(path)
    plt.close(fig)
    return Path(path) if drawn else None


# ---------------------------------------------------------------------------------- the CLI
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tasks", nargs="+", choices=tuple(GRID), default=["adding", "copy"])
    p.add_argument("--cells", nargs="+", choices=tuple(VARIANTS), default=list(CELLS),
                   help="cells and their initialisation: " + ", ".join(VARIANTS))
    p.add_argument("--lengths", nargs="+", type=int, default=None, help="default: the task's grid")
    p.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    p.add_argument("--steps", type=int, default=None, help="override the budget of every run")
    p.add_argument("--setup", choices=tuple(SETUPS), default="default", help="settings shared by every cell")
    p.add_argument("--eval-every", type=int, default=EVAL_EVERY, help="updates between held-out scores")
    p.add_argument("--jobs", type=int, default=2, help="grid cells running at a time")
    p.add_argument("--engine", choices=("serial", "joblib", "submitit"), default=None,
                   help="default: joblib with --jobs > 1, else serial")
    p.add_argument("--cluster", choices=("slurm", "local", "debug"), default=None,
                   help="submitit's executor (default: Slurm where it is, else local)")
    p.add_argument("--partition", default=None, help="the Slurm partition")
    p.add_argument("--timeout-min", type=int, default=240, help="a Slurm task's time limit")
    p.add_argument("--results", type=Path, default=OUT / "results.jsonl")
    p.add_argument("--runs", type=Path, default=ROOT / "runs" / "long_lag")
    p.add_argument("--report", action="store_true", help="only write the table and pictures")
    p.add_argument("--picture", nargs=2, metavar=("TASK", "T"), default=("adding", "100"))
    p.add_argument("--docs-table", type=Path, default=None, metavar="FILE.md",
                   help="also write the docs' table (links to each run's record) to FILE.md")
    p.add_argument("--pictures", action="store_true", help="a lag-profile picture for every row of the docs' table")
    p.add_argument("--curves", nargs="+", metavar="ARG", default=None,
                   help="TASK SETUP T [T ...]: the held-out curves of those runs (seed 0) in one picture")
    args = p.parse_args(argv)
    copies = args.results.parent / "records"
    if not args.report:
        cells = [cell_settings(task, cell, length, seed, args.steps or BUDGET[task], args.setup, args.eval_every)
                 for task in args.tasks for length in (args.lengths or GRID[task])
                 for cell in args.cells for seed in args.seeds]
        # long runs first, so that the last to finish are short
        cells.sort(key=lambda s: -(s["length"] * s["steps"] * (2 if VARIANTS[s["variant"]][0] in ("lstm", "gru") else 1)))
        engine = args.engine or ("joblib" if args.jobs > 1 else "serial")
        records = run_grid(cells, args.runs, engine=engine, jobs=args.jobs, cluster=args.cluster,
                           timeout_min=args.timeout_min, partition=args.partition,
                           report=lambda line: print(line, flush=True))
        merge(args.results, records, copies)
    results = latest(args.results)
    text = table(results)
    (args.results.parent / "table.md").write_text(text + "\n")
    print(text)
    png = picture(results, args.picture[0], int(args.picture[1]), args.results.parent / "lag_profiles.png",
                  cells=args.cells)
    if png:
        print(f"picture: {png}")
    if args.docs_table:
        def link(r):   # a run's record, relative to the page; the runs before records: results.jsonl
            target = copies / f"{cell_name(r['grid_cell'])}.json" if "grid_cell" in r else args.results
            return os.path.relpath(target.resolve(), args.docs_table.resolve().parent)
        args.docs_table.write_text(docs_table(results, link, PAPER_ROWS, PAPER_CELLS) + "\n")
        print(f"docs table: {args.docs_table}")
    if args.pictures:
        for task, length, setup, _ in PAPER_ROWS:
            name = f"lag_profiles-{task}-T{length}" + ("" if setup == "default" else f"-{setup}") + ".png"
            png = picture(results, task, length, args.results.parent / name, setup=setup)
            if png:
                print(f"picture: {png}")
    if args.curves:
        task, setup, *lengths = args.curves
        png = curves(copies, task, setup, [int(t) for t in lengths],
                     args.results.parent / f"curves-{task}-{setup}.png")
        print(f"curves: {png}")


if __name__ == "__main__":
    main()
