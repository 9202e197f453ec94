import numpy as np
import pytest

from bptt.data import text as data


def test_default_corpus_is_embedded_and_deterministic():
    text = data.default_corpus()
    assert len(text) > 300_000 and text == data.default_corpus()
    vocab = data.Vocab.from_text(text)
    assert vocab.decode(vocab.encode(text[:1000])) == text[:1000]


def test_unknown_characters_are_named():
    vocab = data.Vocab("abc")
    with pytest.raises(ValueError, match=r"--prime: expected only characters of the model's vocabulary of 3, got 'xz'"):
        vocab.encode("abzx", name="--prime")


def test_streams_are_contiguous_slices_with_next_char_targets():
    ids = np.arange(21)
    x, y = data.streams(ids, 4)                  # L = 5
    assert x.shape == y.shape == (5, 4)
    np.testing.assert_array_equal(x[:, 1], [5, 6, 7, 8, 9])
    np.testing.assert_array_equal(y, x + 1)
    with pytest.raises(ValueError, match="--batch-size: expected at most 20 for a text of 21 characters, got 30"):
        data.streams(ids, 30)


def test_split_keeps_the_tail_for_validation():
    train, val = data.split(np.arange(100), 0.1)
    assert len(train) == 90 and val[0] == 90


@pytest.mark.parametrize("content,match", [
    (b"", "which is empty"),
    (b"ab\x00cd", "which is binary"),
    (b"caf\xe9", "undecodable byte at offset 3"),
])
def test_bad_text_files(tmp_path, content, match):
    path = tmp_path / "t.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match):
        data.read_text(path)


def test_other_encodings_and_missing_files(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes("café".encode("latin-1"))
    assert data.read_text(path, encoding="latin-1") == "café"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.read_text(tmp_path / "missing.txt")
    with pytest.raises(IsADirectoryError, match="which is a directory"):
        data.read_text(tmp_path)


def test_public_corpus_uses_a_verified_cache(tmp_path, monkeypatch, tinyshakespeare):
    monkeypatch.setenv("BPTT_CACHE", str(tmp_path))
    (tmp_path / "tinyshakespeare.txt").write_bytes(tinyshakespeare.read_bytes())
    assert data.read_text("tinyshakespeare").startswith("First Citizen")


def test_public_corpus_without_network_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("BPTT_CACHE", str(tmp_path))

    def offline(*a, **k):
        raise data.urllib.error.URLError("no network")

    monkeypatch.setattr(data.urllib.request, "urlopen", offline)
    with pytest.raises(ValueError, match="--data tinyshakespeare: could not download .* pass a local copy"):
        data.read_text("tinyshakespeare")
