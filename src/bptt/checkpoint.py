"""Checkpoints: a model, its vocabulary and its run state in one ``.npz`` file.

Never pickled: arrays are loaded with ``allow_pickle=False`` and the metadata is JSON (stored
as a uint8 array ``meta.json``), validated against the arrays. Written atomically: a temporary
file in the same folder, flushed to disk, then renamed over the old one, so a crash during a
save leaves the previous checkpoint intact. Non-finite values are refused, never written.

Layout: ``params/U`` ... ``params/c``; any extra state under ``state/<name>`` (optimiser
moments, say); ``meta.json``.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .data import Vocab
from .model import PARAM_NAMES, SimpleRNN

FORMAT = "bptt-checkpoint"
VERSION = 1
FILENAME = "checkpoint.npz"


@dataclass
class Checkpoint:
    model: SimpleRNN
    vocab: Vocab | None = None
    meta: dict = field(default_factory=dict)
    state: dict = field(default_factory=dict)     # name -> array
    path: Path | None = None


def resolve(path, *, name="CHECKPOINT") -> Path:
    """A checkpoint file, or a run folder holding ``checkpoint.npz``."""
    path = Path(path)
    if path.is_dir():
        inner = path / FILENAME
        if not inner.is_file():
            raise FileNotFoundError(f"{name}: expected a checkpoint file or a run folder holding {FILENAME}, "
                                    f"got the folder {str(path)!r} without one")
        return inner
    if not path.exists():
        raise FileNotFoundError(f"{name}: expected a checkpoint file or run folder, got {str(path)!r}, "
                                f"which does not exist")
    return path


def save(path, model: SimpleRNN, *, vocab: Vocab | None = None, meta: dict | None = None,
         state: dict | None = None) -> Path:
    """Write atomically; refuse (ValueError) any non-finite parameter or state."""
    path = Path(path)
    arrays = {f"params/{k}": np.asarray(v) for k, v in model.params.items()}
    for k, v in (state or {}).items():
        arrays[f"state/{k}"] = np.asarray(v)
    for k, v in arrays.items():
        if v.dtype.kind == "f" and not np.all(np.isfinite(v)):
            raise ValueError(f"{k}: refusing to save a checkpoint with non-finite values")
    header = {
        "format": FORMAT, "version": VERSION,
        "model": {"n_in": model.n_in, "n_hidden": model.n_hidden, "n_out": model.n_out,
                  "nonlinearity": model.nonlinearity, "output": model.output, "dtype": model.dtype.name},
        "vocab": None if vocab is None else vocab.chars,
        "meta": meta or {},
    }
    arrays["meta.json"] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return path


def load(path, *, name="CHECKPOINT") -> Checkpoint:
    """Read and validate; every problem is a one-line ValueError naming the file."""
    path = resolve(path, name=name)
    where = f"{name} {str(path)!r}"
    raw = path.read_bytes()
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise ValueError(f"{where}: expected a bptt checkpoint (.npz), got a file that is not one")
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except Exception as err:  # truncated or corrupt members surface as many exception types
        raise ValueError(f"{where}: expected a readable bptt checkpoint, got a damaged file ({type(err).__name__})") from None
    if "meta.json" not in arrays:
        raise ValueError(f"{where}: expected a bptt checkpoint, got an .npz without meta.json")
    try:
        header = json.loads(arrays.pop("meta.json").tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"{where}: expected JSON metadata, got unreadable meta.json") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{where}: expected format {FORMAT!r}, got {(header.get('format') if isinstance(header, dict) else header)!r}")
    version = header.get("version")
    if not isinstance(version, int) or version > VERSION or version < 1:
        raise ValueError(f"{where}: expected format version <= {VERSION}, got {version!r} "
                         f"(written by a newer bptt? upgrade to read it)")
    spec = header.get("model")
    try:
        model = SimpleRNN(spec["n_in"], spec["n_hidden"], spec["n_out"], nonlinearity=spec["nonlinearity"],
                          output=spec["output"], dtype=spec["dtype"])
    except (KeyError, TypeError) as err:
        raise ValueError(f"{where}: expected model settings n_in, n_hidden, n_out, nonlinearity, output, "
                         f"dtype, got {spec!r}") from None
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None
    expected = {f"params/{k}" for k in PARAM_NAMES}
    missing = sorted(expected - arrays.keys())
    extra = sorted(k for k in arrays if k not in expected and not k.startswith("state/"))
    if missing or extra:
        raise ValueError(f"{where}: expected arrays {', '.join(sorted(expected))}, "
                         f"missing {missing or 'none'}, unexpected {extra or 'none'}")
    params = {k: arrays[f"params/{k}"] for k in PARAM_NAMES}
    for k, v in params.items():
        if v.dtype != model.dtype:
            raise ValueError(f"{where}: expected params/{k} of dtype {model.dtype.name}, got {v.dtype}")
    try:
        model.set_params(params)
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None
    chars = header.get("vocab")
    vocab = None
    if chars is not None:
        if not isinstance(chars, str) or len(chars) != model.n_in or len(set(chars)) != len(chars):
            raise ValueError(f"{where}: expected a vocabulary of {model.n_in} distinct characters, "
                             f"got {chars!r:.60}")
        vocab = Vocab(chars)
    state = {k[len("state/"):]: v for k, v in arrays.items() if k.startswith("state/")}
    meta = header.get("meta") or {}
    if not isinstance(meta, dict):
        raise ValueError(f"{where}: expected a JSON object for meta, got {type(meta).__name__}")
    return Checkpoint(model=model, vocab=vocab, meta=meta, state=state, path=path)
