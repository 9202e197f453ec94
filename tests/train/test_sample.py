"""Sampling's distribution: greedy at temperature 0, a valid distribution at every positive one."""

import numpy as np
import pytest

from bptt.cli import main
from bptt.data import Vocab
from bptt.nn.network import Network
from bptt.train.sample import next_distribution, sample
from cells import CELLS


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("temperature", [1e-40, 5e-324, 1e-300, 1e-8, 0.5, 1.0, 3.0, 1e300])
def test_every_positive_temperature_gives_a_distribution(dtype, temperature):
    o = np.array([2.0, -1.0, 3.5, 3.0, -50.0], dtype=dtype)
    p = next_distribution(o, temperature)
    assert p.dtype == np.float64 and np.all(np.isfinite(p)) and np.all(p >= 0)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    if temperature <= 1e-8:
        assert p[2] == 1.0                                      # the limit: all mass on the argmax
    if temperature == 1.0:
        np.testing.assert_allclose(p, np.exp(o - o.max()) / np.exp(o - o.max()).sum(), rtol=1e-6)


def test_temperature_zero_is_the_argmax_and_ties_take_the_first():
    assert next_distribution(np.array([1.0, 4.0, 4.0, 0.0]), 0).tolist() == [0, 1, 0, 0]


def model_and_vocab(cell="rnn"):
    return Network.create(cell, 4, 6, 4, seed=1, dtype=np.float32), Vocab("abcd")


def greedy_by_hand(model, vocab, length):
    h, out = np.zeros((1, 6), dtype=np.float32), []
    p = model.params
    for _ in range(length):
        i = int(np.argmax(p["c"] + h[0] @ p["V"].T))
        out.append(i)
        h = np.tanh(p["U"][:, i] + p["b"] + h @ p["W"].T)
    return vocab.decode(out)


def assert_greedy_by_forward(model, vocab, text):
    """Each character the argmax of the readout of the unrolled forward over those before it
    (the first: of the zero state's, c)."""
    ids = vocab.encode(text)
    assert ids[0] == int(np.argmax(model.params["c"]))
    trace = model.forward(ids[:-1, None])
    np.testing.assert_array_equal(np.argmax(trace.o[:, 0], axis=-1), ids[1:])


@pytest.mark.parametrize("cell", CELLS)
def test_greedy_sampling_picks_the_most_likely_character_and_needs_no_seed(cell):
    model, vocab = model_and_vocab(cell)
    greedy = sample(model, vocab, "", 30, temperature=0.0, seed=None)
    if cell == "rnn":
        assert greedy == greedy_by_hand(model, vocab, 30)
    assert_greedy_by_forward(model, vocab, greedy)
    assert sample(model, vocab, "", 30, temperature=0.0, seed=5) == greedy
    # a float32 model at a temperature whose o / T overflows float32 draws the same characters
    assert sample(model, vocab, "", 30, temperature=1e-40, seed=7) == greedy


@pytest.fixture
def run(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("the quick brown fox jumps over the lazy dog. " * 30)
    out = tmp_path / "run"
    assert main(["train", str(path), "--steps", "10", "--hidden", "8", "--seq-length", "8", "--batch-size", "4",
                 "--sample-every", "0", "--quiet", "--out", str(out)]) == 0
    return out


def test_cli_argmax_and_temperature_zero_agree(run, capsys):
    capsys.readouterr()
    assert main(["sample", str(run), "--argmax", "--length", "40", "--prime", "the"]) == 0
    argmax = capsys.readouterr().out
    assert main(["sample", str(run), "--temperature", "0", "--length", "40", "--prime", "the"]) == 0
    assert capsys.readouterr().out == argmax
    assert main(["sample", str(run), "--temperature", "1e-40", "--length", "40", "--prime", "the", "--seed", "1"]) == 0
    assert capsys.readouterr().out == argmax
