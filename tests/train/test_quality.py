"""bptt trains like PyTorch: same weights, batches and optimiser give the same validation losses."""

import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from quality import compare  # noqa: E402


def test_training_tracks_torch_in_float64(tinyshakespeare):
    text = tinyshakespeare.read_text()[:200_000]
    rows, _, _ = compare(text, steps=60, hidden=32, seq_length=32, batch_size=16, lr=2e-3, clip=5.0,
                         dtype="float64", checkpoints={1, 30, 60})
    assert [r[0] for r in rows] == [1, 30, 60]
    for step, ours, theirs, param_diff in rows:
        assert abs(ours - theirs) < 1e-6, (step, ours, theirs)
        assert param_diff < 1e-9
    assert rows[-1][1] < rows[0][1] - 0.3                          # and it is learning


def test_the_embedding_baseline_runs_both_sides_on_the_same_batches(tinyshakespeare):
    from quality import versus_embedding
    text = tinyshakespeare.read_text()[:50_000]
    rows, _, _ = versus_embedding(text, steps=30, hidden=16, seq_length=16, batch_size=8, lr=2e-3, clip=5.0,
                                  dtype="float32", seed=0, checkpoints={1, 30})
    assert [r[0] for r in rows] == [1, 30]
    assert rows[-1][1] < rows[0][1] and rows[-1][2] < rows[0][2]          # both learn
