"""Checks at the public edge. Each error is one line: the argument, what was expected, what was given."""

from __future__ import annotations

import numbers

import numpy as np


def describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    return f"{value!r} ({type(value).__name__})"


def positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {describe(value)}")
    return int(value)


def choice(name: str, value, options) -> str:
    # Only strings are compared: an array's "in" would be elementwise, an object's could be anything.
    if not isinstance(value, str) or value not in options:
        got = repr(value) if isinstance(value, str) else describe(value)
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, options))}, got {got}")
    return value


def float_dtype(name: str, value) -> np.dtype:
    try:
        dt = np.dtype(value)
    except TypeError:
        dt = None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"{name}: expected float32 or float64, got {value!r}")
    return dt


def finite(name: str, arr: np.ndarray) -> None:
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name}: expected finite values, got {arr[tuple(bad)]} at index {tuple(int(i) for i in bad)}")


def token_ids(name: str, x: np.ndarray, n_tokens: int, what: str = "token ids", where: str = "") -> np.ndarray:
    lo, hi = (int(x.min()), int(x.max())) if x.size else (0, 0)
    if lo < 0 or hi >= n_tokens:
        bad = lo if lo < 0 else hi
        raise ValueError(f"{name}: expected {what} in [0, {n_tokens - 1}]{where}, got {bad}")
    return x.astype(np.intp, copy=False)


def inputs(x, n_in: int, dtype: np.dtype) -> np.ndarray:
    """x: token ids, int (T, B), or real vectors, float (T, B, I)."""
    x = np.asarray(x)
    expected = f"token ids as an int array (T, B) or real vectors as a float array (T, B, {n_in})"
    if x.dtype.kind in "iu" and x.ndim == 2:
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(f"x: expected {expected} with T, B >= 1, got {describe(x)}")
        return token_ids("x", x, n_in)
    if x.dtype.kind == "f" and x.ndim == 3 and x.shape[2] == n_in:
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(f"x: expected {expected} with T, B >= 1, got {describe(x)}")
        finite("x", x)
        return x.astype(dtype, copy=False)
    raise ValueError(f"x: expected {expected}, got {describe(x)}")


def state(name: str, h0, B: int, H: int, dtype: np.dtype) -> np.ndarray:
    if h0 is None:
        return np.zeros((B, H), dtype=dtype)
    h0 = np.asarray(h0)
    if h0.dtype.kind != "f" or h0.shape != (B, H):
        raise ValueError(f"{name}: expected a float array of shape (B, H) = ({B}, {H}), got {describe(h0)}")
    finite(name, h0)
    return h0.astype(dtype, copy=False)


def targets(y, output: str, T: int, B: int, O: int, dtype: np.dtype, mask=None) -> np.ndarray:
    """y: class ids int (T, B) for the softmax output, real vectors float (T, B, O) for the identity.

    mask: the validated mask (``mask`` below) or None. Where it is 0 a step carries no loss, so
    its target is not read: any value is accepted there (-1, the usual padding of many-to-one
    targets, or NaN), and the losses give what they give with any valid target there.
    """
    y = np.asarray(y)
    read = None if mask is None else mask != 0                   # (T, B): the steps whose targets count
    if output == "softmax":
        if y.dtype.kind not in "iu" or y.shape != (T, B):
            raise ValueError(f"y: expected class ids as an int array of shape (T, B) = ({T}, {B}) "
                             f"for the softmax output, got {describe(y)}")
        if read is None or read.all():
            return token_ids("y", y, O, "class ids")
        token_ids("y", y[read], O, "class ids", " where the mask is not 0")
        return y.astype(np.intp, copy=False)
    if y.dtype.kind != "f" or y.shape != (T, B, O):
        raise ValueError(f"y: expected a float array of shape (T, B, O) = ({T}, {B}, {O}) "
                         f"for the identity output, got {describe(y)}")
    if read is None or read.all():
        finite("y", y)
    else:
        bad = ~np.isfinite(y) & read[..., None]
        if bad.any():
            at = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"y: expected finite values where the mask is not 0, got {y[at]} at index {at}")
    return y.astype(dtype, copy=False)


