"""Text in, token ids out: the corpora, the character vocabulary, and the batch streams.

Corpora:
- the default, embedded corpus: the reference text every Python installation carries in
  ``pydoc_data.topics`` (about 465 kB of English prose and code), so training works offline;
- any UTF-8 text file;
- named public corpora (``tinyshakespeare``), downloaded once, checked against a sha256, cached.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PUBLIC_CORPORA = {
    "tinyshakespeare": {
        "url": "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        "sha256": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    },
}


def default_corpus() -> str:
    """The standard library's pydoc reference topics, joined in sorted order (deterministic)."""
    from pydoc_data.topics import topics
    return "\n\n".join(topics[k] for k in sorted(topics))


def cache_dir() -> Path:
    return Path(os.environ.get("BPTT_CACHE", Path.home() / ".cache" / "bptt"))


def fetch_public(name: str) -> Path:
    """The cached copy of a named public corpus, downloaded and checked on first use."""
    spec = PUBLIC_CORPORA[name]
    path = cache_dir() / f"{name}.txt"
    if path.is_file() and _sha256(path.read_bytes()) == spec["sha256"]:
        return path
    try:
        with urllib.request.urlopen(spec["url"], timeout=30) as response:
            payload = response.read()
    except (urllib.error.URLError, OSError) as err:
        raise ValueError(f"--data {name}: could not download {spec['url']} ({err}); with no network, "
                         f"pass a local copy of the file instead: bptt train PATH/TO/{name}.txt") from None
    digest = _sha256(payload)
    if digest != spec["sha256"]:
        raise ValueError(f"--data {name}: expected sha256 {spec['sha256']}, got {digest} from {spec['url']}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)
    return path


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_text(source=None, *, name="FILE", encoding="utf-8") -> str:
    """None: the default corpus; a public corpus name; or a path to a text file."""
    if source is None:
        return default_corpus()
    if str(source) in PUBLIC_CORPORA and not Path(source).exists():
        source = fetch_public(str(source))
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"{name}: expected a text file, got {str(path)!r}, which does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"{name}: expected a text file, got {str(path)!r}, which is a directory")
    raw = path.read_bytes()
    if not raw:
        raise ValueError(f"{name}: expected a text file, got {str(path)!r}, which is empty")
    if b"\x00" in raw[:65536]:
        raise ValueError(f"{name}: expected a text file, got {str(path)!r}, which is binary (NUL bytes)")
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        raise ValueError(f"{name}: expected {encoding} text, got {str(path)!r} with an undecodable byte "
                         f"at offset {err.start} (pass --encoding to read another encoding)") from None
    except LookupError:
        raise ValueError(f"--encoding: expected a known text encoding, got {encoding!r}") from None


def run_source(run_dir):
    """The text a run folder was trained on, from its ``source.json``; None if it has none.

    Returns (text, a name for messages).
    """
    import json
    path = Path(run_dir) / "source.json"
    if not path.is_file():
        return None
    source = json.loads(path.read_text())
    origin = source.get("file") or source.get("data")
    return read_text(origin, encoding=source.get("encoding", "utf-8")), origin or "the embedded corpus"


def remember_source(run_dir, file, data_name, encoding) -> None:
    """Record in a run folder where its text came from, so resuming and diagnosing find it."""
    import json
    source = {"file": str(Path(file).resolve()) if file else None, "data": data_name, "encoding": encoding}
    (Path(run_dir) / "source.json").write_text(json.dumps(source))


@dataclass(frozen=True)
class Vocab:
    """The characters of a text, sorted; ids are positions in ``chars``."""

    chars: str

    @classmethod
    def from_text(cls, text: str) -> "Vocab":
        return cls("".join(sorted(set(text))))

    def __len__(self):
        return len(self.chars)

    def encode(self, text: str, *, name="text") -> np.ndarray:
        index = {ch: i for i, ch in enumerate(self.chars)}
        missing = sorted(set(text) - index.keys())
        if missing:
            shown = "".join(missing[:20])
            raise ValueError(f"{name}: characters not in the model's vocabulary of {len(self)}: {shown!r}")
        return np.fromiter((index[ch] for ch in text), dtype=np.int64, count=len(text))

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def split(ids: np.ndarray, val_fraction: float = 0.1):
    """The first (1 - val_fraction) of the stream for training, the rest for validation."""
    n_val = int(round(len(ids) * val_fraction))
    return ids[: len(ids) - n_val], ids[len(ids) - n_val:]


def streams(ids: np.ndarray, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Sequential partitioning (char-rnn, d2l): B parallel streams, inputs and next-char targets.

    ids (N,) -> x, y (L, B) with L = (N - 1) // B: stream b reads the b-th contiguous slice,
    so the hidden state carried from one window to the next continues the same text.
    """
    L = (len(ids) - 1) // batch_size
    if L < 1:
        raise ValueError(f"--batch-size: expected at most {len(ids) - 1} for a text of {len(ids)} "
                         f"characters, got {batch_size}")
    x = ids[: L * batch_size].reshape(batch_size, L).T
    y = ids[1: L * batch_size + 1].reshape(batch_size, L).T
    return np.ascontiguousarray(x), np.ascontiguousarray(y)
