"""What a run will hold in memory, estimated before anything is allocated, against what the
machine has free: a run that cannot fit is refused in one line naming its flags, before its
run folder is made, instead of failing with a traceback minutes (or an allocation) later.

The estimate counts the arrays whose size grows with the flags: every step's values that one
forward and backward pass keeps (T, B, ...), the parameters with their gradients and optimiser
state, the held-out set, the scoring passes and the lag profile. tests/train/test_memory.py checks it
against the peak that tracemalloc measures for real passes.

Shape legend: T time, B batch, I inputs, H hidden, G gate blocks of the cell, O outputs.
"""

from __future__ import annotations

import inspect
import os

import numpy as np

from ..nn.cells import CELLS

ID_BYTES = 8                   # token and class ids are intp
TASK_FLOAT_BYTES = 8           # the task generators make float64 arrays
OPTIMIZER_SLOTS = {"sgd": 1, "adagrad": 1, "rmsprop": 1, "adam": 2}   # arrays per parameter (sgd: momentum)


# The longest sequence a task makes for its --length T (temporal order and the 1997 adding
# problem draw their lengths from [T, T + T/10]; copy adds 10 symbols and 10 recall steps).
LONGEST = {"adding": lambda T: T, "adding-1997": lambda T: T + T // 10, "temporal-order": lambda T: T + T // 10,
           "copy": lambda T: T + 20}


def available_bytes() -> int | None:
    """Memory a new allocation can have: MemAvailable of /proc/meminfo (free memory and what
    the kernel can reclaim), else the free physical pages; None where neither is known."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def pass_bytes(cell: str, *, layers: int, T: int, B: int, I: int, H: int, O: int, itemsize: int,
               tokens: bool, softmax: bool, backward: bool = True) -> int:
    """Bytes of the arrays one forward (and backward) pass over T steps of B sequences keeps."""
    c = CELLS[cell]
    G, n_states, kept = c.gates, len(c.states), sum(w for _, w in c.keeps)
    TB = T * B
    total = TB * (ID_BYTES if tokens else I * itemsize)                      # x, validated
    per_layer = TB * G * H + n_states * (T + 1) * B * H + kept * TB * H     # xu, states, keeps
    total += layers * per_layer * itemsize
    total += (2 if softmax else 1) * TB * O * itemsize                       # o, yhat
    if backward:
        total += TB * (ID_BYTES if softmax else O * itemsize) * 2           # y, and y where masked
        total += (TB * O + 2 * TB * H) * itemsize                            # dL/do, dh from the readout and down
        bwd = n_states * TB * H + len(c.errors) * TB * G * H                 # dstates, errors
        total += layers * bwd * itemsize
    return total


def scoring_bytes(*, T, B, chunk, O, itemsize, **sizes) -> int:
    """Forward passes and their loss over B sequences (or steps), ``chunk`` at a time: the next
    chunk's trace is made while the last one is still held, so two are alive at the peak."""
    first, second = min(B, chunk), min(chunk, max(B - chunk, 0))
    return sum(pass_bytes(T=T, B=n, O=O, itemsize=itemsize, backward=False, **sizes) + T * n * O * itemsize
               for n in (first, second) if n)


def param_count(cell: str, *, layers: int, I: int, H: int, O: int) -> int:
    G = CELLS[cell].gates
    return sum(G * H * ((I if layer == 0 else H) + H + 2) for layer in range(layers)) + O * (H + 1)


def parameters_bytes(cell, optimizer, *, layers, I, H, O, itemsize) -> int:
    """Parameters, gradients, optimiser state, each layer's W^T, and a checkpoint's copy."""
    n = param_count(cell, layers=layers, I=I, H=H, O=O)
    return (4 + OPTIMIZER_SLOTS.get(optimizer, 2)) * n * itemsize


def lag_profile_bytes(cell, *, T, B, H) -> int:
    """``diagnose.lag_profile`` on B sequences, in float64: the (T, T, B) norms and their masked
    copy, their (T, T) mean, and the (T, B, ...) chains."""
    c = CELLS[cell]
    return 8 * (T * T * (2 * B + 1) + T * B * H * (2 * len(c.states) + 2 + 2 * c.gates))


