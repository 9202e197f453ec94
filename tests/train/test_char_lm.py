"""bptt train's stacked LSTM trains like nn.LSTM(num_layers=2) from the same weights on the same streams."""

import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from char_lm import compare  # noqa: E402

from bptt.train.text import TrainConfig  # noqa: E402


@pytest.fixture(autouse=True)
def one_torch_thread():
    """At these sizes a second thread only synchronises, and on a busy machine it spins."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("cell, layers", [("lstm", 2), ("rnn", 2)])
def test_stack_tracks_torch_in_float64(tinyshakespeare, cell, layers):
    # 5978 characters: 5380 for training in 8 streams of 672 steps, 42 windows of 16, so 50
    # updates cross an epoch's end (the state reset to zero). A length that leaves a short last
    # window would part the two there: bptt's walk back-propagates it through k2 steps, into the
    # previous window's history, where the twin stops at the window's edge.
    text = tinyshakespeare.read_text()[:5978]
    config = TrainConfig(cell=cell, layers=layers, hidden=12, seq_length=16, batch_size=8, steps=50, lr=1e-2,
                         clip=5.0, dtype="float64", sample_every=0)
    partials = []
    result = compare(text, config, {1, 10, 43, 44, 50}, progress=lambda step, seconds: None,
                     on_row=partials.append)
    rows = result["rows"]
    assert result["train_chars"] == 8 * 42 * 16                    # whole windows only
    assert [r["step"] for r in rows] == [1, 10, 43, 44, 50]
    assert [len(p["rows"]) for p in partials] == [1, 2, 3, 4, 5]   # every point reported as it is measured
    assert 10 <= result["clipped"] < 50                            # the clip is exercised, and not always
    for r in rows:
        assert abs(r["bptt"] - r["torch"]) < 1e-10, r
        assert r["param_diff"] < 1e-10, r
    assert abs(result["torch_own"] - rows[-1]["torch"]) < 1e-10     # evaluate() reads torch's weights right
    assert rows[-1]["bptt"] < rows[0]["bptt"] - 0.5                  # and it is learning


def test_baseline_trains_alongside(tinyshakespeare):
    text = tinyshakespeare.read_text()[:5978]
    config = TrainConfig(cell="lstm", layers=2, hidden=8, seq_length=16, batch_size=8, steps=3, lr=1e-2,
                         dtype="float64", sample_every=0)
    rnn = TrainConfig(cell="rnn", layers=1, hidden=8, seq_length=16, batch_size=8, steps=3, lr=1e-2,
                      dtype="float64", sample_every=0)
    result = compare(text, config, {3}, baseline=rnn)
    row = result["rows"][0]
    assert set(result["seconds"]) == {"bptt", "torch", "baseline"}
    assert row["baseline"] != row["bptt"] and 3.5 < row["baseline"] < 4.5


@pytest.mark.parametrize("argv, named", [(["--eval-at", "0"], "--eval-at"), (["--hidden", "0"], "--hidden"),
                                         (["--dtype", "float16"], "--dtype"), (["--data", "MISSING"], "--data")])
def test_bad_input_is_one_line(tmp_path, capsys, argv, named):
    from char_lm import main
    text = tmp_path / "text.txt"
    text.write_text("abcdefgh" * 100)
    argv = [a.replace("MISSING", str(tmp_path / "missing.txt")) for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(tmp_path / "out"), "--data", str(text), "--steps", "5", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and named in err, err
    assert not (tmp_path / "out").exists()                         # nothing written
