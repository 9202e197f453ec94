"""One update of the parameters, written once for every trainer: the guard, clipping, the step.

A trainer computes a loss and its gradients (a truncated-BPTT window of text, a batch of a
long-lag task), then asks ``Updates`` to apply them:

1. ``accept(loss, grads, step)``: a loss or a gradient that is not finite is never applied. The
   update is skipped and counted; ``MAX_BAD_IN_A_ROW`` skipped in a row stop training (``Diverged``),
   since by then the model or its carried state has left the numbers.
2. ``apply(params, grads, step)``: the gradients are clipped in place (their global norm to
   ``clip``, Pascanu et al. 2013, then each entry to [-clip_value, clip_value]), the optimiser
   takes its step at the learning rate of this step, and parameters that overflowed stop
   training at once (``Diverged``): nothing non-finite is ever saved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .optim import clip_global_norm, clip_value, global_norm, learning_rate

MAX_BAD_IN_A_ROW = 5
HINT = "Try a lower --lr (now {lr:g}) or gradient clipping (--clip 1)."


class Diverged(RuntimeError):
    """Training cannot go on: the updates stopped being finite. The message says what to try."""


@dataclass(frozen=True)
class Applied:
    norm: float       # the gradients' global L2 norm before clipping
    clipped: bool     # whether either clipping changed them


class Updates:
    """Applies updates to a model's parameters through an optimiser, and counts those it skipped.

    opt: an ``optim.Optimizer`` over the parameters. lr, lr_decay, lr_decay_every: the learning
    rate of step n is ``lr * lr_decay ** (n // lr_decay_every)``. clip: the global-norm threshold;
    clip_value: the per-entry limit; None or 0 turns either off. skipped: the count so far (a
    resumed run's).
    """

    def __init__(self, opt, *, lr, clip=None, clip_value=None, lr_decay=1.0, lr_decay_every=1000, skipped=0):
        self.opt = opt
        self.lr, self.lr_decay, self.lr_decay_every = lr, lr_decay, lr_decay_every
        self.clip, self.clip_value = clip, clip_value
        self.skipped = skipped
        self.bad_in_a_row = 0

    def accept(self, loss: float, grads: dict, step: int) -> bool:
        """True when the loss and every gradient are finite; else the update is skipped (counted),
        and the MAX_BAD_IN_A_ROW-th skipped in a row raises Diverged."""
        if math.isfinite(loss) and all(np.all(np.isfinite(g)) for g in grads.values()):
            self.bad_in_a_row = 0
            return True
        self.skipped += 1
        self.bad_in_a_row += 1
        if self.bad_in_a_row >= MAX_BAD_IN_A_ROW:
            raise Diverged(f"training diverged: {self.bad_in_a_row} updates in a row with a non-finite loss or "
                           f"gradient at step {step}; nothing non-finite was applied or saved. "
                           + HINT.format(lr=self.lr))
        return False

    def apply(self, params: dict, grads: dict, step: int) -> Applied:
        """Clip ``grads`` in place, step ``params`` in place, and check they stayed finite."""
        clipped = False
        if self.clip:
            norm, clipped = clip_global_norm(grads, self.clip)
        else:
            norm = global_norm(grads)
        if self.clip_value:
            clipped = clip_value(grads, self.clip_value) or clipped
        self.opt.step(params, grads, lr=learning_rate(self.lr, step, self.lr_decay, self.lr_decay_every))
        if not all(np.all(np.isfinite(p)) for p in params.values()):
            raise Diverged(f"training diverged: the update at step {step} overflowed the parameters; nothing "
                           f"non-finite was saved. " + HINT.format(lr=self.lr))
        return Applied(norm, clipped)
