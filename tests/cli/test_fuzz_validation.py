"""Hypothesis against the checks at the public edge: any value is either accepted or refused with
one ValueError line that names the argument; nothing else escapes (no TypeError, no traceback from
deep inside numpy), and a mutated checkpoint never loads as anything but itself or an error."""

import math
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bptt import SimpleRNN, checkpoint
from bptt.data import Vocab
from bptt.train.sample import sample
from bptt.train.text import TrainConfig

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

anything = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 12), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8), st.sampled_from(["tanh", "relu", "linear", "softmax", "identity", "float32", "float64",
                                          "adam", "sgd"]),
    st.lists(st.integers(0, 3), max_size=3), st.just(np.zeros((2, 2))), st.just(np.float32(0.5)),
    st.complex_numbers(max_magnitude=2), st.just(object()))


def one_line_naming(err, names):
    text = str(err)
    assert "\n" not in text, text
    assert any(text.startswith(f"{n}:") for n in names), text


@FUZZ
@given(n_in=anything, n_hidden=anything, n_out=anything, nonlinearity=anything, output=anything, dtype=anything)
def test_model_constructor(n_in, n_hidden, n_out, nonlinearity, output, dtype):
    # Valid sizes are small here, so an accepted model never allocates much.
    for v in (n_in, n_hidden, n_out):
        assume(not (isinstance(v, int) and v > 64))
    try:
        model = SimpleRNN(n_in, n_hidden, n_out, nonlinearity=nonlinearity, output=output, dtype=dtype)
    except ValueError as err:
        one_line_naming(err, ["n_in", "n_hidden", "n_out", "nonlinearity", "output", "dtype"])
        return
    assert model.params["W"].shape == (n_hidden, n_hidden)


arrays = st.one_of(
    hnp.arrays(st.sampled_from([np.int64, np.int8, np.uint16, np.float32, np.float64, np.bool_, np.complex64]),
               hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4),
               ),
    st.lists(st.integers(-3, 8), max_size=4), st.text(max_size=3), st.none(), st.floats())


@FUZZ
@given(x=arrays, h0=arrays | st.none(), y=arrays, mask=arrays | st.none(), output=st.sampled_from(["softmax", "identity"]))
def test_forward_and_backward_inputs(x, h0, y, mask, output):
    model = SimpleRNN(3, 4, 3, output=output, seed=0)
    try:
        trace = model.forward(x, h0)
    except ValueError as err:
        one_line_naming(err, ["x", "h0"])
        return
    try:
        result = model.backward(trace, y, mask=mask)
    except ValueError as err:
        one_line_naming(err, ["y", "mask"])
        return
    assert result.grads["W"].shape == (4, 4)


FIELDS = {f: f"--{f.replace('_', '-')}" for f in TrainConfig.__dataclass_fields__}


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(sorted(FIELDS)), anything, max_size=3))
def test_train_config(changes):
    config = TrainConfig(**changes)
    try:
        config.validate()
    except ValueError as err:
        one_line_naming(err, [FIELDS[f] for f in changes])
        return
    for name, value in changes.items():      # whatever was accepted is usable as what it claims
        if name in ("lr", "lr_decay", "momentum", "val_fraction"):
            assert math.isfinite(value)


@FUZZ
@given(prime=st.text(max_size=6), length=anything, temperature=anything, seed=anything)
def test_sample_arguments(prime, length, temperature, seed):
    assume(not (isinstance(length, int) and length > 50))
    model = SimpleRNN(4, 3, 4, seed=0)
    try:
        text = sample(model, Vocab("abcd"), prime, length, temperature, seed)
    except ValueError as err:
        one_line_naming(err, ["--prime", "--length", "--temperature", "--seed"])
        return
    assert len(text) == length and set(text) <= set("abcd")


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzzck") / "checkpoint.npz"
    checkpoint.save(path, SimpleRNN(4, 3, 4, seed=0), vocab=Vocab("abcd"), meta={"step": 1},
                    state={"opt/t": np.array(3), "opt/m/W": np.ones((3, 3))})
    return path.read_bytes()


mutations = st.lists(st.tuples(st.sampled_from(["flip", "cut", "insert", "zero"]), st.integers(0, 10**6),
                               st.integers(1, 255)), min_size=1, max_size=4)


@FUZZ
@given(ops=mutations)
def test_checkpoint_load_on_mutated_bytes(good_bytes, tmp_path, ops):
    raw = bytearray(good_bytes)
    for op, pos, value in ops:
        pos %= max(len(raw), 1)
        if op == "flip" and raw:
            raw[pos] ^= value
        elif op == "cut":
            del raw[pos:]
        elif op == "insert":
            raw[pos:pos] = bytes([value]) * value
        elif op == "zero":
            raw[pos:pos + value] = bytes(len(raw[pos:pos + value]))
    path = tmp_path / "mutated.npz"
    path.write_bytes(bytes(raw))
    try:
        ck = checkpoint.load(path)
    except ValueError as err:
        one_line_naming(err, [f"CHECKPOINT {str(path)!r}"])
        return
    # A mutation that left it loadable (the zip's CRCs guard the data) changed nothing that matters.
    assert all(np.all(np.isfinite(v)) for v in ck.model.params.values())
    assert ck.vocab is None or len(ck.vocab) == ck.model.n_in


