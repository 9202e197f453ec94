"""The cases a learner's functions are run on, chosen to expose the classic mistakes.

D != H everywhere (I = 5 inputs, H = 4 hidden: a missing transpose raises or gives the wrong
shape instead of passing by luck, and dx determines dL/da(t)); h0 != 0 (a recurrent weight used
the wrong way round, or h0 ignored, shows at the first step); a batch of one (B = 1: a
``.squeeze()`` that drops the batch axis) and a single step (T = 1: loops that need two steps),
as two separate cases so a report says which; and a case whose pre-activations are large enough
that tanh saturates. Every case draws from its own seeded ``numpy.random.Generator``.

A case's ``words`` say what is special about it, for a report: "with a batch of one (B=1)".

Shape legend: T time, B batch, I inputs, H hidden, O outputs, G gate blocks (1 RNN, 4 LSTM).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from . import reference as ref


@dataclass(frozen=True)
class Case:
    words: str            # "" for the main case, else "with a batch of one (B=1)" and the like
    x: np.ndarray         # (T, B, I)
    h0: np.ndarray        # (B, H)
    s0: np.ndarray        # (B, H), the LSTM's initial cell state
    P: dict               # U (G*H, I), W (G*H, H), b (G*H,), V (O, H), c (O,)
    dh_out: np.ndarray    # (T, B, H): the upstream error at every h(t), V^T dL/do(t)
    ds_step: np.ndarray   # (B, H): an upstream error at s(t) for step-function checks

    @property
    def T(self):
        return self.x.shape[0]

    @property
    def B(self):
        return self.x.shape[1]


def make_case(words, cell, *, T, B, I=5, H=4, O=3, scale=0.6, h0=True, seed=0) -> Case:
    rng = np.random.default_rng(seed)
    G = 4 if cell == "lstm" else 1
    P = {"U": rng.uniform(-scale, scale, (G * H, I)), "W": rng.uniform(-scale, scale, (G * H, H)),
         "b": rng.uniform(-scale, scale, (G * H,)), "V": rng.uniform(-1, 1, (O, H)),
         "c": rng.uniform(-1, 1, (O,))}
    x = rng.normal(size=(T, B, I))
    h0_ = rng.uniform(-0.8, 0.8, (B, H)) if h0 else np.zeros((B, H))
    s0 = rng.uniform(-0.8, 0.8, (B, H))
    return Case(words, x, h0_, s0, P, rng.normal(size=(T, B, H)), rng.normal(size=(B, H)))


def cases(cell, seed=0, *, steps=True) -> list:
    """The main case first (T = 5, B = 3), then a batch of one, a single step (only for
    sequence functions: ``steps=False`` for a one-step function), and saturating values."""
    out = [make_case("", cell, T=5, B=3, seed=seed),
           make_case("with a batch of one (B=1)", cell, T=5, B=1, seed=seed + 1)]
    if steps:
        out.append(make_case("with a single step (T=1)", cell, T=1, B=3, seed=seed + 3))
    out.append(make_case("with large pre-activations (tanh saturates)", cell, T=4, B=2, scale=2.5, seed=seed + 2))
    return out


def with_zero_h0(case: Case) -> Case:
    return replace(case, words=(case.words + " and" if case.words else "with") + " h0 = 0", h0=np.zeros_like(case.h0))


def rnn_states(case):
    return ref.rnn_forward(case.x, case.h0, case.P["U"], case.P["W"], case.P["b"])


def lstm_states(case, s0=None):
    s0 = np.zeros_like(case.h0) if s0 is None else s0
    return ref.lstm_forward(case.x, case.h0, s0, case.P["U"], case.P["W"], case.P["b"])
