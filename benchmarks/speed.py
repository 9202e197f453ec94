"""Training and sampling speed: bptt against PyTorch's nn.RNN on this CPU, measured side by side.

One training update = forward over T steps, BPTT, global-norm clip, Adam step, float32, for
bptt (TruncatedBPTT + bptt.optim.Adam, the path `bptt train` runs) and for PyTorch
(nn.Embedding + nn.RNN + nn.Linear, autograd, clip_grad_norm_, torch.optim.Adam), same sizes,
same thread count, measured in the same run, interleaved (each round a block of updates of
each, with a pause between so that neither inherits the other's busy threads; the median kept). Also a min-char-rnn-style unbatched NumPy loop, sampling speed, and the fraction
of this machine's float32 matrix-multiply rate (measured in the same run) that each reaches.

    python benchmarks/speed.py                 # all sizes (a few minutes)
    python benchmarks/speed.py --quick         # fewer rounds
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import torch

from bptt import SimpleRNN
from bptt.optim import Adam, clip_global_norm
from bptt.sample import sample
from bptt.data import Vocab
from bptt.truncated import TruncatedBPTT

V = 65
SIZES = [(100, 1, 25), (128, 32, 64), (256, 64, 100), (512, 64, 100), (1024, 128, 100)]   # (H, B, T)


def flops_per_token(H, I=V, O=V):
    """Forward + backward of one step, one layer: about 6 (H^2 + H O + H I) multiply-adds x 1
    ... counted as 2 FLOPs each for forward (2 products) and 4 for backward; with one-hot inputs
    the H*I input product is a gather, but it is counted as the convention asks."""
    return 6 * (H * H + H * O + H * I)


def matmul_rate(n=2048, reps=10):
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.copy()
    a @ b
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best


class BpttRunner:
    def __init__(self, H, B, T, rounds):
        rng = np.random.default_rng(0)
        self.T = T
        stream = rng.integers(0, V, size=(T * (rounds + 4) + 1, B))
        self.model = SimpleRNN(V, H, V, seed=0, dtype=np.float32)
        self.walk = TruncatedBPTT(self.model, stream[:-1], stream[1:], T, T)
        self.opt = Adam(self.model.params, 1e-3)

    def __call__(self):
        u = self.walk.next_update()
        clip_global_norm(u.grads, 5.0)
        self.opt.step(self.model.params, u.grads)


class TorchRunner:
    def __init__(self, H, B, T, rounds):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randint(0, V, (T * (rounds + 4) + 1, B), generator=g)
        self.T = T
        self.emb = torch.nn.Embedding(V, V)
        with torch.no_grad():
            self.emb.weight.copy_(torch.eye(V))                  # one-hot inputs, as bptt's
        self.emb.weight.requires_grad_(False)
        self.rnn = torch.nn.RNN(V, H)
        self.lin = torch.nn.Linear(H, V)
        self.params = list(self.rnn.parameters()) + list(self.lin.parameters())
        self.opt = torch.optim.Adam(self.params, lr=1e-3)
        self.pos, self.h = 0, None

    def __call__(self):
        X = self.emb(self.x[self.pos:self.pos + self.T])
        Y = self.x[self.pos + 1:self.pos + self.T + 1]
        self.pos += self.T
        self.opt.zero_grad(set_to_none=True)
        out, h = self.rnn(X, self.h)
        self.h = h.detach()
        loss = torch.nn.functional.cross_entropy(self.lin(out).reshape(-1, V), Y.reshape(-1),
                                                 reduction="sum") / X.shape[1]
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 5.0)
        self.opt.step()


class MinCharRunner:
    """min-char-rnn's loop (one sequence, one-hot column vectors, Adagrad), in float32."""

    def __init__(self, H, B, T, rounds):
        rng = np.random.default_rng(0)
        self.T = T
        self.data = rng.integers(0, V, size=T * (rounds + 4) + 1)
        f = np.float32
        self.Wxh = (rng.standard_normal((H, V)) * 0.01).astype(f)
        self.Whh = (rng.standard_normal((H, H)) * 0.01).astype(f)
        self.Why = (rng.standard_normal((V, H)) * 0.01).astype(f)
        self.bh, self.by = np.zeros((H, 1), f), np.zeros((V, 1), f)
        self.mem = [np.zeros_like(p) for p in (self.Wxh, self.Whh, self.Why, self.bh, self.by)]
        self.hprev = np.zeros((H, 1), f)
        self.pos = 0

    def __call__(self):
        inputs = self.data[self.pos:self.pos + self.T]
        targets = self.data[self.pos + 1:self.pos + self.T + 1]
        self.pos += self.T
        xs, hs, ps = {}, {-1: self.hprev}, {}
        for t in range(len(inputs)):
            xs[t] = np.zeros((V, 1), np.float32)
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(self.Wxh @ xs[t] + self.Whh @ hs[t - 1] + self.bh)
            ys = self.Why @ hs[t] + self.by
            ps[t] = np.exp(ys - ys.max()) / np.sum(np.exp(ys - ys.max()))
        dWxh, dWhh, dWhy = np.zeros_like(self.Wxh), np.zeros_like(self.Whh), np.zeros_like(self.Why)
        dbh, dby = np.zeros_like(self.bh), np.zeros_like(self.by)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(inputs))):
            dy = ps[t].copy()
            dy[targets[t]] -= 1
            dWhy += dy @ hs[t].T
            dby += dy
            dh = self.Why.T @ dy + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbh += dhraw
            dWxh += dhraw @ xs[t].T
            dWhh += dhraw @ hs[t - 1].T
            dhnext = self.Whh.T @ dhraw
        for p, d, m in zip((self.Wxh, self.Whh, self.Why, self.bh, self.by), (dWxh, dWhh, dWhy, dbh, dby), self.mem):
            np.clip(d, -5, 5, out=d)
            m += d * d
            p += -0.1 * d / np.sqrt(m + 1e-8)
        self.hprev = hs[len(inputs) - 1]


