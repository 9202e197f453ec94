"""Generate text from a trained model, one character at a time."""

from __future__ import annotations

import numpy as np

from . import _validate as check
from .losses import softmax


def sample(model, vocab, prime="", length=200, temperature=1.0, seed=None) -> str:
    """Feed ``prime``, then draw ``length`` characters from softmax(o(t) / temperature).

    The hidden state carries on from the prime; with no prime the first character is drawn
    from the readout of the zero state. Randomness comes only from ``default_rng(seed)``.
    """
    length = check.nonnegative_int("--length", length)
    temperature = check.number_in("--temperature", temperature, 0)
    if isinstance(seed, (list, tuple)):          # default_rng's entropy list, e.g. [seed, step]
        for part in seed:
            check.nonnegative_int("--seed", part)
    elif seed is not None:
        check.nonnegative_int("--seed", seed)
    if model.output != "softmax":
        raise ValueError(f"model: expected a softmax output to sample from, got {model.output!r}")
    rng = np.random.default_rng(seed)
    p = model.params
    H = model.n_hidden
    h = np.zeros((1, H), dtype=model.dtype)                          # (1, H)
    if prime:
        ids = vocab.encode(prime, name="--prime")
        h = model.forward(ids[:, None]).h[-1].copy()                 # (1, H)
    W_T = np.ascontiguousarray(p["W"].T)                            # (H, H)
    a = np.empty((1, H), dtype=model.dtype)
    h_next = np.empty((1, H), dtype=model.dtype)
    out = []
    for _ in range(length):
        o = p["c"] + h[0] @ p["V"].T                                 # (O,)
        probs = softmax((o / temperature).astype(np.float64))
        i = int(rng.choice(len(probs), p=probs))
        out.append(i)
        xu = p["U"][:, i] + p["b"]                                   # b + U x(t), x one-hot
        model.cell.step_forward(xu[None], h, W_T, a, h_next)
        h, h_next = h_next, h
    return vocab.decode(out)
