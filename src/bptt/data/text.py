"""Text in, token ids out: the corpora, the character vocabulary, and the batch streams.

Corpora:

- the default, embedded corpus: the reference text every Python installation carries in
  ``pydoc_data.topics`` (about 465 kB of English prose and code), so training works offline;
- any UTF-8 text file;
- named public corpora (``tinyshakespeare``), downloaded once, checked against a sha256, cached.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._validate import choice as check_choice

CHUNK_BYTES = 1 << 20   # read and encode files 1 MiB at a time: the temporaries stay near 20 MB

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


NEWLINES = ("normalize", "keep")   # --newline: \r\n and lone \r become \n, or every character as it is

# Byte-order marks of the wide encodings, longest first (UTF-32 LE's begins with UTF-16 LE's).
_WIDE_BOMS = [(codecs.BOM_UTF32_LE, "UTF-32", "utf-32"), (codecs.BOM_UTF32_BE, "UTF-32", "utf-32"),
              (codecs.BOM_UTF16_LE, "UTF-16", "utf-16"), (codecs.BOM_UTF16_BE, "UTF-16", "utf-16")]


def read_text(source=None, *, name="FILE", encoding="utf-8", newline="normalize") -> str:
    """None: the default corpus; a public corpus name; or a path to a text file, read whole."""
    if source is None:
        return default_corpus()
    return "".join(chunk for chunk, _ in _decoded_chunks(_text_path(source, name), name, encoding, newline=newline))


def _text_path(source, name) -> Path:
    if str(source) in PUBLIC_CORPORA and not Path(source).exists():
        source = fetch_public(str(source))
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"{name}: expected a text file, got {str(path)!r}, which does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"{name}: expected a text file, got {str(path)!r}, which is a directory")
    if not path.is_file():
        raise ValueError(f"{name}: expected a text file, got {str(path)!r}, which is not a regular file")
    return path


def _decoded_chunks(path: Path, name: str, encoding: str, chunk_bytes: int | None = None, *,
                    newline: str = "normalize"):
    """Yield (text, bytes read so far), decoding incrementally so memory does not grow with the file.

    As editors read text: a leading byte-order mark is not a character, and with
    newline="normalize" \r\n and a lone \r become \n (a \r at a chunk's end waits for the next
    chunk, so a \r\n split between chunks is one newline).
    """
    where = f"{name} {str(path)!r}"
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"--encoding: expected a known text encoding to read {where}, got {encoding!r}") from None
    check_choice("--newline", newline, NEWLINES)
    decoder = codec.incrementaldecoder("strict")
    wide = codec.name.startswith(("utf-16", "utf-32"))     # NUL bytes are part of their characters
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    done, started, carry = 0, False, ""
    with open(path, "rb") as f:
        head = f.read(65536)
        f.seek(0)
        if not head:
            raise ValueError(f"{name}: expected a text file, got {str(path)!r}, which is empty")
        if not wide:
            for bom, label, suggestion in _WIDE_BOMS:
                if head.startswith(bom):
                    raise ValueError(f"{name}: expected {encoding} text, got {str(path)!r}, which starts with a "
                                     f"{label} byte-order mark (pass --encoding {suggestion} to read it)")
            if b"\x00" in head:
                raise ValueError(f"{name}: expected a text file, got {str(path)!r}, which is binary (NUL bytes)")
        while True:
            raw = f.read(chunk_bytes)
            pending = len(decoder.getstate()[0])
            try:
                text = decoder.decode(raw, final=not raw)
            except UnicodeDecodeError as err:
                raise ValueError(f"{name}: expected {encoding} text, got {str(path)!r} with an undecodable byte "
                                 f"at offset {done - pending + err.start} (pass --encoding to read another "
                                 f"encoding)") from None
            except UnicodeError as err:   # e.g. utf-16 without a byte-order mark: no offset to give
                raise ValueError(f"{name}: expected {encoding} text, got {str(path)!r}, which it cannot decode "
                                 f"({err}; pass --encoding to read another encoding)") from None
            done += len(raw)
            if not started and text:
                started = True
                if text[0] == "\ufeff":          # a byte-order mark (utf-8's, or one the codec kept)
                    text = text[1:]
            if newline == "normalize":
                text = carry + text
                carry = ""
                if raw and text.endswith("\r"):   # its \n may open the next chunk
                    text, carry = text[:-1], "\r"
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            if text:
                yield text, done
            if not raw:
                return


def remember_source(run_dir, file, data_name, encoding, newline="normalize", identity=None) -> None:
    """Record in a run folder where its text came from and how it was read, so resuming and
    diagnosing find it; identity ({"length", "sha256"}, from ``Corpus.identity``) tells it apart."""
    import json
    source = {"file": str(Path(file).resolve()) if file else None, "data": data_name, "encoding": encoding,
              "newline": newline, **(identity or {})}
    tmp = Path(run_dir) / ".source.json.tmp"
    tmp.write_text(json.dumps(source))
    tmp.replace(Path(run_dir) / "source.json")


def run_source(run_dir, *, name="--resume"):
    """The {"file", "data", "encoding"} a run folder was trained on, or None if it records none."""
    import json
    path = Path(run_dir) / "source.json"
    if not path.is_file():
        return None
    try:
        source = json.loads(path.read_text())
        if not isinstance(source, dict) or not all(isinstance(source.get(k), (str, type(None)))
                                                   for k in ("file", "data", "encoding")):
            raise ValueError
    except (ValueError, RecursionError):   # bad JSON or bytes, or "[[[[..." deeper than the parser's stack
        raise ValueError(f"{name} {str(run_dir)!r}: expected source.json to name the run's text, "
                         f"got an unreadable one") from None
    return source


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
        return _ids(text, _lookup(self), self, name).astype(np.int64)

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


def id_dtype(n_tokens: int) -> np.dtype:
    """The smallest unsigned type for ids of a vocabulary: a 100 MB text fits in 100 MB of uint8."""
    return np.dtype(np.uint8 if n_tokens <= 1 << 8 else np.uint16 if n_tokens <= 1 << 16 else np.uint32)


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def _lookup(vocab: "Vocab") -> np.ndarray:
    """Code point -> id, -1 where the vocabulary has no such character (at most 4.4 MB)."""
    cps = np.array([ord(c) for c in vocab.chars], dtype=np.int64)
    lut = np.full(int(cps.max()) + 1 if len(cps) else 1, -1, dtype=np.int32)
    lut[cps] = np.arange(len(cps), dtype=np.int32)
    return lut


def _ids(text: str, lut: np.ndarray, vocab: "Vocab", name: str) -> np.ndarray:
    """Vectorised encoding through a lookup table: a gather per character, no Python loop."""
    cps = _codepoints(text)
    ids = lut[np.minimum(cps, len(lut) - 1)]
    bad = (ids < 0) | (cps >= len(lut))
    if bad.any():
        missing = "".join(chr(c) for c in np.unique(cps[bad])[:20])
        raise ValueError(f"{name}: expected only characters of the model's vocabulary of {len(vocab)}, "
                         f"got {missing!r}")
    return ids


@dataclass
class Corpus:
    """A text as token ids (N,), with its vocabulary: the form training reads.

    From a string the ids live in memory; from a file they are written, one chunk at a time, to
    an anonymous temporary file and memory-mapped, so only the windows being read occupy memory.
    ``sha256`` is the checksum of the text as read (UTF-8, after --newline): with the length and
    the vocabulary, the identity a run records so that a resume can tell its text from another.
    """

    ids: np.ndarray
    vocab: "Vocab"
    name: str = "FILE"      # how errors about this text name it
    sha256: str = ""

    def __len__(self):
        return len(self.ids)

    def identity(self) -> dict:
        """What a run records of its text: {"length", "sha256"} (the vocabulary is in the checkpoint)."""
        return {"length": len(self), "sha256": self.sha256}

    @classmethod
    def from_text(cls, text: str, vocab: "Vocab | None" = None, *, name="FILE") -> "Corpus":
        vocab = vocab or Vocab.from_text(text)
        ids = _ids(text, _lookup(vocab), vocab, name).astype(id_dtype(len(vocab)))
        return cls(ids, vocab, name, _sha256(text.encode("utf-8", "surrogatepass")))

    @classmethod
    def from_file(cls, source, *, name="FILE", encoding="utf-8", newline="normalize", vocab: "Vocab | None" = None,
                  workdir=None, progress=None) -> "Corpus":
        """Two streaming passes over the file: the vocabulary (unless given), then the ids.

        progress(done, total): bytes processed over both passes, called after each chunk.
        """
        path = _text_path(source, name)
        total = 2 * path.stat().st_size if vocab is None else path.stat().st_size
        base = 0
        if vocab is None:
            seen = np.zeros(0x110000, dtype=bool)   # one flag per Unicode code point
            for text, done in _decoded_chunks(path, name, encoding, newline=newline):
                seen[_codepoints(text)] = True
                if progress:
                    progress(done, total)
            vocab = Vocab("".join(map(chr, np.flatnonzero(seen))))
            base = total // 2
        table = _lookup(vocab)
        dtype = id_dtype(len(vocab))
        n = 0
        digest = hashlib.sha256()
        with tempfile.TemporaryFile(dir=workdir) as f:
            for text, done in _decoded_chunks(path, name, encoding, newline=newline):
                ids = _ids(text, table, vocab, name).astype(dtype)
                digest.update(text.encode("utf-8", "surrogatepass"))
                f.write(ids.tobytes())
                n += len(ids)
                if progress:
                    progress(base + done, total)
            f.flush()
            # The mapping keeps the (already unlinked) file alive after it is closed.
            ids = np.memmap(f, dtype=dtype, mode="r", shape=(n,))
        return cls(ids, vocab, f"{name} {str(path)!r}", digest.hexdigest())


class Streams:
    """B parallel streams over ids, read lazily: ``s[t, b] = ids[shift + b * L + t]``.

    The same sequential partitioning as ``streams()``, without materialising the (L, B)
    arrays: indexing a range of steps gathers just those ids, as intp.
    """

    def __init__(self, ids: np.ndarray, batch_size: int, shift: int = 0):
        self.ids, self.batch_size, self.shift = ids, batch_size, shift
        self.length = (len(ids) - 1) // batch_size
        if self.length < 1:
            raise ValueError(f"--batch-size: expected at most {len(ids) - 1} for a text of {len(ids)} "
                             f"characters, got {batch_size}")
        self._starts = np.arange(batch_size, dtype=np.intp) * self.length + shift

    shape = property(lambda self: (self.length, self.batch_size))
    ndim = 2
    dtype = np.dtype(np.intp)

    def __len__(self):
        return self.length

    def __getitem__(self, key):
        t, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        if isinstance(t, slice):
            steps = np.arange(*t.indices(self.length), dtype=np.intp)
        else:
            steps = np.arange(self.length, dtype=np.intp)[t]
        window = np.asarray(self.ids[steps[..., None] + self._starts], dtype=np.intp)
        return window[(slice(None),) * steps.ndim + rest] if rest else window


def lazy_streams(ids: np.ndarray, batch_size: int) -> tuple[Streams, Streams]:
    """Inputs and next-character targets as lazy ``Streams`` (the same values as ``streams``)."""
    return Streams(ids, batch_size, 0), Streams(ids, batch_size, 1)
