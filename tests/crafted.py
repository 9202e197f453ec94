"""Hand-made checkpoints for the tests: a good one taken apart and reassembled with one flaw each.

Members are written with zipfile directly, so a name numpy would never write ("../x.npy") or a
pickled object array can be planted exactly as an attacker would.
"""

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np


def members(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def npy(arr) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=True)
    return buf.getvalue()


def array(data: bytes) -> np.ndarray:
    return np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)


def write(path: Path, parts: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def with_header(parts: dict, change) -> dict:
    header = json.loads(array(parts["meta.json.npy"]).tobytes())
    change(header)
    return {**parts, "meta.json.npy": npy(np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))}


class Planted:
    """Unpickling this opens (creates) ``marker``: proof that a pickle ran, if the file appears."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def pickled_object_array(marker) -> bytes:
    return npy(np.array([Planted(marker)], dtype=object))


def huge_header(shape=(10**12,), dtype="<f8", payload=b"\0" * 80) -> bytes:
    """An .npy whose header declares far more data than follows it."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue() + payload


def variants(good: Path, folder: Path) -> dict:
    """name -> path of a checkpoint.npz (each in its own run folder) with one flaw."""
    parts = members(good)
    model_dtype = array(parts["params/W.npy"]).dtype
    other = np.float64 if model_dtype == np.float32 else np.float32
    W = array(parts["params/W.npy"])
    b = array(parts["params/b.npy"])
    raw = good.read_bytes()
    made = {
        "truncated": raw[: len(raw) // 2],
        "not a zip": b"this is not a checkpoint\n",
        "missing array": {k: v for k, v in parts.items() if k != "params/W.npy"},
        "extra array": {**parts, "extra.npy": npy(np.zeros(2))},
        "wrong shape": {**parts, "params/W.npy": npy(np.zeros((2, 2), model_dtype))},
        "wrong dtype": {**parts, "params/W.npy": npy(W.astype(other))},
        "integer weights": {**parts, "params/W.npy": npy(W.astype(np.int32))},
        "future version": with_header(parts, lambda h: h.__setitem__("version", 99)),
        "nan weights": {**parts, "params/b.npy": npy(np.full_like(b, np.nan))},
        "inf state": {**parts, "state/opt/m/W.npy": npy(np.full_like(W, np.inf))},
        "object array": {**parts, "state/evil.npy": pickled_object_array(folder / "PWNED")},
        "pickled params": {**parts, "params/W.npy": pickled_object_array(folder / "PWNED")},
        "path traversal": {**parts, "../escaped.npy": npy(np.zeros(2))},
        "absolute path": {**parts, str(folder / "absolute.npy"): npy(np.zeros(2))},
        "traversal under state": {**parts, "state/../../escaped.npy": npy(np.zeros(2))},
        "huge declared shape": {**parts, "state/big.npy": huge_header()},
        "huge declared model": with_header(parts, lambda h: h["model"].update(n_hidden=10**9)),
        "meta not json": {**parts, "meta.json.npy": npy(np.frombuffer(b"{not json", dtype=np.uint8))},
        "meta nested deep": {**parts, "meta.json.npy": npy(np.frombuffer(b"[" * 100000, dtype=np.uint8))},
        "raw pickle": pickle.dumps(Planted(folder / "PWNED")),
    }
    out = {}
    for name, content in made.items():
        path = folder / name.replace(" ", "-") / "checkpoint.npz"
        if isinstance(content, bytes):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        else:
            write(path, content)
        out[name] = path
    return out
