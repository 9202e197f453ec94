"""Generate text from a trained model, one character at a time."""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from ..nn.stages import last_states, step_readout, stepper


def next_distribution(o, temperature) -> np.ndarray:
    """p (O,) = softmax(o / temperature) for readout scores o (O,), float64, every entry finite.

    Computed in log-space, (o - max o) / temperature in float64: the largest score becomes 0 and
    the rest <= 0, so a temperature as small as 1e-40 (o / T overflows float32) or a subnormal
    one still gives a distribution, the argmax's, with ties shared. temperature 0 is the limit:
    all the mass on the first largest score.
    """
    o = np.asarray(o, dtype=np.float64)
    if temperature == 0:
        p = np.zeros_like(o)
        p[int(np.argmax(o))] = 1.0
        return p
    with np.errstate(over="ignore"):          # a tiny T sends the others to -inf, which exp maps to 0
        z = (o - o.max()) / temperature       # <= 0, the max exactly 0
    p = np.exp(z)
    return p / p.sum()


def sample(model, vocab, prime="", length=200, temperature=1.0, seed=None) -> str:
    """Feed ``prime``, then draw ``length`` characters from softmax(o(t) / temperature).

    temperature 0 is greedy decoding: each character is the most likely one (char-rnn's
    ``-sample 0``, ``bptt sample --argmax``). The hidden state carries on from the prime; with
    no prime the first character is drawn from the readout of the zero state. Randomness comes
    only from ``default_rng(seed)``.
    """
    length = check.nonnegative_int("--length", length)
    temperature = check.number_in("--temperature", temperature, 0, lo_open=False)
    if isinstance(seed, (list, tuple)):          # default_rng's entropy list, e.g. [seed, step]
        for part in seed:
            check.nonnegative_int("--seed", part)
    elif seed is not None:
        check.nonnegative_int("--seed", seed)
    if model.output != "softmax":
        raise ValueError(f"model: expected a softmax output to sample from, got {model.output!r}")
    rng = np.random.default_rng(seed)
    if prime:
        ids = vocab.encode(prime, name="--prime")
        state = last_states(model.forward(ids[:, None]).layers)     # [{name: (1, H)}] per layer
    else:
        state = model.initial_states(1)
    step = stepper(model)
    out = []
    for _ in range(length):
        probs = next_distribution(step_readout(model, state)[0], temperature)       # from o(t) (O,)
        i = int(np.argmax(probs)) if temperature == 0 else int(rng.choice(len(probs), p=probs))
        out.append(i)
        state = step(np.array([i]), state)                           # x(t+1) one-hot at i
    return vocab.decode(out)
