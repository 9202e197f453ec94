"""The long-lag generators against their papers' definitions, and the baselines by simulation."""

import math

import numpy as np
import pytest

from bptt import tasks


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("name", [n for n in tasks.TASKS if n not in tasks.PAIR_TASKS])   # pairs: test_seq2seq.py
def test_seeded_and_shaped(name):
    task = tasks.TASKS[name]
    T = max(task.min_length, 30)
    a = task.generate(T, 7, rng(3))
    b = task.generate(T, 7, rng(3))
    c = task.generate(T, 7, rng(4))
    for u, v in zip((a.x, a.y, a.mask), (b.x, b.y, b.mask)):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a.x, c.x)
    L, B = a.mask.shape
    assert B == 7 and L >= T
    if task.output == "softmax":
        assert a.x.dtype.kind == "i" and a.x.shape == (L, B) and a.x.max() < task.n_in
        assert a.y.dtype.kind == "i" and a.y.shape == (L, B) and a.y.max() < task.n_out
    else:
        assert a.x.shape == (L, B, task.n_in) and a.y.shape == (L, B, task.n_out)


def test_adding_le_2015():
    T, B = 40, 500
    batch = tasks.adding(T, B, rng())
    values, markers = batch.x[..., 0], batch.x[..., 1]
    assert values.min() >= 0 and values.max() <= 1
    assert np.all(markers.sum(axis=0) == 2)
    assert np.all(markers[:T // 2].sum(axis=0) == 1) and np.all(markers[T // 2:].sum(axis=0) == 1)
    np.testing.assert_allclose(batch.y[-1, :, 0], (values * markers).sum(axis=0))
    assert np.all(batch.mask[-1] == 1) and batch.mask[:-1].sum() == 0
    assert np.all(batch.y[:-1] == 0)


def test_adding_1997_experiment_4():
    T, B = 100, 2000
    batch = tasks.adding_1997(T, B, rng())
    values, markers = batch.x[..., 0], batch.x[..., 1]
    last = batch.mask.argmax(axis=0)                       # each sequence's own last step
    lengths = last + 1
    assert lengths.min() >= T and lengths.max() <= T + T // 10
    assert len(np.unique(lengths)) > 5
    assert np.all(batch.mask.sum(axis=0) == 1)
    cols = np.arange(B)
    assert np.all(markers[last, cols] == -1)
    assert np.all((markers == 1).sum(axis=0) == 2)
    marked = np.sort(np.argwhere((markers == 1).T)[:, 1].reshape(B, 2), axis=1)   # (B, 2) steps
    assert marked[:, 0].max() <= 9                         # one of the first ten
    assert marked[:, 1].max() <= T // 2 - 1                # among the first T/2 - 1 unmarked (+1 skipped)
    # step 0 is -1 unless marked; padding after the end is all zero
    assert np.all((markers[0] == -1) | (markers[0] == 1))
    pad = np.arange(batch.mask.shape[0])[:, None] > last[None, :]
    assert np.all(markers[pad] == 0) and np.all(values[pad] == 0)
    X = (values * (markers == 1)).sum(axis=0)
    np.testing.assert_allclose(batch.y[last, cols, 0], 0.5 + X / 4)
    assert values.min() >= -1 and values.max() <= 1 and values.min() < -0.9


def test_temporal_order_experiment_6a():
    T, B = 100, 2000
    batch = tasks.temporal_order(T, B, rng())
    sym = {c: i for i, c in enumerate(tasks.TEMPORAL_ORDER_SYMBOLS)}
    last = batch.mask.argmax(axis=0)
    cols = np.arange(B)
    assert (last + 1).min() >= 100 and (last + 1).max() <= 110
    assert np.all(batch.x[0] == sym["E"]) and np.all(batch.x[last, cols] == sym["B"])
    relevant = np.isin(batch.x, [sym["X"], sym["Y"]])
    assert np.all(relevant.sum(axis=0) == 2)
    where = np.sort(np.argwhere(relevant.T)[:, 1].reshape(B, 2), axis=1)
    assert where[:, 0].min() == 10 and where[:, 0].max() == 20
    assert where[:, 1].min() == 50 and where[:, 1].max() == 60
    inside = np.arange(batch.x.shape[0])[:, None] < last[None, :]
    others = batch.x[inside & ~relevant]
    assert set(np.unique(others)) == {0, 1, 2, 3, sym["E"]}
    first = batch.x[where[:, 0], cols] - sym["X"]
    second = batch.x[where[:, 1], cols] - sym["X"]
    np.testing.assert_array_equal(batch.y[last, cols], 2 * first + second)
    assert np.bincount(batch.y[last, cols], minlength=4).min() > 400


def test_copy_arjovsky_2016():
    T, B = 30, 100
    batch = tasks.copy_memory(T, B, rng())
    assert batch.x.shape == (T + 20, B)
    assert batch.x[:10].max() <= 7
    assert np.all(batch.x[10:10 + T - 1] == 8) and np.all(batch.x[9 + T] == 9) and np.all(batch.x[T + 10:] == 8)
    assert np.all(batch.y[:T + 10] == 8)
    np.testing.assert_array_equal(batch.y[T + 10:], batch.x[:10])
    assert np.all(batch.mask == 1)


def _onehot_logits(ids, n):
    return np.eye(n)[ids] * 10.0


def test_baselines_by_simulation():
    """What a model that remembers nothing scores, against the closed forms in ``tasks``."""
    r = rng(1)
    # adding: always answer 1
    b = tasks.adding(20, 20000, r)
    o = np.ones_like(b.y)
    assert tasks.mse(o, b) == pytest.approx(1 / 6, rel=0.03)
    # adding-1997: always answer 0.5
    task = tasks.TASKS["adding-1997"]
    b = tasks.adding_1997(24, 100000, r)
    o = np.full_like(b.y, 0.5)
    # 100,000 sequences: the standard error of the fraction is 0.0011
    assert task.metric(o, b) == pytest.approx(task.baseline(24), abs=0.004)
    sel = b.mask != 0
    assert np.mean(0.5 * (o[..., 0] - b.y[..., 0])[sel] ** 2) == pytest.approx(task.loss_baseline(24), rel=0.02)
    # temporal order: the same class every time
    b = tasks.temporal_order(100, 20000, r)
    o = np.zeros(b.y.shape + (4,))
    o[..., 0] = 1
    assert tasks.wrong_class(o, b) == pytest.approx(0.75, abs=0.01)
    # copy: the memoryless strategy's cross-entropy
    T = 30
    b = tasks.copy_memory(T, 50, r)
    p = np.zeros(b.y.shape + (10,))
    p[:T + 10, :, 8] = 1.0
    p[T + 10:, :, :8] = 1 / 8
    ce = -np.mean(np.log(np.take_along_axis(p, b.y[..., None], axis=-1)))
    assert ce == pytest.approx(tasks.TASKS["copy"].loss_baseline(T), rel=1e-12)
    assert ce == pytest.approx(10 * math.log(8) / (T + 20))


def test_metrics_judge_right_and_wrong_answers():
    r = rng(2)
    b = tasks.adding(10, 100, r)
    task = tasks.TASKS["adding"]
    assert task.metric(b.y, b) == 0 and task.solved(0.0)
    assert not task.solved(task.metric(b.y + 0.2, b))           # 0.04 > 0.01
    assert task.solved(task.metric(b.y + 0.09, b))              # 0.0081 < 0.01
    b = tasks.adding_1997(20, 100, r)
    task = tasks.TASKS["adding-1997"]
    assert task.metric(b.y + 0.039, b) == 0
    assert task.metric(b.y + 0.041, b) == 1
    b = tasks.temporal_order(70, 100, r)
    right = _onehot_logits(b.y, 4)
    assert tasks.wrong_class(right, b) == 0
    right[b.mask.argmax(axis=0)[0], 0] = _onehot_logits((b.y[b.mask.argmax(axis=0)[0], 0] + 1) % 4, 4)
    assert tasks.wrong_class(right, b) == pytest.approx(0.01)
    b = tasks.copy_memory(5, 200, r)
    o = _onehot_logits(b.y, 10)
    assert tasks.not_recalled(o, b) == 0
    o[-1, :2] = _onehot_logits((b.y[-1, :2] + 1) % 8, 10)      # one symbol wrong in two sequences
    o[0, 2] = _onehot_logits(np.array(3), 10)                  # a wrong blank does not count
    assert tasks.not_recalled(o, b) == pytest.approx(0.01)
    assert tasks.TASKS["copy"].solved(0.01) and not tasks.TASKS["copy"].solved(0.015)


@pytest.mark.parametrize("name,short", [("adding", 1), ("adding-1997", 11), ("temporal-order", 61), ("copy", 0)])
def test_too_short_is_named(name, short):
    task = tasks.TASKS[name]
    with pytest.raises(ValueError, match=rf"^--length: expected .*{name}.*got {short}$"):
        task.check_length(short)
    task.check_length(short + 1)
    task.generate(short + 1, 3, rng())


def test_every_criterion_reads_as_a_reader_says_it():
    """A fraction-of-failures metric is said as the share of sequences that pass."""
    assert {name: t.criterion for name, t in tasks.TASKS.items()} == {
        "adding": "mse < 0.01",
        "adding-1997": "at least 99% of sequences answered within 0.04",
        "temporal-order": "at least 99% of sequences classified right",
        "copy": "at least 99% of sequences recalled whole",
        "lookahead": "wrong labels <= 0.01",
        "reverse": "at least 99% of sequences returned whole (free-running)",
        "sort": "at least 99% of sequences returned whole (free-running)",
    }
    for t in tasks.TASKS.values():      # the words and the test agree at the threshold
        assert t.solved(t.threshold) == t.inclusive and not t.solved(t.threshold * 1.01)


def _lags(name, T, batch):
    """(B,) each sequence's longest lag: from the earliest input its answer needs to that answer."""
    last = batch.mask.shape[0] - 1 - np.argmax(batch.mask[::-1], axis=0)   # each sequence's last target
    if name in ("adding", "adding-1997"):                 # the first value marked 1
        first = np.argmax(batch.x[..., 1] == 1, axis=0)
    elif name == "temporal-order":                        # the first X or Y
        X, Y = (tasks.TEMPORAL_ORDER_SYMBOLS.index(c) for c in "XY")
        first = np.argmax((batch.x == X) | (batch.x == Y), axis=0)
    elif name == "lookahead":                             # the offset at which the labels repeat the inputs
        L = batch.x.shape[0]
        k = next(k for k in range(1, L) if np.all((batch.y[:L - k] == batch.x[k:]) | (batch.mask[:L - k] == 0)))
        return np.full(batch.x.shape[1], k)
    else:                                                 # the first symbol (step 0) and where it is recalled
        return np.argmax(batch.y != tasks.COPY_BLANK, axis=0) - np.argmax(batch.x != tasks.COPY_BLANK, axis=0)
    return last - first


@pytest.mark.parametrize("name,T", [("adding", 20), ("adding-1997", 20), ("temporal-order", 62), ("copy", 15),
                                    ("lookahead", 20)])
def test_max_lag_is_the_longest_lag_the_sequences_hold(name, T):
    """T_max of the chrono initialisation: no sequence asks for more, and some ask for exactly that."""
    task = tasks.TASKS[name]
    lags = _lags(name, T, task.generate(T, 6000, rng(1)))
    assert lags.max() == task.max_lag(T)
