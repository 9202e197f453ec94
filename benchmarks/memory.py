"""Peak memory of `bptt train` on a large text file: it must not grow with the file.

    python benchmarks/memory.py                 # 1 MB and 100 MB, 20 updates each
    python benchmarks/memory.py --mb 100 --steps 50

Writes each text (the embedded corpus repeated) to a temporary folder, runs a short training on
it in a child process and reads that child's peak resident set size from ``os.wait4``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
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


def peak_rss_of_training(text: Path, steps: int, src: Path = SRC, extra=()) -> tuple[int, float, int]:
    """(peak RSS in bytes, seconds, exit code) of one `bptt train` child."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(src)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "bptt", "train", str(text), "--steps", str(steps), "--quiet",
               "--val-fraction", "0.001", "--eval-every", "1000000", "--sample-every", "0",
               "--out", str(Path(tmp) / "run"), *extra]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            sys.exit(f"{' '.join(cmd)} exited {code}: {proc.stderr.read().decode()}")
    return usage.ru_maxrss * 1024, seconds, code   # Linux reports kilobytes


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
            rss, seconds, _ = peak_rss_of_training(path, args.steps, args.src)
            print(f"{n / 1e6:>8.1f}MB {rss / 2**20:>8.0f}MiB {seconds:>8.1f}", flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