def test_the_fuzzed_checkpoint_is_a_real_zip(good_bytes, tmp_path):
    (tmp_path / "c.npz").write_bytes(good_bytes)
    assert zipfile.is_zipfile(tmp_path / "c.npz") and checkpoint.load(tmp_path / "c.npz").meta == {"step": 1}


# Every single-byte change, not a random few: xor 0xff, then a value that cycles through 0x00, 0x01,
# 0x80 and 0x7f by position, so each byte of every zip and .npy header is tried both ways.
CYCLE = (0x00, 0x01, 0x80, 0x7F)


@pytest.fixture(scope="module")
def small_bytes(tmp_path_factory):
    """The smallest checkpoint with every part (params, vocabulary, meta, state): 2 kB."""
    path = tmp_path_factory.mktemp("smallck") / "checkpoint.npz"
    checkpoint.save(path, SimpleRNN(2, 1, 2, seed=0), vocab=Vocab("ab"), meta={"step": 1},
                    state={"opt/t": np.array(3)})
    return path.read_bytes()


@pytest.mark.slow   # about 4 s on an idle 2-core machine (3,956 loads of about 1 ms)
def test_every_single_byte_change_loads_or_is_one_line(small_bytes, tmp_path):
    good_bytes = small_bytes
    path = tmp_path / "changed.npz"
    path.write_bytes(good_bytes)
    original = checkpoint.load(path)
    where = f"CHECKPOINT {str(path)!r}"
    outcomes = {"loaded": 0, "refused": 0}
    for pos in range(len(good_bytes)):
        for value in (good_bytes[pos] ^ 0xFF, CYCLE[pos % len(CYCLE)]):
            if value == good_bytes[pos]:
                continue
            raw = bytearray(good_bytes)
            raw[pos] = value
            path.write_bytes(raw)
            try:
                ck = checkpoint.load(path)
            except ValueError as err:       # any other type fails the test, with its position
                assert str(err).startswith(f"{where}: ") and "\n" not in str(err), (pos, value, str(err))
                outcomes["refused"] += 1
                continue
            # Loaded: the change was in bytes that carry no data (a timestamp, say); the CRCs guard the rest.
            assert all(np.array_equal(ck.model.params[k], v) for k, v in original.model.params.items()), (pos, value)
            assert ck.vocab == original.vocab and ck.meta == original.meta, (pos, value)
            outcomes["loaded"] += 1
    assert outcomes["refused"] > len(good_bytes)      # most changes are caught (by CRCs, headers)


def test_a_changed_version_needed_field_is_one_line_and_exit_2(small_bytes, tmp_path):
    """The byte that made zipfile raise NotImplementedError through `bptt sample`."""
    raw = bytearray(small_bytes)
    central = raw.rfind(b"PK\x01\x02")              # the last central-directory entry
    raw[central + 6] ^= 0xFF                          # its "version needed to extract"
    path = tmp_path / "changed.npz"
    path.write_bytes(raw)
    r = subprocess.run([sys.executable, "-m", "bptt", "sample", str(path), "--length", "5"],
                       capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"bptt: error: CHECKPOINT {str(path)!r}: "), r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


# The other files a command reads from a run folder: the same promise as the checkpoint's.
def _one_line_or_loads(read, path, raw, where):
    for pos in range(len(raw)):
        for value in (raw[pos] ^ 0xFF, CYCLE[pos % len(CYCLE)], ord("[")):
            if value == raw[pos]:
                continue
            changed = bytearray(raw)
            changed[pos] = value
            path.write_bytes(changed)
            try:
                read()
            except ValueError as err:
                assert where in str(err) and "\n" not in str(err), (pos, value, str(err))


def test_every_single_byte_change_of_metrics_and_source_is_one_line(tmp_path):
    from bptt.data import run_source
    from bptt.diagnose import load_metrics
    metrics = tmp_path / "metrics.jsonl"
    raw = (b'{"step": 10, "loss": 2.5, "grad_norm": 1.0}\n'
           b'{"step": 20, "radius_W": 0.9, "sigma_max_W": 1.1, "ratio": {"1": 0.5}}\n')
    _one_line_or_loads(lambda: load_metrics(metrics), metrics, raw, str(metrics))
    source = tmp_path / "source.json"
    raw = b'{"file": "/data/book.txt", "data": null, "encoding": "utf-8"}'
    _one_line_or_loads(lambda: run_source(tmp_path), source, raw, str(tmp_path))


@pytest.mark.parametrize("name", ["metrics.jsonl", "source.json"])
def test_json_nested_past_the_parsers_depth_is_one_line(tmp_path, name):
    """'[[[[...' raises RecursionError inside json, not ValueError: still the one line."""
    from bptt.data import run_source
    from bptt.diagnose import load_metrics
    (tmp_path / name).write_text("[" * 200_000 + "\n")
    read = {"metrics.jsonl": lambda: load_metrics(tmp_path / name), "source.json": lambda: run_source(tmp_path)}[name]
    with pytest.raises(ValueError, match=re.escape(str(tmp_path))):
        read()