def measure(runners, rounds, block=3, pause=0.25, warmup=1):
    """Interleaved rounds: each runner runs a block of updates per round; median s/update each.

    Before each block the machine rests for ``pause`` seconds: the previous runner's worker
    threads (OpenBLAS's, or torch's OpenMP pool, which spins after each operation) would
    otherwise still hold the cores and slow whoever runs next. The first update of a block
    warms caches and is not counted.
    """
    times = {k: [] for k in runners}
    for i in range(rounds + warmup):
        for k, r in runners.items():
            time.sleep(pause)
            r()
            for _ in range(block):
                t = time.perf_counter()
                r()
                if i >= warmup:
                    times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def product_rates(shapes=((64, 256), (64, 512), (128, 1024)), reps=200):
    """GFLOP/s of one recurrent-sized product (B, H) @ (H, H), numpy against torch.mm, best of reps."""
    rows = []
    for B, H in shapes:
        a = torch.randn(B, H)
        w = torch.randn(H, H)
        o = torch.empty(B, H)
        an, wn, on = a.numpy(), w.numpy(), o.numpy()

        def best(f):
            f()
            ts = []
            for _ in range(reps):
                t = time.perf_counter()
                f()
                ts.append(time.perf_counter() - t)
            return min(ts)
        flops = 2 * B * H * H
        rows.append((B, H, flops / best(lambda: np.matmul(an, wn, out=on)) / 1e9,
                     flops / best(lambda: torch.mm(a, w, out=o)) / 1e9))
    return rows


def sampling_speed(H, n=2000):
    model = SimpleRNN(V, H, V, seed=0, dtype=np.float32)
    vocab = Vocab("".join(chr(33 + i) for i in range(V)))
    t = time.perf_counter()
    sample(model, vocab, "", n, seed=0)
    ours = n / (time.perf_counter() - t)
    rnn, lin = model.to_torch()
    h = torch.zeros(1, 1, H)
    x = torch.zeros(1, 1, V)
    g = torch.Generator().manual_seed(0)
    t = time.perf_counter()
    with torch.no_grad():
        i = 0
        for _ in range(n):
            x.zero_()
            x[0, 0, i] = 1
            out, h = rnn(x, h)
            p = torch.softmax(lin(out[0, 0]) / 0.8, -1)
            i = int(torch.multinomial(p, 1, generator=g))
    theirs = n / (time.perf_counter() - t)
    return ours, theirs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds")
    ap.add_argument("--sizes", default=None, help="e.g. 128x32x64,256x64x100 (HxBxT)")
    args = ap.parse_args(argv)
    sizes = SIZES if not args.sizes else [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    threads = torch.get_num_threads()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; numpy {np.__version__}, "
          f"torch {torch.__version__} ({threads} threads); float32; vocabulary V={V}")
    rate = matmul_rate()
    print(f"float32 matmul rate (2048x2048 @ 2048x2048, numpy, best of 10): {rate / 1e9:.1f} GFLOP/s")
    print(f"{'H':>5} {'B':>4} {'T':>4} | {'bptt tok/s':>11} {'torch tok/s':>12} {'bptt/torch':>10} | "
          f"{'min-char tok/s':>14} {'bptt/min-char':>13} | {'bptt % of matmul':>16} {'torch %':>8}")
    for H, B, T in sizes:
        big = H * B >= 512 * 64
        rounds = (3 if big else 5) if args.quick else (6 if big else 12)
        n = (rounds + 1) * 4 + 2                          # updates each runner makes
        runners = {"bptt": BpttRunner(H, B, T, n), "torch": TorchRunner(H, B, T, n)}
        if B == 1 or H <= 256:
            runners["minchar"] = MinCharRunner(H, B, T, n)
        t = measure(runners, rounds)
        tok = {k: (B if k != "minchar" else 1) * T / v for k, v in t.items()}
        fpt = flops_per_token(H)
        mc = tok.get("minchar")
        print(f"{H:>5} {B:>4} {T:>4} | {tok['bptt']:>11,.0f} {tok['torch']:>12,.0f} {tok['bptt'] / tok['torch']:>9.2f}x | "
              f"{(f'{mc:,.0f}' if mc else '-'):>14} {(f'{tok[chr(98)+chr(112)+chr(116)+chr(116)] / mc:.1f}x' if mc else '-'):>13} | "
              f"{100 * fpt * tok['bptt'] / rate:>15.1f}% {100 * fpt * tok['torch'] / rate:>7.1f}%")
    for B, H, ours, theirs in product_rates():
        print(f"one recurrent product ({B}x{H}) @ ({H}x{H}), float32: numpy {ours:.0f} GFLOP/s, "
              f"torch.mm {theirs:.0f} GFLOP/s")
    ours, theirs = sampling_speed(256)
    print(f"sampling, H=256, one character at a time: bptt {ours:,.0f} chars/s, torch {theirs:,.0f} chars/s "
          f"({ours / theirs:.2f}x)")


if __name__ == "__main__":
    main()
