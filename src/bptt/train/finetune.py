"""Fine-tuning across vocabularies: a trained model's weights carried over to a new text.

A character's weights live on known axes: its column of the input weights U (G*H, V) (the
input is one-hot, so the column is the character), its row of the readout V (V, H) and its
entry of c (V,). Every other array (W, b, and any deeper layer's) belongs to no character and
is carried over whole.
"""

from __future__ import annotations

import numpy as np

VOCAB_AXES = {"U": 1, "V": 0, "c": 0}   # parameter name -> the axis indexed by character


def carry_over(source, source_vocab, target, target_vocab) -> dict:
    """Give ``target`` the weights of ``source`` (same cell, H and layers), character by character.

    Characters both vocabularies hold keep source's trained values; target's other characters
    keep the values target was initialised with; source's other characters are dropped.
    Returns {"shared", "new", "dropped"}: how many characters of each.
    """
    if set(source.params) != set(target.params):
        raise ValueError(f"--init-from: expected a model with the parameters {', '.join(sorted(target.params))}, "
                         f"got {', '.join(sorted(source.params))}")
    old = {ch: i for i, ch in enumerate(source_vocab.chars)}
    shared = [ch for ch in target_vocab.chars if ch in old]
    to = np.array([target_vocab.chars.index(ch) for ch in shared], dtype=np.intp)      # (S,)
    frm = np.array([old[ch] for ch in shared], dtype=np.intp)                         # (S,)
    params = {}
    for name, fresh in target.params.items():
        trained = source.params[name]
        axis = VOCAB_AXES.get(name)
        expected = fresh.shape if axis is None else fresh.shape[:axis] + fresh.shape[axis + 1:]
        got = trained.shape if axis is None else trained.shape[:axis] + trained.shape[axis + 1:]
        if got != expected:
            raise ValueError(f"--init-from: expected params[{name!r}] to match the new model's {fresh.shape} "
                             f"(apart from the vocabulary axis), got {trained.shape}")
        if axis is None:
            params[name] = trained
            continue
        p = fresh.copy()
        np.moveaxis(p, axis, 0)[to] = np.moveaxis(trained, axis, 0)[frm]
        params[name] = p
    target.set_params(params)
    return {"shared": len(shared), "new": len(target_vocab) - len(shared), "dropped": len(source_vocab) - len(shared)}
