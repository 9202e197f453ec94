"""`--gradient rtrl | uoro | snap1` in `bptt train` and `bptt task`: the updates are the walk's,
a run resumes bit for bit, and exact RTRL is refused where its cost would not fit."""

import json

import numpy as np
import pytest

from bptt import checkpoint
from bptt.cli import main
from bptt.data import tasks
from bptt.train.online import RTRL_MAX_MADDS, rtrl_cost, sequence_updates
from bptt.train.task import TaskConfig, build_model, train
from bptt.train.text import TrainConfig, Trainer

TEXT = "the quick brown fox jumps over the lazy dog. " * 30
ONLINE = ("rtrl", "uoro", "snap1")


def small(**changes):
    values = dict(hidden=8, seq_length=8, batch_size=2, steps=12, eval_every=6, sample_every=0, dtype="float64")
    return TrainConfig(**{**values, **changes})


def test_rtrls_updates_are_bptts_with_the_past_never_truncated(tmp_path):
    """Without a parameter change between them, exact RTRL's first update is truncated BPTT's
    (nothing before the first window), and its second is BPTT's through both windows."""
    online = Trainer(small(gradient="rtrl"), TEXT, tmp_path / "a")
    cut = Trainer(small(), TEXT, tmp_path / "b")                       # k2 = k1
    deep = Trainer(small(bptt_depth=16), TEXT, tmp_path / "c")         # k2 reaches the stream's start
    a1, b1, c1 = online.walk.next_update(), cut.walk.next_update(), deep.walk.next_update()
    a2, b2, c2 = online.walk.next_update(), cut.walk.next_update(), deep.walk.next_update()
    for k in a1.grads:
        np.testing.assert_allclose(a1.grads[k], b1.grads[k], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(a2.grads[k], c2.grads[k], rtol=1e-10, atol=1e-14)
    assert not all(np.allclose(a2.grads[k], b2.grads[k]) for k in a2.grads)   # the cut one differs
    assert (a2.start, a2.stop) == (8, 16) and a2.loss == pytest.approx(b2.loss, rel=1e-12)


@pytest.mark.parametrize("gradient", ONLINE)
def test_an_online_run_resumes_bit_for_bit(tmp_path, gradient):
    whole = Trainer(small(gradient=gradient), TEXT, tmp_path / "whole")
    whole.run()
    half = Trainer(small(gradient=gradient, steps=6), TEXT, tmp_path / "half")
    half.run()
    resumed = Trainer.resume(tmp_path / "half", TEXT, 12)
    resumed.run()
    a, b = checkpoint.load(tmp_path / "whole").model.params, checkpoint.load(tmp_path / "half").model.params
    assert all(np.array_equal(a[k], b[k]) for k in a)
    losses = [[r["loss"] for r in map(json.loads, (tmp_path / run / "metrics.jsonl").read_text().splitlines())
               if "loss" in r] for run in ("whole", "half")]
    assert losses[0] == losses[1]
    state = checkpoint.load(tmp_path / "half").state
    assert any(k.startswith("walk/influence/") for k in state)


def test_task_updates_every_seq_length_steps_that_carry_a_target():
    config = TaskConfig(task="copy", cell="gru", length=3, hidden=6, batch_size=4, gradient="snap1",
                        seq_length=5, dtype="float64").validate()
    model = build_model(config)
    batch = tasks.get("copy").generate(3, 4, np.random.default_rng(0))
    got = list(sequence_updates("snap1", model, batch.x, batch.y, batch.mask, 5, None))
    assert len(got) == -(-batch.x.shape[0] // 5) and all(t == 20.0 for _, t in got[:-1])
    adding = tasks.get("adding").generate(10, 4, np.random.default_rng(0))       # a target at the end only
    one = list(sequence_updates("rtrl", model_for("adding"), adding.x, adding.y, adding.mask, 3, None))
    assert len(one) == 1 and one[0][1] == 4.0
    exact = list(sequence_updates("rtrl", model_for("adding"), adding.x, adding.y, adding.mask, None, None))
    bptt = list(sequence_updates("bptt", model_for("adding"), adding.x, adding.y, adding.mask, None, None))
    for k in exact[0][0].grads:
        np.testing.assert_allclose(exact[0][0].grads[k], bptt[0][0].grads[k], rtol=1e-10, atol=1e-15)


def model_for(task):
    return build_model(TaskConfig(task=task, cell="lstm", hidden=5, dtype="float64"))


@pytest.mark.parametrize("gradient", ONLINE)
def test_bptt_task_trains_online(tmp_path, gradient):
    config = TaskConfig(task="adding", cell="gru", length=10, hidden=8, batch_size=8, steps=20, lr=1e-2,
                        eval_every=10, eval_size=50, gradient=gradient, seq_length=5)
    result = train(config, tmp_path / "run")
    assert result["updates"] == 20 and result["config"]["gradient"] == gradient
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["sequences"] == 20 * 8            # adding's one target per sequence: one update per batch
    assert all(np.isfinite(r["loss"]) for r in rows)


def test_the_rtrl_limit_is_the_measured_cost():
    from bptt.nn.cells import RNNCell
    madds, size = rtrl_cost(RNNCell(), 8, 128, 1)
    assert madds == 128 * 128 * 128 * (8 + 128 + 1) and size == 2 * 128 * 128 * (8 + 128 + 1) * 8
    assert rtrl_cost(RNNCell(), 8, 64, 1)[0] < RTRL_MAX_MADDS < rtrl_cost(RNNCell(), 65, 128, 32)[0]


@pytest.mark.parametrize("argv,message", [
    (["task", "adding", "--gradient", "rtrl", "--hidden", "256"],
     "--gradient: expected a model small enough for exact RTRL"),
    (["task", "adding", "--gradient", "uoro", "--layers", "2"], "--gradient: expected bptt with --layers 2"),
    (["task", "adding", "--seq-length", "5"], "--seq-length: expected only with --gradient rtrl, uoro or snap1"),
    (["task", "adding", "--gradient", "sgd"], "--gradient"),
    (["train", "--gradient", "rtrl"], "--gradient: expected a model small enough for exact RTRL"),
    (["train", "--gradient", "uoro", "--bptt-depth", "3"], "--bptt-depth: expected only with --gradient bptt"),
])
def test_refusals_are_one_line_and_write_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "run"
    assert main([*argv, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("bptt: error: ") and message in err[0], err
    assert not (out / "checkpoint.npz").exists() and not (out / "result.json").exists()
