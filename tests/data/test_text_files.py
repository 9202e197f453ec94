"""Text files as people have them: a byte-order mark, Windows or old-Mac line endings, UTF-16/32,
read the same whichever chunk boundary the streaming path cuts them at."""

import json

import numpy as np
import pytest

from bptt import checkpoint
from bptt.data import text as data
from bptt.cli import main

BODY = "first line\nsecond, naïve café\nthird 🦊 line\n" * 5


def read_both_ways(path, monkeypatch, chunk, **kw):
    """The corpus streamed in chunks of ``chunk`` bytes, and read_text's whole string."""
    monkeypatch.setattr(data, "CHUNK_BYTES", chunk)
    corpus = data.Corpus.from_file(path, **kw)
    return corpus, data.read_text(path, **kw)


@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 5, 7, 64, 1 << 20])
def test_a_utf8_byte_order_mark_is_not_a_character(tmp_path, monkeypatch, chunk):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + BODY.encode("utf-8"))
    corpus, text = read_both_ways(path, monkeypatch, chunk)
    assert text == BODY and "\ufeff" not in corpus.vocab.chars
    np.testing.assert_array_equal(np.asarray(corpus.ids), data.Corpus.from_text(BODY).ids)
    assert corpus.sha256 == data.Corpus.from_text(BODY).sha256


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 11, 12, 13, 1 << 20])
def test_crlf_and_lone_cr_become_newlines_whatever_the_chunk_boundary(tmp_path, monkeypatch, chunk):
    path = tmp_path / "windows.txt"
    raw = BODY.replace("\n", "\r\n") + "old mac\rline\r"          # \r\n split across every boundary
    path.write_bytes(raw.encode("utf-8"))
    corpus, text = read_both_ways(path, monkeypatch, chunk)
    want = BODY + "old mac\nline\n"
    assert text == want and "\r" not in corpus.vocab.chars
    np.testing.assert_array_equal(np.asarray(corpus.ids), data.Corpus.from_text(want).ids)
    kept, text = read_both_ways(path, monkeypatch, chunk, newline="keep")
    assert text == raw and "\r" in kept.vocab.chars and len(kept) == len(raw)


@pytest.mark.parametrize("encoding,suggest", [("utf-16-le", "utf-16"), ("utf-16-be", "utf-16"),
                                              ("utf-32-le", "utf-32"), ("utf-32-be", "utf-32")])
def test_utf16_and_utf32_files_are_named_and_read_with_the_suggested_encoding(tmp_path, monkeypatch, encoding,
                                                                             suggest):
    path = tmp_path / "wide.txt"
    path.write_bytes(("\ufeff" + BODY).encode(encoding))
    with pytest.raises(ValueError) as err:
        data.Corpus.from_file(path)
    message = str(err.value)
    assert f"{suggest.upper()} byte-order mark" in message and f"--encoding {suggest}" in message
    assert "binary" not in message and "wide.txt" in message
    corpus, text = read_both_ways(path, monkeypatch, 3, encoding=suggest)     # NUL bytes are characters' halves
    assert text == BODY and "\ufeff" not in corpus.vocab.chars


def test_a_wrong_encoding_names_the_file_and_the_flag(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text(BODY)
    with pytest.raises(ValueError, match=r"--encoding: expected a known text encoding to read FILE '.*t\.txt', "
                                         r"got 'klingon'"):
        data.Corpus.from_file(path, encoding="klingon")
    # utf-16 with no byte-order mark fails in the codec with a bare UnicodeError, not a decode error
    with pytest.raises(ValueError, match=r"FILE: expected utf-16 text, got '.*t\.txt', .*--encoding"):
        data.read_text(path, encoding="utf-16")
    odd = tmp_path / "odd.txt"
    odd.write_bytes(b"abc")                                     # half a UTF-16 code unit at the end
    with pytest.raises(ValueError, match=r"FILE: expected utf-16-le text, got '.*odd\.txt' .*offset 2 .*--encoding"):
        data.read_text(odd, encoding="utf-16-le")


def test_the_newline_mode_is_recorded_and_a_resume_reads_the_text_the_same_way(tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes((BODY * 4).replace("\n", "\r\n").encode("utf-8"))
    small = ["--hidden", "8", "--seq-length", "8", "--batch-size", "2", "--sample-every", "0", "--quiet"]
    for mode in ("normalize", "keep"):
        run = tmp_path / mode
        assert main(["train", str(path), "--steps", "3", "--newline", mode, "--out", str(run), *small]) == 0
        source = json.loads((run / "source.json").read_text())
        assert source["newline"] == mode
        assert ("\r" in checkpoint.load(run).vocab.chars) == (mode == "keep")
        assert main(["train", "--resume", str(run), "--steps", "5", "--quiet"]) == 0
    # the other mode reads another text: refused, saying how it differs
    assert main(["train", str(path), "--resume", str(tmp_path / "keep"), "--newline", "normalize", "--quiet"]) == 2
