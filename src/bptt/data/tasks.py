"""The long-lag tasks: seeded generators, each with its paper's definition and success criterion.

A task makes batches of (x, y, mask) that a model reads as they are: ``model.forward(x)`` and
``model.backward(trace, y, mask)``; nothing else sits between the generator and the model.
Every task has a baseline (what a model that remembers nothing scores) and a criterion
(when the task counts as solved), both on a held-out set of fresh sequences.

    adding          Le, Jaitly & Hinton (2015), "A simple way to initialize recurrent networks of
                    rectified linear units", sec. 4.1; Arjovsky, Shah & Bengio (2016), "Unitary
                    evolution recurrent neural networks", sec. 4.2.
    adding-1997     Hochreiter & Schmidhuber (1997), "Long short-term memory", Neural Computation
                    9(8), experiment 4 (the adding problem).
    temporal-order  the same paper, experiment 6a (two relevant, widely separated symbols).
    copy            Arjovsky, Shah & Bengio (2016), sec. 4.1 (the copying memory problem).
    lookahead       a sequence-labelling task whose label at t is an input after t: what a
                    bidirectional RNN (Goodfellow et al. 10.3) reads and a causal one cannot.
    running-sum     y(t) = (x(1) + ... + x(t)) mod 8: the previous answer and the current input
                    determine the next answer, so the output can carry all the state that the
                    output-recurrent network of Goodfellow et al. figure 10.4 has (``running_sum``;
                    a generator for that network, not a task ``bptt task`` trains).
    reverse, sort   sequence to sequence (Goodfellow et al. 10.4; Sutskever, Vinyals & Le 2014
                    reverse their inputs; Vinyals, Bengio & Kudlur 2016 sort numbers): a
                    ``Pairs`` batch for ``Seq2Seq``, scored by free-running decoding.

Shape legend: T time, B batch, I inputs, O outputs. Steps count from 0.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import _validate as check


@dataclass(frozen=True)
class Batch:
    """x: float (T, B, I) or token ids int (T, B); y: float (T, B, O) or class ids int (T, B);
    mask: float (T, B), 1 at the steps that carry a target, 0 elsewhere (padding included)."""

    x: np.ndarray
    y: np.ndarray
    mask: np.ndarray


# ------------------------------------------------------------------------------------ adding
def adding(length: int, batch: int, rng: np.random.Generator) -> Batch:
    """The adding problem as Le et al. (2015) and Arjovsky et al. (2016) pose it.

    Each step is the pair x(t) = (value uniform in [0, 1], marker); the marker is 1 at two
    steps, one drawn uniformly from the first half [0, T/2), one from the second [T/2, T),
    and 0 elsewhere. The target, read at the last step only, is the sum of the two marked
    values; squared error. Always answering 1 scores an MSE of Var(X1 + X2) = 2/12 = 1/6
    (Arjovsky et al. give 0.167). Solved here: MSE below 0.01 on 1,000 fresh sequences, our
    threshold (6% of that baseline); the papers plot the MSE against training steps instead.
    """
    T, B = length, batch
    values = rng.uniform(0.0, 1.0, size=(T, B))
    half = T // 2
    first = rng.integers(0, half, size=B)                        # (B,) in the first half
    second = rng.integers(half, T, size=B)                       # (B,) in the second half
    cols = np.arange(B)
    x = np.zeros((T, B, 2))                                      # (T, B, I=2)
    x[:, :, 0] = values
    x[first, cols, 1] = 1.0
    x[second, cols, 1] = 1.0
    y = np.zeros((T, B, 1))                                      # (T, B, O=1)
    y[-1, :, 0] = values[first, cols] + values[second, cols]
    mask = np.zeros((T, B))
    mask[-1] = 1.0
    return Batch(x, y, mask)


# ------------------------------------------------------------------------------- adding-1997
def adding_1997(length: int, batch: int, rng: np.random.Generator) -> Batch:
    """The adding problem of Hochreiter & Schmidhuber (1997), experiment 4.

    Each step is the pair (value uniform in [-1, 1], marker in {1, 0, -1}). A sequence's
    length is drawn uniformly from [T, T + T/10]. One of the first ten steps is marked 1 (its
    value is X1), then one of the first T/2 - 1 steps still unmarked (X2); the first and the
    last step are marked -1 unless marked 1 (X1 is set to 0 in the rare case that the first
    mark falls on step 0). The target at the sequence's last step is 0.5 + (X1 + X2) / 4, the sum scaled to
    [0, 1]; a sequence is processed correctly when the absolute error there is below 0.04.
    The paper's LSTM at T = 100 needed 74,000 training sequences and then got 1 of 2,560
    test sequences wrong.

    Sequences shorter than the batch's longest are padded at the end; the mask marks each
    sequence's own last step, and the steps after it cannot change the output before them.
    """
    T, B = length, batch
    lengths = rng.integers(T, T + T // 10 + 1, size=B)           # (B,) in [T, T + T/10]
    L = int(lengths.max())
    cols = np.arange(B)
    values = rng.uniform(-1.0, 1.0, size=(L, B))
    markers = np.zeros((L, B))
    markers[0] = -1.0
    markers[lengths - 1, cols] = -1.0
    first = rng.integers(0, 10, size=B)                          # one of the first ten steps
    # the k-th of the first T/2 - 1 still unmarked steps: skip over the first mark
    k = rng.integers(0, T // 2 - 1, size=B)
    second = k + (k >= first)
    markers[first, cols] = 1.0
    markers[second, cols] = 1.0
    values[0, first == 0] = 0.0                                  # X1 = 0 when step 0 is marked
    pad = np.arange(L)[:, None] >= lengths[None, :]              # (L, B) steps after each end
    values[pad] = 0.0
    markers[pad] = 0.0
    x = np.stack([values, markers], axis=-1)                     # (L, B, I=2)
    y = np.zeros((L, B, 1))                                      # (L, B, O=1)
    y[lengths - 1, cols, 0] = 0.5 + (values[first, cols] + values[second, cols]) / 4.0
    mask = np.zeros((L, B))
    mask[lengths - 1, cols] = 1.0
    return Batch(x, y, mask)


# ---------------------------------------------------------------------------- temporal order
TEMPORAL_ORDER_SYMBOLS = "abcdXYBE"                              # token ids 0..7
TEMPORAL_ORDER_CLASSES = ("XX", "XY", "YX", "YY")                # the paper's Q, R, S, U
T1_RANGE, T2_RANGE = (10, 20), (50, 60)


def temporal_order(length: int, batch: int, rng: np.random.Generator) -> Batch:
    """Hochreiter & Schmidhuber (1997), experiment 6a: two relevant, widely separated symbols.

    A sequence starts with E, ends with the trigger symbol B, and is otherwise drawn from the
    distractors {a, b, c, d}, except at steps t1 in [10, 20] and t2 in [50, 60], which are X or
    Y. Its length is drawn from [T, T + T/10] (the paper: 100 to 110, T = 100). The class, read
    at the last step, is the order of the two: XX, XY, YX or YY (the paper's Q, R, S, U). Here a
    sequence is correct when the softmax output's most likely class is right (the paper asks
    every output unit to be within 0.3 of its target). The paper's LSTM needed 31,390
    training sequences and got 1 of 2,560 test sequences wrong.
    """
    T, B = length, batch
    sym = {c: i for i, c in enumerate(TEMPORAL_ORDER_SYMBOLS)}
    lengths = rng.integers(T, T + T // 10 + 1, size=B)           # (B,)
    L = int(lengths.max())
    cols = np.arange(B)
    x = rng.integers(0, 4, size=(L, B))                          # (L, B) distractors a..d
    x[0] = sym["E"]
    x[lengths - 1, cols] = sym["B"]
    t1 = rng.integers(T1_RANGE[0], T1_RANGE[1] + 1, size=B)
    t2 = rng.integers(T2_RANGE[0], T2_RANGE[1] + 1, size=B)
    first_y = rng.integers(0, 2, size=B)                         # 0: X, 1: Y
    second_y = rng.integers(0, 2, size=B)
    x[t1, cols] = sym["X"] + first_y
    x[t2, cols] = sym["X"] + second_y
    y = np.zeros((L, B), dtype=np.intp)                          # (L, B) class ids
    y[lengths - 1, cols] = 2 * first_y + second_y
    mask = np.zeros((L, B))
    mask[lengths - 1, cols] = 1.0
    return Batch(x, y, mask)


# ---------------------------------------------------------------------------------- copying
COPY_SYMBOLS, COPY_BLANK, COPY_DELIMITER, COPY_RECALL = 8, 8, 9, 10


def copy_memory(length: int, batch: int, rng: np.random.Generator) -> Batch:
    """The copying memory problem of Arjovsky et al. (2016).

    Ten categories a0..a9 (token ids 0..9). A sequence of T + 20 steps: 10 symbols drawn
    uniformly and independently from a0..a7, then T - 1 blanks a8, the delimiter a9, and 10
    more blanks. The target is a8 for the first T + 10 steps, then the 10 symbols in their
    order. A memoryless strategy (blanks, then a uniform guess among 8) scores a cross-entropy
    of 10 ln 8 / (T + 20) per step. Solved here: all 10 recalled symbols right in at least 99%
    of 1,000 fresh sequences (the paper reports the cross-entropy against training steps).
    """
    T, B = length, batch
    R = COPY_RECALL
    symbols = rng.integers(0, COPY_SYMBOLS, size=(R, B))         # (10, B)
    x = np.full((T + 2 * R, B), COPY_BLANK, dtype=np.intp)       # (T + 20, B)
    x[:R] = symbols
    x[R + T - 1] = COPY_DELIMITER
    y = np.full((T + 2 * R, B), COPY_BLANK, dtype=np.intp)       # (T + 20, B)
    y[-R:] = symbols
    return Batch(x, y, np.ones((T + 2 * R, B)))


LOOKAHEAD_SYMBOLS, LOOKAHEAD = 8, 3


def lookahead(length: int, batch: int, rng: np.random.Generator) -> Batch:
    """Label each step with the symbol that comes 3 steps later (sequence labelling).

    T symbols drawn uniformly and independently from 8 (token ids 0..7); the label at step t is
    x(t + 3), for t < T - 3 (the last 3 steps carry no target). The label depends only on an
    input after t, independent of everything up to t: a unidirectional model, whose h(t) has
    read x(0..t), can only guess, wrong 7 times in 8 (cross-entropy ln 8); the reverse direction
    of a bidirectional one has read x(T-1..t) and needs to hold x(t + 3) for 3 steps. Solved
    here: at most 1% of the labelled steps of 1,000 fresh sequences wrong.
    """
    T, B = length, batch
    x = rng.integers(0, LOOKAHEAD_SYMBOLS, size=(T, B))            # (T, B)
    y = np.zeros((T, B), dtype=x.dtype)
    y[:T - LOOKAHEAD] = x[LOOKAHEAD:]
    mask = np.zeros((T, B))
    mask[:T - LOOKAHEAD] = 1.0
    return Batch(x, y, mask)


# ----------------------------------------------------------------------------- the scores
def squared_errors(o, batch: Batch) -> np.ndarray:
    """(N,) the squared error (o - y)^2 at every step that carries a target (one output)."""
    sel = batch.mask != 0
    return ((o[..., 0] - batch.y[..., 0]) ** 2)[sel]


def mse(o, batch: Batch) -> float:
    return float(np.mean(squared_errors(o, batch)))


def wrong_beyond_004(o, batch: Batch) -> float:
    """Fraction of sequences whose absolute error at the end is 0.04 or more (the 1997 criterion)."""
    return float(np.mean(np.sqrt(squared_errors(o, batch)) >= 0.04))


def wrong_class(o, batch: Batch) -> float:
    """Fraction of sequences whose most likely class at the marked step is wrong."""
    sel = batch.mask != 0
    return float(np.mean(o.argmax(axis=-1)[sel] != batch.y[sel]))


def wrong_labels(o, batch: Batch) -> float:
    """Fraction of the labelled steps (mask 1) whose most likely class is wrong."""
    sel = batch.mask != 0
    return float(np.mean(o.argmax(axis=-1)[sel] != batch.y[sel]))


def not_recalled(o, batch: Batch) -> float:
    """Fraction of sequences with any of the 10 recalled symbols wrong."""
    R = COPY_RECALL
    right = o[-R:].argmax(axis=-1) == batch.y[-R:]               # (10, B)
    return float(np.mean(~right.all(axis=0)))


@dataclass(frozen=True)
class Task:
    """A generator with what is needed to train on it and to judge the result.

    generate(length, batch, rng) -> Batch; metric(o, batch) -> float, lower is better, from
    the outputs o (T, B, O) (the softmax's logits or the identity's values: the metrics only
    compare and subtract, so either works); solved when metric < threshold (or <= when
    ``inclusive``). baseline(length): the metric of a model that remembers nothing;
    loss_baseline(length): its loss per target step, in the model's own loss (1/2 squared
    error, or cross-entropy in nats). max_lag(length): the longest lag the task asks a model to
    bridge, in steps (T_max of the chrono initialisation).
    """

    name: str
    generate: Callable
    n_in: int
    n_out: int
    output: str                     # "identity" (squared error) or "softmax" (cross-entropy)
    min_length: int
    layout: str                     # why min_length, for the error message
    metric: Callable
    metric_name: str
    threshold: float
    inclusive: bool
    baseline: Callable
    loss_baseline: Callable
    baseline_means: str
    paper: str
    max_lag: Callable               # length -> the most steps between an input the answer needs and the answer
    # Where the metric is the fraction of sequences that fail: what a sequence that passes is
    # ("recalled whole"), so the criterion reads as the share that must pass. "": a plain bound.
    passes: str = ""
    model: str = "network"          # what reads its batches: a Network (a PairTask's: "seq2seq")

    def solved(self, metric: float) -> bool:
        return bool(metric <= self.threshold if self.inclusive else metric < self.threshold)

    @property
    def criterion(self) -> str:
        """The sentence that says when the task is solved ("mse < 0.01", "at least 99% of sequences
        recalled whole")."""
        if self.passes:
            share = f"{round((1 - self.threshold) * 100, 6):g}%"
            return f"{'at least' if self.inclusive else 'more than'} {share} of sequences {self.passes}"
        return f"{self.metric_name} {'<=' if self.inclusive else '<'} {self.threshold:g}"

    def check_length(self, length, flag="--length") -> int:
        if isinstance(length, bool) or not isinstance(length, numbers.Integral) or length < self.min_length:
            raise ValueError(f"{flag}: expected an integer >= {self.min_length} for {self.name} "
                             f"({self.layout}), got {length!r}")
        return int(length)


def _adding_1997_baseline() -> float:
    """Fraction wrong when always answering 0.5: |X1 + X2| / 4 >= 0.04, i.e. |S| >= 0.16.

    S = X1 + X2 of two uniform [-1, 1] values has the density (2 - |s|) / 4, so
    P(|S| < a) = a - a^2 / 4; one time in ten X1 = 0 and P(|X2| < a) = a.
    """
    a = 0.16
    return 1.0 - (0.9 * (a - a * a / 4) + 0.1 * a)


TASKS = {t.name: t for t in (
    Task("adding", adding, n_in=2, n_out=1, output="identity", min_length=2,
         layout="one marker in each half", metric=mse, metric_name="mse", threshold=0.01,
         inclusive=False, baseline=lambda T: 1.0 / 6.0, loss_baseline=lambda T: 1.0 / 12.0,
         baseline_means="always answering 1",
         paper="Le et al. 2015; Arjovsky et al. 2016",
         max_lag=lambda T: T - 1),                                # a marker at step 0, the answer at T - 1
    Task("adding-1997", adding_1997, n_in=2, n_out=1, output="identity", min_length=12,
         layout="a mark in the first ten steps, before the last step", metric=wrong_beyond_004,
         metric_name="wrong (|error| >= 0.04)", threshold=0.01, inclusive=True,
         baseline=lambda T: _adding_1997_baseline(),
         # E[(S/4)^2] / 2 with Var(X) = 1/3: (0.9 * 2/3 + 0.1 * 1/3) / 32
         loss_baseline=lambda T: (0.9 * 2 / 3 + 0.1 / 3) / 32.0,
         baseline_means="always answering 0.5",
         paper="Hochreiter & Schmidhuber 1997, experiment 4", passes="answered within 0.04",
         max_lag=lambda T: T + T // 10 - 1),                      # X1 at step 0 or later, the end at most T + T/10 - 1
    Task("temporal-order", temporal_order, n_in=len(TEMPORAL_ORDER_SYMBOLS), n_out=4, output="softmax",
         min_length=T2_RANGE[1] + 2, layout=f"X/Y at steps up to {T2_RANGE[1]}, then the trigger",
         metric=wrong_class, metric_name="wrong class", threshold=0.01, inclusive=True,
         baseline=lambda T: 0.75, loss_baseline=lambda T: math.log(4),
         baseline_means="guessing among the four classes",
         paper="Hochreiter & Schmidhuber 1997, experiment 6a", passes="classified right",
         max_lag=lambda T: T + T // 10 - 1 - T1_RANGE[0]),        # the first X/Y at step 10 or later
    Task("copy", copy_memory, n_in=COPY_DELIMITER + 1, n_out=COPY_DELIMITER + 1, output="softmax",
         min_length=1, layout="T - 1 blanks", metric=not_recalled, metric_name="not recalled whole",
         threshold=0.01, inclusive=True, baseline=lambda T: 1.0 - COPY_SYMBOLS ** -COPY_RECALL,
         loss_baseline=lambda T: COPY_RECALL * math.log(COPY_SYMBOLS) / (T + 2 * COPY_RECALL),
         baseline_means="blanks, then a uniform guess among the 8 symbols",
         paper="Arjovsky et al. 2016", passes="recalled whole",
         max_lag=lambda T: T + COPY_RECALL),                      # symbol k at step k, recalled at T + 10 + k
    Task("lookahead", lookahead, n_in=LOOKAHEAD_SYMBOLS, n_out=LOOKAHEAD_SYMBOLS, output="softmax",
         min_length=LOOKAHEAD + 1, layout=f"labels {LOOKAHEAD} steps ahead", metric=wrong_labels,
         metric_name="wrong labels", threshold=0.01, inclusive=True,
         baseline=lambda T: 1.0 - 1.0 / LOOKAHEAD_SYMBOLS, loss_baseline=lambda T: math.log(LOOKAHEAD_SYMBOLS),
         baseline_means="guessing among the 8 symbols (what a model that reads only the past can do)",
         paper="Goodfellow et al. 2016, sec. 10.3 (bidirectional RNNs)",
         max_lag=lambda T: LOOKAHEAD),                            # the label 3 steps ahead, read backwards
)}


# ------------------------------------------------------------------- sequence to sequence
RUNNING_SUM_SYMBOLS = 8


def running_sum(length: int, batch: int, rng: np.random.Generator) -> Batch:
    """Label each step with the sum of the inputs so far, mod 8: y(t) = (y(t-1) + x(t)) mod 8.

    T symbols drawn uniformly and independently from 8 (token ids 0..7); every step carries a
    target. y(t-1) and x(t) determine y(t), so a network that reads its previous output (the
    output-recurrent network of Goodfellow et al. figure 10.4, ``nn.output_recurrent``) needs no
    hidden-to-hidden memory: teacher-forced, each step is one of 64 cases. Free-running, one
    wrong answer shifts every later sum, which is where teacher forcing's exposure bias shows.
    """
    T, B = length, batch
    x = rng.integers(0, RUNNING_SUM_SYMBOLS, size=(T, B))              # (T, B)
    y = np.cumsum(x, axis=0) % RUNNING_SUM_SYMBOLS                      # (T, B)
    return Batch(x, y, np.ones((T, B)))


PAIR_SYMBOLS = 8                          # token ids 0..7 in x and y
PAIR_END, PAIR_START = 8, 9               # y's end-of-sequence token, the decoder's start token


@dataclass(frozen=True)
class Pairs:
    """A batch of sequence pairs, as ``Seq2Seq`` reads it: ``forward(x, y_in, x_lengths)`` and
    ``backward(trace, y, mask)``. x int (Tx, B), padded with 0 after each sequence's
    x_lengths[b] (B,) symbols; y int (Ty, B) = the answer, then PAIR_END, Ty = Tx + 1; y_in the
    teacher-forced inputs (PAIR_START, then y shifted by one); mask (Ty, B): 1 up to and with the
    end token."""

    x: np.ndarray
    x_lengths: np.ndarray
    y_in: np.ndarray
    y: np.ndarray
    mask: np.ndarray


def _pairs(length, batch, rng, answer) -> Pairs:
    lengths = rng.integers(1, length + 1, size=batch)                 # (B,) in [1, length]
    Tx = int(lengths.max())
    x = rng.integers(0, PAIR_SYMBOLS, size=(Tx, batch))               # (Tx, B)
    pad = np.arange(Tx)[:, None] >= lengths[None, :]
    x[pad] = 0
    y = np.full((Tx + 1, batch), PAIR_END, dtype=np.intp)             # (Ty, B)
    for b in range(batch):
        y[:lengths[b], b] = answer(x[:lengths[b], b])
    y_in = np.concatenate([np.full((1, batch), PAIR_START, dtype=np.intp), y[:-1]])
    mask = (np.arange(Tx + 1)[:, None] <= lengths[None, :]).astype(float)
    y_in[~mask.astype(bool)] = PAIR_END                              # after the end: nothing to read
    return Pairs(x, lengths, y_in, y, mask)


def reverse(length: int, batch: int, rng: np.random.Generator) -> Pairs:
    """Reverse a sequence: x of n symbols (n uniform in [1, length]) from 8, y its n symbols
    last first, then the end token. Sutskever et al. (2014) fed their encoder reversed
    sentences; here the reversal is the task."""
    return _pairs(length, batch, rng, lambda s: s[::-1])


def sort(length: int, batch: int, rng: np.random.Generator) -> Pairs:
    """Sort a sequence: x of n symbols (n uniform in [1, length]) from 8, y the same symbols in
    ascending order, then the end token (Vinyals et al. 2016 sort numbers with a seq2seq)."""
    return _pairs(length, batch, rng, np.sort)


def not_whole(pred, batch: Pairs) -> float:
    """Fraction of sequences not returned whole: pred int (T, B), free-running decoding's tokens;
    sequence b is whole when its first x_lengths[b] + 1 tokens (the end included) are y's."""
    T = pred.shape[0]
    need = batch.mask != 0                                            # (Ty, B)
    if T < need.shape[0]:
        return 1.0
    wrong = (pred[:need.shape[0]] != batch.y) & need
    return float(np.mean(wrong.any(axis=0)))


@dataclass(frozen=True)
class PairTask:
    """A sequence-to-sequence task for ``Seq2Seq``: generate(length, batch, rng) -> Pairs; the
    metric is ``not_whole`` on free-running decoding (lower is better), solved when at most
    ``threshold``. baseline(length): the metric of guessing each symbol uniformly, the end
    known; loss_baseline(length): that guess's cross-entropy per target step (nats)."""

    name: str
    generate: Callable
    paper: str
    n_in: int = PAIR_SYMBOLS
    n_out: int = PAIR_START + 1
    start: int = PAIR_START
    output: str = "softmax"
    min_length: int = 1
    layout: str = "sequences of 1 to length symbols"
    metric_name: str = "not whole"
    threshold: float = 0.01
    inclusive: bool = True
    baseline_means: str = "guessing each symbol uniformly, the end known"
    passes: str = "returned whole (free-running)"
    model: str = "seq2seq"

    metric = staticmethod(not_whole)
    solved = Task.solved
    criterion = Task.criterion
    check_length = Task.check_length

    def baseline(self, length) -> float:
        return 1.0 - float(np.mean([PAIR_SYMBOLS ** -n for n in range(1, length + 1)]))

    def loss_baseline(self, length) -> float:
        n = (length + 1) / 2                                          # the mean length
        return math.log(PAIR_SYMBOLS) * n / (n + 1)


PAIR_TASKS = {t.name: t for t in (PairTask("reverse", reverse, paper="Sutskever et al. 2014, reversed"),
                                  PairTask("sort", sort, paper="Vinyals et al. 2016"))}
TASKS.update(PAIR_TASKS)


def get(name: str) -> Task:
    return TASKS[check.choice("TASK", name, tuple(TASKS))]
