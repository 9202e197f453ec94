import json
import zipfile

import numpy as np
import pytest

from bptt import SimpleRNN, checkpoint
from bptt.data import Vocab


def saved(tmp_path, **kw):
    model = SimpleRNN(4, 3, 4, seed=0, **kw)
    path = checkpoint.save(tmp_path / "run" / "checkpoint.npz", model, vocab=Vocab("abcd"),
                           meta={"step": 7}, state={"adam/m/W": np.ones((3, 3))})
    return model, path


def test_round_trip_from_file_or_folder(tmp_path):
    model, path = saved(tmp_path, dtype=np.float32)
    for where in (path, path.parent):
        ck = checkpoint.load(where)
        assert ck.vocab.chars == "abcd" and ck.meta == {"step": 7}
        assert ck.model.dtype == np.float32
        for k in model.params:
            np.testing.assert_array_equal(ck.model.params[k], model.params[k])
        np.testing.assert_array_equal(ck.state["adam/m/W"], np.ones((3, 3)))
    assert [p.name for p in path.parent.iterdir()] == ["checkpoint.npz"]   # no temp files left


def test_non_finite_is_never_written_and_the_old_file_survives(tmp_path):
    model, path = saved(tmp_path)
    before = path.read_bytes()
    model.params["W"][0, 0] = np.nan
    with pytest.raises(ValueError, match="params/W: refusing to save a checkpoint with non-finite values"):
        checkpoint.save(path, model)
    assert path.read_bytes() == before


def _rewrite(path, mutate):
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(arrays["meta.json"].tobytes())
    mutate(arrays, header)
    arrays["meta.json"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, **arrays)


@pytest.mark.parametrize("mutate,match", [
    (lambda a, h: a.pop("params/W"), r"missing \['params/W'\]"),
    (lambda a, h: a.__setitem__("extra", np.zeros(2)), r"got a member named 'extra.npy'"),
    (lambda a, h: a.__setitem__("params/W", np.zeros((2, 2))), r"params\['W'\]: expected a float array of shape \(3, 3\)"),
    (lambda a, h: a.__setitem__("params/W", np.zeros((3, 3), np.float32)), r"expected params/W of dtype float64, got float32"),
    (lambda a, h: a.__setitem__("params/b", np.full(3, np.nan)), r"params\['b'\]: expected finite values"),
    (lambda a, h: h.__setitem__("version", 99), r"expected format version <= 1, got 99"),
    (lambda a, h: h.__setitem__("format", "other"), r"expected format 'bptt-checkpoint', got 'other'"),
    (lambda a, h: h.__setitem__("vocab", "abc"), r"expected a vocabulary of 4 distinct characters"),
    (lambda a, h: h["model"].__setitem__("n_hidden", -1), r"n_hidden: expected a positive integer"),
])
def test_bad_checkpoints_are_named(tmp_path, mutate, match):
    _, path = saved(tmp_path)
    _rewrite(path, mutate)
    with pytest.raises(ValueError, match=match):
        checkpoint.load(path)


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "a.npz").write_text("hello")
    with pytest.raises(ValueError, match=r"expected a bptt checkpoint \(.npz\), got a file that is not one"):
        checkpoint.load(tmp_path / "a.npz")
    _, path = saved(tmp_path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="CHECKPOINT"):
        checkpoint.load(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        checkpoint.load(tmp_path / "nope.npz")
    with pytest.raises(FileNotFoundError, match="without one"):
        checkpoint.load(tmp_path)


def test_a_pickled_object_array_is_refused(tmp_path):
    _, path = saved(tmp_path)
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["state/evil"] = np.array([object()], dtype=object)
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="got dtype object .objects and pickles are never loaded"):
        checkpoint.load(path)
    assert zipfile.is_zipfile(path)