def mask(m, T: int, B: int, dtype: np.dtype):
    if m is None:
        return None
    m = np.asarray(m)
    if m.shape != (T, B) or m.dtype.kind not in "biuf":
        raise ValueError(f"mask: expected an array of shape (T, B) = ({T}, {B}) of 0/1 or weights, got {describe(m)}")
    finite("mask", m)
    return m.astype(dtype)


def boolean(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: expected True or False, got {describe(value)}")
    return bool(value)


def lengths(value, T: int, B: int):
    """Each sequence's own length, int (B,) in [1, T]; None: every sequence T steps."""
    if value is None:
        return None
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu" or arr.shape != (B,):
        raise ValueError(f"lengths: expected integers as an int array of shape (B,) = ({B},), got {describe(arr)}")
    if arr.size and (arr.min() < 1 or arr.max() > T):
        bad = arr.min() if arr.min() < 1 else arr.max()
        raise ValueError(f"lengths: expected each in [1, T] = [1, {T}], got {int(bad)}")
    return arr.astype(np.intp, copy=False)


def nonnegative_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name}: expected a whole number >= 0, got {describe(value)}")
    return int(value)


def number_in(name: str, value, lo=None, hi=None, *, lo_open=True, hi_open=True, note: str = "") -> float:
    """A finite real number within the given bounds (open unless said otherwise); ``note`` says
    what a bound means ("0 turns clipping off")."""
    if lo is not None and hi is not None:
        want = f"a finite number in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    elif lo is not None:
        want = f"a finite number {'>' if lo_open else '>='} {lo:g}"
    elif hi is not None:
        want = f"a finite number {'<' if hi_open else '<='} {hi:g}"
    else:
        want = "a finite number"
    if note:
        want += f" ({note})"
    ok = (not isinstance(value, bool) and isinstance(value, numbers.Real) and np.isfinite(float(value))
          and (lo is None or (value > lo if lo_open else value >= lo))
          and (hi is None or (value < hi if hi_open else value <= hi)))
    if not ok:
        raise ValueError(f"{name}: expected {want}, got {describe(value)}")
    return float(value)


def dropout_masks(masks, layers: int, shape: tuple, dtype: np.dtype) -> tuple:
    """One finite float mask of ``shape`` (T, B, H) per layer, cast to ``dtype``."""
    if not isinstance(masks, (list, tuple)) or len(masks) != layers:
        raise ValueError(f"dropout: expected {layers} masks of shape {shape}, one per layer, got {describe(masks)}")
    out = []
    for layer, m in enumerate(masks):
        m = np.asarray(m)
        if m.dtype.kind != "f" or m.shape != tuple(shape):
            raise ValueError(f"dropout[{layer}]: expected a float array of shape {tuple(shape)}, got {describe(m)}")
        finite(f"dropout[{layer}]", m)
        out.append(m.astype(dtype, copy=False))
    return tuple(out)


def params(given, shapes, dtype) -> dict:
    """``given`` {name: array} checked against ``shapes`` {name: shape} (names, shapes, float,
    finite) and copied to ``dtype``, in the order of ``shapes``."""
    if set(given) != set(shapes):
        raise ValueError(f"params: expected the keys {', '.join(shapes)}, got {', '.join(sorted(given))}")
    out = {}
    for name, shape in shapes.items():
        arr = np.asarray(given[name])
        if arr.shape != shape or arr.dtype.kind != "f":
            raise ValueError(f"params[{name!r}]: expected a float array of shape {shape}, got {describe(arr)}")
        finite(f"params[{name!r}]", arr)
        out[name] = arr.astype(dtype, copy=True)
    return out
