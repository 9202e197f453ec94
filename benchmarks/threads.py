"""BLAS threads on a busy machine: `bptt train` timed with the thread policy of bptt/_threads.py
and with the code before it, beside nothing and beside busy processes.

    python benchmarks/threads.py                          # rnn and lstm, 0 and 3 busy processes
    python benchmarks/threads.py --cells lstm --busy 0 1 3 --repeats 5 --json out.jsonl

Each run is `python -m bptt train --cell C --steps 60 --quiet --out TMP` in a fresh process,
under one of these settings:

    before, default        the code before the policy (`git archive` of --before), OpenBLAS's own threads
    before, OPENBLAS=1     the same with OPENBLAS_NUM_THREADS=1, the workaround the issue measured
    now, default           this tree, no flag and no variable: the policy
    now, --threads 1       this tree, one thread for every product
    now, --threads N       this tree, at most N = the cores for the big products

beside K busy processes (NumPy matrix products on one thread each, started here, stopped at
the end and in any case after --max-seconds). The settings run interleaved, --repeats rounds,
except that a setting more than 3x slower than the fastest in the first round runs only that
once (it is no candidate for the best, and beside busy processes it takes minutes), and a run
past --run-timeout is stopped and shown as "> N". The table shows each setting's median wall
time, its median CPU time (the child's user + system) and how many cores the other processes
(the busy ones included) used meanwhile, from /proc/stat's busy time less the child's own. The last lines check the two claims: beside busy
processes the default is within 1.5x of the best setting, and beside nothing it is no slower
than before (the machine is shared, so "beside nothing" means beside what others run; the
column "others" says how much that was).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUSY = ("import time, numpy as np\n"
        "a = np.random.default_rng(0).random((400, 400))\n"
        "end = time.monotonic() + {seconds}\n"
        "while time.monotonic() < end:\n"
        "    a @ a\n")


def stat():
    """(busy, total) jiffies of every CPU, from /proc/stat's first line."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:9]]
    return sum(fields) - fields[3] - fields[4], sum(fields)


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def before_tree(rev: str, into: Path) -> Path:
    """src/ of the commit ``rev`` (default: the parent of the commit that added bptt/_threads.py)."""
    if rev == "auto":
        added = subprocess.run(["git", "log", "--diff-filter=A", "--format=%H", "--", "src/bptt/_threads.py"],
                               cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
        if not added:
            sys.exit("benchmarks/threads.py: src/bptt/_threads.py is not committed yet; give --before REV")
        rev = f"{added[-1]}^"
    archive = subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def settings(before_src: Path, cores: int) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                                "MKL_NUM_THREADS")}
    now_src = ROOT / "src"
    return {
        "before, default": (before_src, clean, []),
        "before, OPENBLAS=1": (before_src, {**clean, "OPENBLAS_NUM_THREADS": "1"}, []),
        "now, default": (now_src, clean, []),
        "now, --threads 1": (now_src, clean, ["--threads", "1"]),
        f"now, --threads {cores}": (now_src, clean, ["--threads", str(cores)]),
    }


def run_once(src: Path, env: dict, flags: list, cell: str, steps: int, timeout: float) -> dict:
    out = Path(tempfile.mkdtemp(prefix="bptt-threads-"))
    env = {**env, "PYTHONPATH": str(src)}
    argv = [sys.executable, "-m", "bptt", "train", "--cell", cell, "--steps", str(steps), "--quiet",
            "--out", str(out / "run"), *flags]
    cpu0, (busy0, total0), t0 = child_cpu(), stat(), time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        stderr = None
    wall, cpu, (busy1, total1) = time.perf_counter() - t0, child_cpu() - cpu0, stat()
    shutil.rmtree(out, ignore_errors=True)
    if stderr is not None and proc.returncode != 0:
        sys.exit(f"{' '.join(argv)}: exit {proc.returncode}\n{stderr[-2000:]}")
    n = os.cpu_count() or 1
    busy_cores = (busy1 - busy0) / max(total1 - total0, 1) * n
    return {"wall_s": wall, "cpu_s": cpu, "others_cores": max(0.0, busy_cores - cpu / wall),
            "timed_out": stderr is None}


