"""Optimisers and gradient clipping: plain functions of the parameter and gradient dicts.

Each optimiser updates ``params`` in place from ``grads`` (same keys) and keeps its state as a
dict of arrays (saved in checkpoints) plus the update count. The formulas are PyTorch's
(torch.optim.SGD, Adagrad, RMSprop, Adam with their default constants), so the same
gradients give the same parameters.
"""

from __future__ import annotations

import numpy as np


class Optimizer:
    name = ""
    defaults: dict = {}

    def __init__(self, params, lr, **options):
        self.lr = float(lr)
        self.options = {**self.defaults, **options}
        self.t = 0                                                   # updates applied
        self.slots = {f"{slot}/{k}": np.zeros_like(v) for slot in self.slot_names for k, v in params.items()}

    slot_names: tuple = ()

    def step(self, params, grads, lr=None):
        self.t += 1
        lr = self.lr if lr is None else lr
        for k, p in params.items():
            self._update(k, p, grads[k], lr)

    def state(self) -> dict:
        return {"t": np.array(self.t), **self.slots}

    def restore(self, state) -> None:
        self.t = int(state["t"])
        for k in self.slots:
            self.slots[k] = np.array(state[k], dtype=self.slots[k].dtype)


class SGD(Optimizer):
    """v = momentum v + g;  p -= lr v   (momentum 0: plain SGD)."""
    name, defaults, slot_names = "sgd", {"momentum": 0.0}, ("v",)

    def _update(self, k, p, g, lr):
        mu = self.options["momentum"]
        if mu == 0:
            p -= lr * g
            return
        v = self.slots[f"v/{k}"]
        v *= mu
        v += g
        p -= lr * v


class Adagrad(Optimizer):
    """s += g^2;  p -= lr g / (sqrt(s) + eps)   (min-char-rnn's optimiser)."""
    name, defaults, slot_names = "adagrad", {"eps": 1e-10}, ("s",)

    def _update(self, k, p, g, lr):
        s = self.slots[f"s/{k}"]
        s += g * g
        p -= lr * g / (np.sqrt(s) + self.options["eps"])


class RMSprop(Optimizer):
    """s = alpha s + (1 - alpha) g^2;  p -= lr g / (sqrt(s) + eps)   (char-rnn's optimiser)."""
    name, defaults, slot_names = "rmsprop", {"alpha": 0.99, "eps": 1e-8}, ("s",)

    def _update(self, k, p, g, lr):
        a = self.options["alpha"]
        s = self.slots[f"s/{k}"]
        s *= a
        s += (1 - a) * g * g
        p -= lr * g / (np.sqrt(s) + self.options["eps"])


class Adam(Optimizer):
    """Kingma & Ba with bias correction, written as torch.optim.Adam computes it."""
    name, defaults, slot_names = "adam", {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}, ("m", "v")

    def _update(self, k, p, g, lr):
        b1, b2, eps = self.options["beta1"], self.options["beta2"], self.options["eps"]
        m, v = self.slots[f"m/{k}"], self.slots[f"v/{k}"]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        bias1 = 1 - b1 ** self.t
        bias2 = 1 - b2 ** self.t
        denom = np.sqrt(v) / np.sqrt(bias2) + eps
        p -= (lr / bias1) * m / denom


OPTIMIZERS = {cls.name: cls for cls in (SGD, Adagrad, RMSprop, Adam)}


def global_norm(grads) -> float:
    return float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values())))


def clip_global_norm(grads, max_norm) -> tuple[float, bool]:
    """Scale all gradients together so their joint L2 norm is at most max_norm (Pascanu et al. 2013).

    Returns the norm before clipping and whether it was clipped.
    """
    norm = global_norm(grads)
    if norm > max_norm:
        scale = max_norm / (norm + 1e-6)                             # torch's clip_grad_norm_ formula
        for g in grads.values():
            g *= scale
        return norm, True
    return norm, False


def clip_value(grads, limit) -> bool:
    """Clip every entry to [-limit, limit] (min-char-rnn). Returns whether any entry was clipped."""
    clipped = False
    for g in grads.values():
        if np.abs(g).max(initial=0) > limit:
            clipped = True
            np.clip(g, -limit, limit, out=g)
    return clipped


def learning_rate(base, step, decay=1.0, every=1000):
    """lr = base * decay^(step // every): a step decay, as char-rnn's per-epoch decay."""
    return base * decay ** (step // every)
