"""Checkpoints: a model, its vocabulary and its run state in one ``.npz`` file.

Never pickled: arrays are loaded with ``allow_pickle=False`` and the metadata is JSON (stored
as a uint8 array ``meta.json``), validated against the arrays. Written atomically (``runfiles``):
a temporary file in the same folder, flushed to disk, then renamed over the old one, so a crash
during a save leaves the previous checkpoint intact. Non-finite values are refused, never written.

Layout: ``params/U`` ... ``params/c``; any extra state under ``state/<name>`` (optimiser
moments, say); ``meta.json``. An encoder-decoder (``Seq2Seq``, from ``bptt task reverse``) is
stored the same way under its own names (``params/enc_U`` ... ``params/V``, ``params/c``), its
``meta.json`` model settings saying ``"model": "seq2seq"``; ``load`` gives it back as a Seq2Seq.
A tool that reads only networks passes ``accept=("network",)`` and refuses it in one line.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import _validate as check
from . import runfiles
from ..data.text import Vocab
from ..nn.cells import CELLS
from ..nn.network import Network
from ..nn.seq2seq import Seq2Seq
from ..nn.stages import param_shapes

FORMAT = "bptt-checkpoint"
VERSION = 1
FILENAME = "checkpoint.npz"
# Far above any model this NumPy code trains; a file or archive claiming more is refused unread.
MAX_BYTES = 1 << 31
# Plain names only: no "..", no absolute paths, no backslashes, nothing numpy would not write.
MEMBER = re.compile(r"(?:(?:params|state)(?:/[A-Za-z0-9_]+)+|meta\.json)\.npy")


TEMP_SUFFIX = runfiles.TEMP_SUFFIX


class SaveError(OSError):
    """A checkpoint could not be written (disk full, read-only folder): the previous one is intact."""

    def __init__(self, err: OSError, path):
        reason = err.strerror or str(err) or type(err).__name__
        super().__init__(f"{path}: could not write the checkpoint ({reason}); the previous checkpoint "
                         f"on disk is intact")
        self.errno = err.errno


def remove_stale_temps(folder) -> list[Path]:
    """Delete the temporary files of saves that a crash (kill -9, power loss) left half-written."""
    return runfiles.remove_stale_temps(folder, (FILENAME,))


MODEL_KINDS = ("network", "seq2seq")
KIND_SAYS = {"network": "a network checkpoint (from bptt train, or bptt task with one network)",
             "seq2seq": "an encoder-decoder checkpoint (from bptt task reverse or sort, --model seq2seq)"}


@dataclass
class Checkpoint:
    model: Network | Seq2Seq
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
    if not path.is_file():   # a FIFO or a device would block or never end
        raise ValueError(f"{name}: expected a checkpoint file or run folder, got {str(path)!r}, "
                         f"which is not a regular file")
    return path


def save(path, model: Network, *, vocab: Vocab | None = None, meta: dict | None = None,
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
        "model": model.spec(),
        "vocab": None if vocab is None else vocab.chars,
        "meta": meta or {},
    }
    arrays["meta.json"] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        runfiles.replace_atomically(path, lambda f: np.savez(f, **arrays), binary=True, durable=True)
    except OSError as err:
        raise SaveError(err, path) from None
    return path


def load(path, *, name="CHECKPOINT", accept=MODEL_KINDS) -> Checkpoint:
    """Read and validate; every problem is a one-line ValueError naming the file.

    accept: the kinds of model the caller can take ("network", "seq2seq"); a checkpoint of
    another kind is refused in one line that says which it is.

    The file is untrusted: nothing is unpickled, nothing is extracted to disk, every member
    name, dtype and shape is checked against its actual bytes before any array is built, and
    the model is built only after its declared sizes agree with the arrays.
    """
    path = resolve(path, name=name)
    where = f"{name} {str(path)!r}"
    try:
        ck = _load(path, where)
    except Exception as err:
        # zipfile, numpy and the OS raise many types on damaged bytes (NotImplementedError for a
        # changed "version needed" field, OverflowError, MemoryError, ...): whatever the type, the
        # file is at fault, and the caller gets the one line that names it.
        text = str(err)
        if isinstance(err, ValueError) and text.startswith(where) and "\n" not in text:
            raise
        raise ValueError(f"{where}: expected a readable bptt checkpoint, got one that could not be read "
                         f"({_first_line(err)})") from None
    kind = "seq2seq" if isinstance(ck.model, Seq2Seq) else "network"
    if kind not in accept:
        raise ValueError(f"{where}: expected {' or '.join(KIND_SAYS[k] for k in accept)}, got "
                         f"{KIND_SAYS[kind]}, which this command cannot use")
    return ck


def _load(path: Path, where: str) -> Checkpoint:
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ValueError(f"{where}: expected a checkpoint of at most {MAX_BYTES} bytes, got {size} bytes")
    arrays = _read_members(path.read_bytes(), where)
    if "meta.json" not in arrays:
        raise ValueError(f"{where}: expected a bptt checkpoint, got an .npz without meta.json")
    meta_bytes = arrays.pop("meta.json")
    if meta_bytes.dtype != np.uint8 or meta_bytes.ndim != 1:
        raise ValueError(f"{where}: expected meta.json as a uint8 vector, got {check.describe(meta_bytes)}")
    try:
        header = json.loads(meta_bytes.tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ValueError(f"{where}: expected JSON metadata, got unreadable meta.json") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{where}: expected format {FORMAT!r}, got {(header.get('format') if isinstance(header, dict) else header)!r}")
    version = header.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version > VERSION or version < 1:
        raise ValueError(f"{where}: expected format version <= {VERSION}, got {version!r} "
                         f"(written by a newer bptt? upgrade to read it)")
    spec = header.get("model")
    if isinstance(spec, dict) and spec.get("model") == "seq2seq":
        model = _seq2seq(spec, arrays, where)
        return Checkpoint(model=model, vocab=None, meta=_meta(header, where), state=_state(arrays, where),
                          path=path)
    keys = ("n_in", "n_hidden", "n_out", "output", "dtype")
    if not isinstance(spec, dict) or not all(k in spec for k in keys):
        raise ValueError(f"{where}: expected model settings {', '.join(keys)}, got {spec!r:.200}")
    # Checkpoints written before there were other cells hold a one-layer simple RNN.
    cell_name, layers = spec.get("cell", "rnn"), spec.get("layers", 1)
    if cell_name not in CELLS:
        raise ValueError(f"{where}: expected a cell among {', '.join(CELLS)}, got {cell_name!r:.40}")
    options = {f.name: spec[f.name] for f in dataclasses.fields(CELLS[cell_name]) if f.name in spec}
    # The declared sizes must match the arrays before a model of those sizes is allocated.
    for k, v in (("n_in", spec["n_in"]), ("n_hidden", spec["n_hidden"]), ("n_out", spec["n_out"]),
                 ("layers", layers)):
        try:
            check.positive_int(k, v)
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
    bidirectional = spec.get("bidirectional", False)          # written only for bidirectional models
    if not isinstance(bidirectional, bool):
        raise ValueError(f"{where}: bidirectional: expected true or false, got {bidirectional!r:.40}")
    if layers > 64:
        raise ValueError(f"{where}: expected at most 64 layers, got {layers}")
    try:
        cell = CELLS[cell_name](**options)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: {err}") from None
    I, H, O = spec["n_in"], spec["n_hidden"], spec["n_out"]
    shapes = param_shapes(cell, I, H, O, layers, bidirectional)   # the shapes to expect, before any allocation
    described = f"a {layers}-layer {'bidirectional ' if bidirectional else ''}{cell_name} with n_in={I}, n_hidden={H}, n_out={O}"
    _check_arrays(where, arrays, shapes, described)
    try:
        model = Network.create(cell_name, I, H, O, cell_options=options, layers=layers,
                               output=spec["output"], dtype=spec["dtype"], seed=0, bidirectional=bidirectional)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: {err}") from None
    params = {k: arrays[f"params/{k}"] for k in shapes}
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
        if (not isinstance(chars, str) or len(chars) != model.n_in or len(chars) != model.n_out
                or len(set(chars)) != len(chars)):
            raise ValueError(f"{where}: expected a vocabulary of {model.n_in} distinct characters "
                             f"(n_in = n_out), got {chars!r:.60}")
        vocab = Vocab(chars)
    return Checkpoint(model=model, vocab=vocab, meta=_meta(header, where), state=_state(arrays, where), path=path)


def _state(arrays, where) -> dict:
    state = {k[len("state/"):]: v for k, v in arrays.items() if k.startswith("state/")}
    for k, v in state.items():
        if v.dtype.kind == "f" and not np.all(np.isfinite(v)):
            raise ValueError(f"{where}: state/{k}: expected finite values, got non-finite ones")
    return state


def _meta(header, where) -> dict:
    meta = header.get("meta") or {}
    if not isinstance(meta, dict):
        raise ValueError(f"{where}: expected a JSON object for meta, got {type(meta).__name__}")
    return meta


def _seq2seq(spec, arrays, where) -> Seq2Seq:
    """The encoder-decoder the settings declare, its sizes checked against the arrays before it is built."""
    keys = ("cell", "layers", "n_in", "n_hidden", "n_out", "dtype")
    if not all(k in spec for k in keys):
        raise ValueError(f"{where}: expected encoder-decoder settings {', '.join(keys)}, got {spec!r:.200}")
    if spec["cell"] not in ("rnn", "lstm", "gru"):
        raise ValueError(f"{where}: expected an encoder-decoder cell among rnn, lstm, gru, got {spec['cell']!r:.40}")
    for k in ("n_in", "n_hidden", "n_out", "layers"):
        try:
            check.positive_int(k, spec[k])
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
    if spec["layers"] > 64:
        raise ValueError(f"{where}: expected at most 64 layers, got {spec['layers']}")
    try:
        dtype = check.float_dtype("dtype", spec["dtype"])
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: {err}") from None
    cell = CELLS[spec["cell"]]()
    I, H, O, L = spec["n_in"], spec["n_hidden"], spec["n_out"], spec["layers"]
    enc, dec = param_shapes(cell, I, H, O, L), param_shapes(cell, O, H, O, L)
    shapes = {**{"enc_" + k: v for k, v in enc.items() if k not in ("V", "c")},
              **{"dec_" + k: v for k, v in dec.items() if k not in ("V", "c")}, "V": dec["V"], "c": dec["c"]}
    described = f"a {L}-layer {spec['cell']} encoder-decoder with n_in={I}, n_hidden={H}, n_out={O}"
    _check_arrays(where, arrays, shapes, described, dtype)
    model = Seq2Seq(I, H, O, cell=spec["cell"], layers=L, seed=0, dtype=dtype)
    if set(model.params) != set(shapes):       # the loader and the model agree on the names, or say so
        raise ValueError(f"{where}: expected the parameters {sorted(model.params)}, got {sorted(shapes)}")
    try:
        model.set_params({k: arrays[f"params/{k}"] for k in shapes})
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None
    return model


def _read_members(raw: bytes, where: str) -> dict:
    """The arrays of an .npz held in memory, read without numpy's pickle path or any extraction."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except Exception:   # BadZipFile, NotImplementedError, OverflowError, ...: not a zip we can read
        raise ValueError(f"{where}: expected a bptt checkpoint (.npz), got a file that is not one") from None
    arrays = {}
    with zf:
        infos = zf.infolist()
        declared = 0
        for info in infos:
            if not MEMBER.fullmatch(info.filename):
                raise ValueError(f"{where}: expected members named params/*.npy, state/*.npy and "
                                 f"meta.json.npy, got a member named {info.filename!r:.80}")
            if info.filename[:-4] in arrays:
                raise ValueError(f"{where}: expected each array once, got {info.filename!r} twice")
            arrays[info.filename[:-4]] = None
            declared += info.file_size
        if declared > MAX_BYTES:   # a zip bomb declares far more than it stores
            raise ValueError(f"{where}: expected at most {MAX_BYTES} bytes of arrays, got members "
                             f"declaring {declared} bytes")
        for info in infos:
            try:
                with zf.open(info) as f:
                    data = f.read(info.file_size + 1)   # reading to the end checks the CRC
            except Exception as err:   # BadZipFile, EOFError, zlib.error, NotImplementedError, ...
                raise ValueError(f"{where}: expected a readable bptt checkpoint, got a damaged member "
                                 f"{info.filename!r} ({_first_line(err)})") from None
            arrays[info.filename[:-4]] = _parse_npy(data, where, info.filename)
    return arrays


