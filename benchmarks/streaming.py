"""Peak memory of `bptt train` on a large text file: it must not grow with the file.

    python benchmarks/streaming.py                 # 1 MB and 100 MB, 20 updates each
    python benchmarks/streaming.py --mb 100 --steps 50

Writes each text (the embedded corpus repeated) to a temporary folder, runs a short training on
it in a child process and reads that child's peak resident set size (ru_maxrss).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def write_text(path: Path, mb: float) -> int:
    sys.path.insert(0, str(SRC))
    from bptt.data import default_corpus
    block = default_corpus().encode("utf-8")
    size = int(mb * 1_000_000)
    with open(path, "wb") as f:
        written = 0
        while written < size:
            part = block[: size - written]
            f.write(part)
            written += len(part)
    return written


# Linux carries a process's peak RSS across fork and exec, so a child forked from a big process
# (pytest with torch loaded) would report the parent's size. A fresh, small interpreter forks
# the measured command instead and reports that command's own peak.
MEASURE = r"""
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
print(json.dumps({"code": proc.returncode, "seconds": time.perf_counter() - t0,
                  "peak_rss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
                  "stdout": proc.stdout, "stderr": proc.stderr}))
"""


def peak_rss(cmd, env=None) -> dict:
    """Run cmd; {"peak_rss": bytes, "seconds", "code", "stdout", "stderr"} (ru_maxrss is in kB on Linux)."""
    import json
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout)


def train_command(text: Path, out: Path, steps: int) -> list:
    return [sys.executable, "-m", "bptt", "train", str(text), "--steps", str(steps), "--quiet",
            "--val-fraction", "0.001", "--eval-every", "1000000", "--sample-every", "0", "--out", str(out)]


def with_src(src: Path = SRC) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(src)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def peak_rss_of_training(text: Path, steps: int, src: Path = SRC) -> tuple[int, float]:
    """(peak RSS in bytes, seconds) of one `bptt train` process."""
    with tempfile.TemporaryDirectory() as tmp:
        r = peak_rss(train_command(text, Path(tmp) / "run", steps), with_src(src))
    if r["code"] != 0:
        sys.exit(f"bptt train exited {r['code']}: {r['stderr']}")
    return r["peak_rss"], r["seconds"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[1, 100], help="text sizes in MB")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--src", type=Path, default=SRC, help="the bptt sources to measure (to compare versions)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'text':>10} {'peak RSS':>10} {'seconds':>8}   (bptt train, {args.steps} updates, default model)")
        for mb in args.mb:
            path = Path(tmp) / f"text-{mb:g}MB.txt"
            n = write_text(path, mb)
            rss, seconds = peak_rss_of_training(path, args.steps, args.src)
            print(f"{n / 1e6:>8.1f}MB {rss / 2**20:>8.0f}MiB {seconds:>8.1f}", flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
