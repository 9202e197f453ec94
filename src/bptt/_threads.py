"""How many threads BLAS may use for a matrix product, chosen by the product's size and by
whether a core is free for a second thread.

Why: the loop over time makes one small product per step ((B, H) @ (H, G*H): 2 million
multiply-adds at the defaults). OpenBLAS splits any product above about 262 thousand across
its whole thread team and waits for every thread at the end of it, so on a machine whose
cores other processes are using, each step waits for the scheduler to run a thread that lost
its core: a user measured 29.4 s for ``bptt train --cell lstm --steps 60`` beside three busy
processes, and 10.5 s with OPENBLAS_NUM_THREADS=1 (idle: 3.7 s and 4.0 s). So:

- the products of the loop over time (``unroll.py``) use one thread, unless each thread of
  the team would get at least ``STEP_WORK`` multiply-adds (``for_steps``);
- the products over all T*B rows at once (stages 1 and 3: the readout, dU, dW, dV) use as
  many threads as there are cores nobody else is using, at least one (``for_update``, around
  each training update); a product that big gains from a second core that is free, and loses
  far more (waits of a scheduler's time slice) from one that is not.

The most threads any product uses: ``threads`` given (the CLI's ``--threads N``), else
OPENBLAS_NUM_THREADS, OMP_NUM_THREADS or MKL_NUM_THREADS when set, else the cores this process
may run on. A number given (flag or variable) is taken as asked, not shrunk for busy cores.
threadpoolctl sets the libraries' thread counts; without it nothing is changed and BLAS keeps
its own threads. The count is per process: Python threads that each train a model share it.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

STEP_WORK = 25_000_000    # multiply-adds per thread before a per-step product gets a second thread (~1 ms of one core)
ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
SAMPLE_EVERY = 0.5        # seconds between two readings of the machine's idle time

# Caches of what the process and machine are, not settings: the BLAS libraries threadpoolctl
# found (looked up once: it scans the loaded libraries) and the last reading of /proc/stat.
_libs = None
_idle = {"at": -1e9, "reading": None, "free": None}


def _blas() -> list:
    global _libs
    if _libs is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:      # installed without its dependencies: BLAS keeps its own threads
            _libs = []
        else:
            _libs = ThreadpoolController().select(user_api="blas").lib_controllers
    return _libs


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def asked(threads: int | None = None, env=None) -> int | None:
    """The count the user asked for: ``threads``, else the first of ENV_VARS set to a positive
    integer in ``env`` (default: the environment)."""
    if threads is not None:
        return threads
    env = os.environ if env is None else env
    for name in ENV_VARS:
        value = env.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


def free_cores() -> float | None:
    """Cores that other processes left to this one over the last half second or so: all of the
    machine's, less what the others used (/proc/stat's busy time less this process's own CPU
    time, so that its own BLAS threads, spinning or working, do not count); None where that
    cannot be read, until two readings exist."""
    now = time.monotonic()
    if now - _idle["at"] < SAMPLE_EVERY:
        return _idle["free"]
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    reading = (now, time.process_time(), fields[3] + fields[4], sum(fields))   # idle includes iowait
    before, _idle["at"], _idle["reading"] = _idle["reading"], now, reading
    if before is not None and reading[3] > before[3]:
        _idle["free"] = free_between(before, reading, os.cpu_count() or 1)
    return _idle["free"]


def free_between(before, after, n: int) -> float:
    """Cores the other processes left free between two readings (wall s, this process's CPU s,
    idle jiffies, all jiffies) of a machine of n cores."""
    busy = (1 - (after[2] - before[2]) / (after[3] - before[3])) * n        # cores busy, every process
    ours = (after[1] - before[1]) / (after[0] - before[0])                  # cores this process used
    return max(0.0, n - max(0.0, busy - ours))


def update_threads(threads: int | None = None, env=None) -> int:
    """Threads for the products over all T*B rows: as asked, else the cores other processes
    leave free (rounded, at least 1, at most this process's cores)."""
    given = asked(threads, env)
    if given is not None:
        return given
    free = free_cores()
    if free is None:          # no reading yet: the load average of the last minute
        try:
            free = max(0.0, (os.cpu_count() or 1) - os.getloadavg()[0])
        except (AttributeError, OSError):
            free = 1.0
    return max(1, min(cores(), int(free + 0.5)))


def step_threads(B: int, H: int, GH: int, most: int) -> int:
    """Threads for one step's (B, H) @ (H, G*H): one, unless each of them gets STEP_WORK multiply-adds."""
    return max(1, min(most, (B * H * GH) // STEP_WORK))


@contextmanager
def limited(n: int):
    """BLAS uses at most n threads inside the block; the libraries' own counts come back after it."""
    libs = _blas()
    old = [lib.get_num_threads() for lib in libs]
    changed = [(lib, was) for lib, was in zip(libs, old) if was != n]
    for lib, _ in changed:
        lib.set_num_threads(n)
    try:
        yield
    finally:
        for lib, was in changed:
            lib.set_num_threads(was)


def current() -> int | None:
    """The most threads any BLAS library is set to now (None: none found)."""
    libs = _blas()
    return max(lib.get_num_threads() for lib in libs) if libs else None


@contextmanager
def for_update(threads: int | None = None):
    """Around one training update: the stage-1 and stage-3 products get ``update_threads``."""
    with limited(update_threads(threads)):
        yield


@contextmanager
def for_steps(B: int, H: int, GH: int):
    """Around the loop over time: one thread for its per-step products unless they are big
    (never more than the block around it allows)."""
    most = current()
    if most is None:
        yield
        return
    with limited(step_threads(B, H, GH, most)):
        yield
