"""A run folder's files, written so that a crash never leaves one half-written.

Every file is written whole or not at all: into a temporary file beside it (``.NAME.XXXX.tmp``),
then renamed over it, which POSIX makes atomic, so a reader (or a resumed run) finds the
previous version or the new one. The checkpoint is written this way too, flushed to disk first.
Logs are JSON lines, appended; after a crash a resumed run trims the lines logged past its
checkpoint (and any line cut short) before it logs them again.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Callable

TEMP_SUFFIX = ".tmp"


def replace_atomically(path, write: Callable, *, binary: bool = False, durable: bool = False) -> Path:
    """Write ``path`` whole or not at all: ``write(f)`` fills a temporary file in the same folder,
    which is then renamed over ``path``; on any error the temporary file is removed and ``path``
    is as it was. durable: the file is flushed to disk before the rename, and the rename after it.
    """
    path = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
        with os.fdopen(fd, "wb" if binary else "w") as f:
            write(f)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        raise
    if durable:
        try:
            dfd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass
    return path


def remove_stale_temps(folder, names) -> list[Path]:
    """Delete the temporary files of the files ``names`` that a crash (kill -9, power loss) left
    half-written in ``folder``."""
    removed = []
    for name in names:
        for tmp in Path(folder).glob(f".{name}.*{TEMP_SUFFIX}"):
            try:
                tmp.unlink()
                removed.append(tmp)
            except OSError:
                pass
    return removed


def write_json(path, obj) -> Path:
    """One JSON document, written atomically; a non-finite number (an overflowed score, a run with
    no finite loss yet) becomes null, since JSON has no NaN or infinity."""
    text = json.dumps(_finite(obj), indent=1, allow_nan=False) + "\n"
    return replace_atomically(path, lambda f: f.write(text))


def _finite(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def append_jsonl(path, record: dict) -> None:
    """One line at the end of the log ``path``, written and flushed at once."""
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


def trim_jsonl(path, step: int) -> None:
    """Keep the complete lines logged up to ``step``: a resumed run writes the later ones again."""
    path = Path(path)
    if not path.is_file():
        return
    kept = []
    for line in path.read_text(errors="replace").splitlines(keepends=True):
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            break   # a line cut short by a crash, and nothing valid after it
        logged = record.get("step") if isinstance(record, dict) else None
        if not line.endswith("\n") or isinstance(logged, bool) or not isinstance(logged, int) or logged > step:
            break
        kept.append(line)
    replace_atomically(path, lambda f: f.write("".join(kept)))
