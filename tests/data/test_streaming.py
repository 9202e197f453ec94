"""A text file is streamed: chunked passes give the ids a whole read would, training on them is the
same, bit for bit, and a 100 MB file trains in bounded memory."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptt.data import text as data
from bptt.train.text import TrainConfig, Trainer

SRC = Path(__file__).resolve().parents[2] / "src"
_spec = importlib.util.spec_from_file_location("streaming", SRC.parent / "benchmarks" / "streaming.py")
memory = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(memory)
TEXT = "naïve café — the quick brown fox 🦊 jumps over the lazy dog.\n" * 60


def test_chunked_reading_matches_a_whole_read(tmp_path, monkeypatch):
    path = tmp_path / "t.txt"
    path.write_text(TEXT, encoding="utf-8")
    monkeypatch.setattr(data, "CHUNK_BYTES", 7)       # multi-byte characters cut across chunks
    seen = []
    corpus = data.Corpus.from_file(path, workdir=tmp_path, progress=lambda done, total: seen.append((done, total)))
    whole = data.Corpus.from_text(TEXT)
    assert corpus.vocab == whole.vocab == data.Vocab.from_text(TEXT)
    np.testing.assert_array_equal(np.asarray(corpus.ids), whole.ids)
    assert corpus.ids.dtype == np.uint8 and isinstance(corpus.ids, np.memmap)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1] == (2 * path.stat().st_size,) * 2
    assert data.read_text(path) == TEXT


def test_an_undecodable_byte_is_located_across_chunks(tmp_path, monkeypatch):
    path = tmp_path / "t.txt"
    raw = TEXT.encode("utf-8")
    path.write_bytes(raw[:1000] + b"\xff" + raw[1000:])
    monkeypatch.setattr(data, "CHUNK_BYTES", 64)
    with pytest.raises(ValueError, match=f"FILE: expected utf-8 text, got .* undecodable byte at offset 1000 "):
        data.Corpus.from_file(path)


def test_resuming_with_a_changed_text_names_the_new_characters(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text(TEXT + "§")
    with pytest.raises(ValueError, match=r"FILE: expected only characters of the model's vocabulary of \d+, got '§'"):
        data.Corpus.from_file(path, vocab=data.Vocab.from_text(TEXT))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 300), batch=st.integers(1, 20), lo=st.integers(0, 40), width=st.integers(0, 40))
def test_lazy_streams_hold_the_values_of_materialised_ones(n, batch, lo, width):
    ids = np.random.default_rng(n).integers(0, 50, n).astype(np.uint8)
    if (n - 1) // batch < 1:
        with pytest.raises(ValueError, match="--batch-size"):
            data.lazy_streams(ids, batch)
        return
    x, y = data.streams(ids.astype(np.int64), batch)
    lx, ly = data.lazy_streams(ids, batch)
    assert lx.shape == x.shape
    np.testing.assert_array_equal(lx[lo:lo + width], x[lo:lo + width])
    np.testing.assert_array_equal(ly[lo:lo + width], y[lo:lo + width])
    np.testing.assert_array_equal(lx[:1, 0], x[:1, 0])


def test_training_on_a_streamed_file_is_training_on_the_string(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text(TEXT)
    config = TrainConfig(hidden=8, seq_length=5, batch_size=3, steps=40, eval_every=20, sample_every=0)
    a = Trainer(config, TEXT, tmp_path / "a")
    a.run()
    b = Trainer(config, data.Corpus.from_file(path, workdir=tmp_path), tmp_path / "b")
    b.run()
    for k in a.model.params:
        np.testing.assert_array_equal(a.model.params[k], b.model.params[k])


MB = 1_000_000
PEAK_LIMIT = 150 * 2**20      # measured: 97 MiB, as for 10 MB or 300 MB (reading the text whole: 2.5 GiB)


def test_a_100_mb_file_trains_in_bounded_memory(tmp_path):
    block = data.default_corpus().encode("utf-8")
    path = tmp_path / "big.txt"
    with open(path, "wb") as f:
        for _ in range(100 * MB // len(block)):
            f.write(block)
        tail = block[: 100 * MB % len(block)].decode("utf-8", "ignore").encode("utf-8")   # whole characters
        f.write(tail + b" " * (100 * MB % len(block) - len(tail)))
    assert path.stat().st_size == 100 * MB
    r = memory.peak_rss(memory.train_command(path, tmp_path / "run", 10), memory.with_src(SRC))
    assert r["code"] == 0, r["stderr"]
    n_chars = json.loads((tmp_path / "run" / "summary.json").read_text())["characters"]
    assert n_chars > 99 * MB                                    # all of it was read
    assert r["peak_rss"] < PEAK_LIMIT, f"peak RSS {r['peak_rss'] / 2**20:.0f} MiB for a 100 MB text"


def test_a_lazy_walk_over_streams_is_the_walk_over_arrays():
    """TruncatedBPTT(..., lazy=True) reads lazy Streams a window at a time: the same updates, bit for
    bit, as the walk over the whole (L, B) arrays (what training on a long file relies on)."""
    from bptt import SimpleRNN, TruncatedBPTT
    corpus = data.Corpus.from_text(TEXT)
    x, y = data.lazy_streams(corpus.ids, 3)
    model = SimpleRNN(len(corpus.vocab), 6, len(corpus.vocab), seed=1)
    lazy = TruncatedBPTT(model, x, y, 7, 11, lazy=True)
    whole = TruncatedBPTT(model, x[:], y[:], 7, 11)
    assert lazy.x is x and whole.x is not x
    for _ in range(5):
        a, b = lazy.next_update(), whole.next_update()
        assert a.loss == b.loss and (a.start, a.stop) == (b.start, b.stop)
        for k in a.grads:
            np.testing.assert_array_equal(a.grads[k], b.grads[k])
    with pytest.raises(ValueError, match="x: expected token ids"):
        TruncatedBPTT(model, data.lazy_streams(np.full(50, 99, np.uint8), 2)[0], y, 7, lazy=True)