def start_busy(k: int, seconds: float) -> list:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return [subprocess.Popen([sys.executable, "-c", BUSY.format(seconds=seconds)], env=env) for _ in range(k)]


def stop_busy(procs: list) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cells", nargs="+", default=["rnn", "lstm"])
    ap.add_argument("--busy", nargs="+", type=int, default=[0, 3], help="busy processes beside the runs")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--before", default="auto", help="the commit to compare with (default: the one before "
                                                     "bptt/_threads.py was added)")
    ap.add_argument("--max-seconds", type=float, default=1800, help="the busy processes stop by then at the latest")
    ap.add_argument("--run-timeout", type=float, default=240, help="a run still going by then is stopped")
    ap.add_argument("--json", type=Path, default=None, help="also write every run as a line of JSON here")
    args = ap.parse_args()

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    scratch = Path(tempfile.mkdtemp(prefix="bptt-before-"))
    rows = []
    try:
        table = settings(before_tree(args.before, scratch), cores)
        print(f"{cores} cores; load average before starting {os.getloadavg()[0]:.2f}; "
              f"bptt train --steps {args.steps}; {args.repeats} interleaved rounds; medians", flush=True)
        for k in args.busy:
            procs = start_busy(k, args.max_seconds)
            try:
                time.sleep(1.0 if k else 0.0)
                for r in range(args.repeats):
                    for cell in args.cells:
                        first = {row["setting"]: row["wall_s"] for row in rows
                                 if (row["busy"], row["cell"], row["round"]) == (k, cell, 0)}
                        for name, (src, env, flags) in table.items():
                            if r and first[name] > 3 * min(first.values()):
                                continue
                            row = {"busy": k, "cell": cell, "setting": name, "round": r,
                                   **run_once(src, env, flags, cell, args.steps, args.run_timeout)}
                            rows.append(row)
                            print(f"  busy {k} {cell:5s} {name:20s} {_s(row)} wall "
                                  f"{row['cpu_s']:6.2f} s cpu  others {row['others_cores']:.2f} cores", flush=True)
            finally:
                stop_busy(procs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        args.json.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return report(rows, list(table), args)


def _s(row) -> str:
    return f"> {row['wall_s']:.0f} s" if row.get("timed_out") else f"{row['wall_s']:6.2f} s"


def report(rows, names, args) -> int:
    med = {}
    for k in args.busy:
        for cell in args.cells:
            for name in names:
                sel = [r for r in rows if (r["busy"], r["cell"], r["setting"]) == (k, cell, name)]
                med[k, cell, name] = {key: statistics.median(r[key] for r in sel)
                                      for key in ("wall_s", "cpu_s", "others_cores")}
                med[k, cell, name].update(runs=len(sel), timed_out=any(r["timed_out"] for r in sel))
    print()
    print("| busy | cell | setting | runs | wall (s) | CPU (s) | others (cores) |")
    print("| ---: | --- | --- | ---: | ---: | ---: | ---: |")
    for (k, cell, name), m in med.items():
        wall = f"> {m['wall_s']:.0f}" if m["timed_out"] else f"{m['wall_s']:.2f}"
        print(f"| {k} | {cell} | {name} | {m['runs']} | {wall} | {m['cpu_s']:.2f} | {m['others_cores']:.2f} |")
    print()
    failed = 0
    for k in args.busy:
        for cell in args.cells:
            default = med[k, cell, "now, default"]["wall_s"]
            if k:
                best_name = min(names, key=lambda n: med[k, cell, n]["wall_s"])
                best = med[k, cell, best_name]["wall_s"]
                ok = default <= 1.5 * best
                print(f"{'ok' if ok else 'FAIL'}: {cell} beside {k} busy: the default {default:.2f} s is "
                      f"{default / best:.2f}x the best setting ({best_name}, {best:.2f} s); at most 1.5x")
            else:
                was = med[k, cell, "before, default"]["wall_s"]
                ok = default <= was * 1.05
                print(f"{'ok' if ok else 'FAIL'}: {cell} beside nothing (others used "
                      f"{med[k, cell, 'now, default']['others_cores']:.2f} cores): the default {default:.2f} s, "
                      f"before {was:.2f} s ({default / was:.2f}x); at most 1.05x (the noise of a shared machine)")
            failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
