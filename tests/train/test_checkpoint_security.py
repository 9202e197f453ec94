"""An untrusted checkpoint cannot run code, write outside its folder, or exhaust memory."""

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from bptt import checkpoint
from bptt.train.text import TrainConfig, Trainer

import crafted

TEXT = "the quick brown fox jumps over the lazy dog. " * 30


@pytest.fixture(scope="module")
def crafted_checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("crafted")
    Trainer(TrainConfig(hidden=8, seq_length=4, batch_size=2, steps=2, eval_every=1, sample_every=0),
            TEXT, root / "good").run()
    return root, crafted.variants(root / "good" / checkpoint.FILENAME, root / "bad")


def tree(root: Path) -> set:
    return {p.relative_to(root) for p in root.rglob("*")}


EXPECTED = {
    "truncated": "not one|damaged",
    "not a zip": r"expected a bptt checkpoint \(.npz\), got a file that is not one",
    "missing array": r"got missing \['params/W'\]",
    "extra array": "got a member named 'extra.npy'",
    "wrong shape": r"params\['W'\]: expected a float array of shape \(8, 8\)",
    "wrong dtype": "expected params/W of dtype float32, got float64",
    "integer weights": "expected params/W of dtype float32, got int32",
    "future version": r"expected format version <= 1, got 99 \(written by a newer bptt\? upgrade to read it\)",
    "nan weights": r"params\['b'\]: expected finite values, got nan",
    "inf state": "state/opt/m/W: expected finite values",
    "object array": r"'state/evil.npy', got dtype object \(objects and pickles are never loaded\)",
    "pickled params": r"'params/W.npy', got dtype object \(objects and pickles are never loaded\)",
    "path traversal": "got a member named '../escaped.npy'",
    "absolute path": "got a member named '/",
    "traversal under state": "got a member named 'state/../../escaped.npy'",
    "huge declared shape": r"expected 8000000000000 bytes of data for shape \(1000000000000,\) float64 in 'state/big.npy', got 80",
    "huge declared model": r"params\['U'\]: expected a float array of shape \(1000000000, \d+\)",
    "meta not json": "expected JSON metadata, got unreadable meta.json",
    "meta nested deep": "expected JSON metadata, got unreadable meta.json",
    "raw pickle": "got a file that is not one",
}


def test_every_flaw_is_planted(crafted_checkpoints):
    assert set(crafted_checkpoints[1]) == set(EXPECTED)


@pytest.mark.parametrize("flaw", sorted(EXPECTED))
def test_a_crafted_checkpoint_is_refused_by_name_and_touches_nothing(crafted_checkpoints, flaw):
    root, paths = crafted_checkpoints
    before = tree(root.parent)
    with pytest.raises(ValueError, match=EXPECTED[flaw]) as err:
        checkpoint.load(paths[flaw])
    message = str(err.value)
    assert message.startswith(f"CHECKPOINT {str(paths[flaw])!r}: ") and "\n" not in message
    assert tree(root.parent) == before                  # nothing written, inside or outside its folder
    assert not (root / "bad" / "PWNED").exists()        # no pickle ran


def test_resume_refuses_them_the_same_way(crafted_checkpoints):
    root, paths = crafted_checkpoints
    for flaw, path in paths.items():
        with pytest.raises(ValueError) as err:
            Trainer.resume(path.parent, TEXT, None)
        assert str(err.value).startswith("--resume ") and "\n" not in str(err.value), flaw
    assert not (root / "bad" / "PWNED").exists()


def test_a_zip_bomb_is_refused_before_inflating(crafted_checkpoints, monkeypatch):
    root, _ = crafted_checkpoints
    parts = crafted.members(root / "good" / checkpoint.FILENAME)
    bomb = root / "bomb" / checkpoint.FILENAME
    bomb.parent.mkdir()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
        zf.writestr("state/zeros.npy", crafted.npy(np.zeros(2_000_000, np.uint8)))   # 2 MB in ~2 kB
    assert bomb.stat().st_size < 100_000
    monkeypatch.setattr(checkpoint, "MAX_BYTES", 1_000_000)       # the real limit is 2 GiB
    with pytest.raises(ValueError, match=r"expected at most 1000000 bytes of arrays, got members declaring \d+ bytes"):
        checkpoint.load(bomb)
    monkeypatch.setattr(checkpoint, "MAX_BYTES", 1000)
    with pytest.raises(ValueError, match=r"expected a checkpoint of at most 1000 bytes, got \d+ bytes"):
        checkpoint.load(bomb)


def test_a_fifo_is_refused_rather_than_read_forever(tmp_path):
    fifo = tmp_path / "checkpoint.npz"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="which is not a regular file"):
        checkpoint.load(fifo)


def test_the_good_one_still_loads(crafted_checkpoints):
    root, _ = crafted_checkpoints
    ck = checkpoint.load(root / "good")
    assert ck.meta["step"] == 2 and all(np.all(np.isfinite(v)) for v in ck.model.params.values())
