"""Which kernels the gated cells' steps run: NumPy (the reference) or numba-compiled ones.

``pip install "bptt[fast]"`` installs numba; the LSTM's and GRU's steps then run their
elementwise gate work as compiled loops (``_fast_lstm.py``, ``_fast_gru.py``), one pass where
NumPy makes a dozen calls, while the matrix products and the transcendental functions (NumPy's
vectorised exp and tanh) stay NumPy's. The compiled loops do the same float operations in the
same order as the NumPy code they replace, so the two paths give the same bits
(tests/nn/test_kernels.py checks it in float32 and float64).

The switch: ``BPTT_KERNELS=numpy`` in the environment (read at import), or ``use("numpy")``,
turns them off; ``use("numba")`` turns them on (an error if numba is absent); the default,
"auto", uses numba where it is installed. ``active()`` says which path runs.
"""

from __future__ import annotations

import importlib.util
import os
import sys

CHOICES = ("auto", "numba", "numpy")
_HAVE_NUMBA = importlib.util.find_spec("numba") is not None
_choice, _on = None, None          # read from BPTT_KERNELS on first use, so that a bad value is an
                                   # error where the CLI reports it (one line), not at import


def _from_environment() -> bool:
    global _choice, _on
    value = os.environ.get("BPTT_KERNELS", "auto").strip().lower() or "auto"
    if value not in CHOICES:
        raise ValueError(f"BPTT_KERNELS: expected one of {', '.join(CHOICES)}, got {value!r}")
    if value == "numba" and not _HAVE_NUMBA:
        raise ValueError('BPTT_KERNELS: "numba" needs numba installed (pip install "bptt[fast]")')
    _choice, _on = value, _HAVE_NUMBA and value != "numpy"
    return _on


def available() -> bool:
    """Whether numba is installed (the ``fast`` extra)."""
    return _HAVE_NUMBA


def use(name: str) -> str:
    """Choose the kernels: "numba", "numpy" or "auto" (numba if installed). Returns the previous choice."""
    global _on, _choice
    if name not in CHOICES:
        raise ValueError(f"kernels: expected one of {', '.join(CHOICES)}, got {name!r}")
    if name == "numba" and not _HAVE_NUMBA:
        raise ValueError('kernels: "numba" needs numba installed (pip install "bptt[fast]")')
    if _on is None:
        _from_environment()
    previous, _choice = _choice, name
    _on = _HAVE_NUMBA and name != "numpy"
    return previous


def active() -> str:
    """"numba" or "numpy": the path the gated cells' steps take now."""
    on = _from_environment() if _on is None else _on
    return "numba" if on else "numpy"


def fast(narrow, wide=(), ndim=2) -> bool:
    """Whether a step on these arrays takes the compiled path: on, every array of ``narrow``
    the same shape ((B, H) for a step, (T, B, H) for ``backward_locals``: ``ndim``), every array
    of ``wide`` (B, G*H) or (T, B, G*H) beside them, one float dtype throughout. Anything else
    (the diagnostics push extra leading axes through a step) stays on NumPy's path."""
    if not (_from_environment() if _on is None else _on):
        return False
    first = narrow[0]
    shape, dtype = first.shape, first.dtype
    if len(shape) != ndim or dtype.kind != "f" or dtype.itemsize < 4:
        return False
    for a in narrow:
        if a.shape != shape or a.dtype != dtype:
            return False
    for a in wide:
        if a.shape[:-1] != shape[:-1] or a.ndim != ndim or a.dtype != dtype:
            return False
    return True


# error_model="numpy": a float division is IEEE's (inf, nan), as NumPy's, not Python's check for
# zero, whose branch keeps LLVM from vectorising the loop (4x slower). No fastmath: the compiled
# loops must round as NumPy does, so no reassociation and no fused multiply-adds.
OPTIONS = dict(nogil=True, error_model="numpy")


def jit(fn):
    """numba.njit(fn), compiled on its first call for the dtypes it is called with. Cached on
    disk where the package's folder is writable (numba finds another cache folder or none).
    The loops are written over 1-D rows (``x[b]``): LLVM vectorises those, not x[b, k]."""
    compiled = None

    def call(*args):
        nonlocal compiled
        if compiled is None:
            import numba
            try:
                compiled = numba.njit(cache=True, **OPTIONS)(fn)
            except RuntimeError:                   # no writable cache location: compile each process
                compiled = numba.njit(**OPTIONS)(fn)
            # from now on the module's name is the compiled function itself: a step calls it
            # without this wrapper's frame (0.3 us a call, a few per step)
            sys.modules[fn.__module__].__dict__[fn.__name__] = compiled
        return compiled(*args)
    call.__name__, call.__doc__, call.py_func = fn.__name__, fn.__doc__, fn
    return call