def _parse_npy(data: bytes, where: str, member: str) -> np.ndarray:
    """One .npy payload: a plain numeric dtype whose shape accounts for exactly the bytes there are."""
    f = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(f)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}[version]
        shape, fortran, dtype = read_header(f)
    except (ValueError, KeyError, EOFError, SyntaxError, TypeError) as err:
        raise ValueError(f"{where}: expected an .npy array in {member!r}, got an unreadable header "
                         f"({_first_line(err)})") from None
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in "biuf":
        raise ValueError(f"{where}: expected a numeric array in {member!r}, got dtype {dtype} "
                         f"(objects and pickles are never loaded)")
    if any(n < 0 for n in shape):
        raise ValueError(f"{where}: expected a non-negative shape in {member!r}, got {shape}")
    need = math.prod(shape) * dtype.itemsize
    have = len(data) - f.tell()
    if need != have:
        raise ValueError(f"{where}: expected {need} bytes of data for shape {shape} {dtype} in {member!r}, "
                         f"got {have}")
    arr = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=f.tell())
    arr = arr.reshape(shape, order="F" if fortran else "C")
    return arr.astype(dtype.newbyteorder("="), order="C", copy=True)


def _first_line(err) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def _check_arrays(where, arrays, shapes, described, dtype=None) -> None:
    """The checkpoint's params/* are exactly ``shapes`` (state/* aside), each of its shape (and
    ``dtype`` where given), or one line saying which are not."""
    expected = {f"params/{k}" for k in shapes}
    missing = sorted(expected - arrays.keys())
    extra = sorted(k for k in arrays if k not in expected and not k.startswith("state/"))
    if missing or extra:
        raise ValueError(f"{where}: expected the arrays of {described}: {', '.join(sorted(expected))} "
                         f"(and state/*), got missing {missing or 'none'}, unexpected {extra or 'none'}")
    for k, shape in shapes.items():
        got = arrays[f"params/{k}"]
        if got.shape != shape or (dtype is not None and got.dtype != dtype):
            kind = "float" if dtype is None else dtype.name
            raise ValueError(f"{where}: params['{k}']: expected a {kind} array of shape {shape} "
                             f"({described}), got {check.describe(got)}")