def task_run_bytes(config) -> dict:
    """{what: bytes} of a ``bptt task`` run (a TaskConfig); the run needs about their sum."""
    from ..data import tasks
    from .task import EVAL_CHUNK, PROFILE_SEQUENCES
    task = tasks.get(config.task)
    probe = task.generate(task.min_length, 1, np.random.default_rng(0))
    tokens, softmax = probe.x.dtype.kind in "iu", task.output == "softmax"
    T = LONGEST.get(config.task, LONGEST["temporal-order"])(config.length)
    I, H, O, L = task.n_in, config.hidden, task.n_out, config.layers
    itemsize = 4 if config.dtype == "float32" else 8
    sizes = dict(cell=_cell(config.cell), layers=L, I=I, H=H, O=O, itemsize=itemsize, tokens=tokens,
                 softmax=softmax)

    def sequences(n):     # a batch as the generator makes it (x, y, mask), with its temporaries
        return T * n * TASK_FLOAT_BYTES * ((1 if tokens else I) + (1 if softmax else O) + 1 + 2)

    E, B = config.eval_size, config.batch_size
    return {
        "the held-out set": sequences(E),
        "one update": sequences(B) + pass_bytes(T=T, B=B, **sizes),
        "the held-out scoring": scoring_bytes(T=T, B=E, chunk=EVAL_CHUNK, **sizes) + 2 * T * E * O * itemsize,
        "the lag profile": lag_profile_bytes(_cell(config.cell), T=T, B=min(E, PROFILE_SEQUENCES), H=H)
                           + pass_bytes(T=T, B=min(E, PROFILE_SEQUENCES), **{**sizes, "itemsize": 8}),
        "the parameters": parameters_bytes(_cell(config.cell), config.optimizer, layers=L, I=I, H=H, O=O,
                                           itemsize=itemsize),
    }


def text_run_bytes(config, vocab_size: int) -> dict:
    """{what: bytes} of a ``bptt train`` run (a TrainConfig) on a vocabulary of ``vocab_size``."""
    from .text import evaluate
    chunk = inspect.signature(evaluate).parameters["chunk"].default   # the validation's steps per pass
    V, H, L, B = vocab_size, config.hidden, config.layers, config.batch_size
    T = max(config.seq_length, config.k2)
    itemsize = 4 if config.dtype == "float32" else 8
    sizes = dict(cell=config.cell, layers=L, I=V, H=H, O=V, itemsize=itemsize, tokens=True, softmax=True)
    parts = {
        "one update": pass_bytes(T=T, B=B, **sizes) + 2 * T * B * ID_BYTES,   # and the window's ids
        "the validation": 2 * scoring_bytes(T=chunk, B=B, chunk=B, **sizes),   # chunks of steps, two alive
        "the parameters": parameters_bytes(config.cell, config.optimizer, layers=L, I=V, H=H, O=V,
                                           itemsize=itemsize),
    }
    if config.diagnose_every:
        parts["the diagnostics"] = (lag_profile_bytes(config.cell, T=config.seq_length, B=min(B, 4), H=H)
                                    + pass_bytes(T=config.seq_length, B=min(B, 4), **{**sizes, "itemsize": 8}))
    return parts


def check_task_run(config, available: int | None = None) -> int:
    """Refuse a ``bptt task`` run (a TaskConfig) that cannot fit; returns its estimate in bytes."""
    from .task import DEFAULT_LENGTH, TaskConfig
    d = TaskConfig()
    flags = {"--length": (config.length, DEFAULT_LENGTH.get(config.task, d.length)),
             "--batch-size": (config.batch_size, d.batch_size), "--eval-size": (config.eval_size, d.eval_size),
             "--hidden": (config.hidden, d.hidden), "--layers": (config.layers, d.layers)}
    return refuse_unless_it_fits(task_run_bytes(config), flags, available)


def check_text_run(config, vocab_size: int, available: int | None = None) -> int:
    """Refuse a ``bptt train`` run (a TrainConfig) that cannot fit; returns its estimate in bytes.
    Before the text is read its vocabulary is unknown: 1 gives the least any text needs."""
    from .text import TrainConfig
    d = TrainConfig()
    flags = {"--hidden": (config.hidden, d.hidden), "--batch-size": (config.batch_size, d.batch_size),
             "--seq-length": (config.seq_length, d.seq_length), "--layers": (config.layers, d.layers)}
    if config.bptt_depth is not None:
        flags["--bptt-depth"] = (config.bptt_depth, d.seq_length)
    context = f", a vocabulary of {vocab_size} characters" if vocab_size > 1 else ""
    return refuse_unless_it_fits(text_run_bytes(config, vocab_size), flags, available, context)


def refuse_unless_it_fits(parts: dict, flags: dict, available: int | None = None, context: str = "") -> int:
    """Raise ValueError naming the flags if the parts' sum exceeds the available memory.

    flags: {"--flag": (value, default)}, the settings the sizes grow with; the line leads with
    the one furthest above its default (the one most likely to have been mistyped or misjudged),
    or the first when none is above. context: more of what the sizes grow with, for the line.
    Returns the estimate in bytes.
    """
    need = sum(parts.values())
    have = available_bytes() if available is None else available
    if have is None or need <= have:
        return need
    above = {flag: value / default for flag, (value, default) in flags.items() if default and value > default}
    lead = max(above, key=above.get) if above else next(iter(flags))
    others = ", ".join(f"{flag} {value}" for flag, (value, _) in flags.items() if flag != lead)
    biggest = max(parts, key=parts.get)
    raise ValueError(f"{lead}: expected a run that fits in the {_size(have)} of memory available, got "
                     f"{lead} {flags[lead][0]} (with {others}{context}), which needs about {_size(need)} "
                     f"({biggest} {_size(parts[biggest])}); lower {lead} or another of these flags")


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"


def _cell(name: str) -> str:
    """The network cell of a task's cell name (the IRNN is the rnn cell)."""
    return "rnn" if name == "irnn" else name

