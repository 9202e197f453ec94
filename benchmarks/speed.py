"""Training and sampling speed: bptt's RNN, LSTM and GRU against PyTorch's on this CPU, side by side.

One training update = forward over T steps, BPTT, global-norm clip, Adam step, float32, for
bptt (TruncatedBPTT + bptt.train.optim.Adam, the path `bptt train` runs) and for PyTorch
(nn.Embedding holding the identity, so one-hot inputs, + nn.RNN/LSTM/GRU + nn.Linear, autograd,
clip_grad_norm_, torch.optim.Adam), same sizes, same thread count, measured in the same run,
interleaved (each round a block of updates of each, with a pause between so that neither
inherits the other's busy threads; the median kept). Beside them, in the same rounds, the
bound: the matrix products the update needs, each timed alone at its own shape (ProductBound);
bptt's and torch's percentages are the bound's time over theirs. Also a min-char-rnn-style
unbatched NumPy loop (RNN rows), one recurrent product's rate and sampling speed.

    python benchmarks/speed.py                           # every cell and size (many minutes)
    python benchmarks/speed.py --quick --cells lstm      # fewer rounds, one cell
    OPENBLAS_NUM_THREADS=1 python benchmarks/speed.py    # numpy and torch on one thread each

Where numba is installed (``pip install "bptt[fast]"``), bptt runs twice in the same rounds: on
its NumPy path ("bptt numpy", the reference, BPTT_KERNELS=numpy) and on its compiled gate
kernels ("bptt fast", the default then); the RNN has no compiled path, its two rows are one.
``--kernels numpy`` times the NumPy path alone.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

# Pinned before numpy loads OpenBLAS; torch gets the same number (main). On a shared machine
# OPENBLAS_NUM_THREADS=1 keeps both libraries from spinning threads against other jobs.
THREADS = int(os.environ.setdefault("OPENBLAS_NUM_THREADS", str(os.cpu_count())))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import bptt  # noqa: E402
from bptt import SimpleRNN  # noqa: E402
from bptt.train.optim import Adam, clip_global_norm  # noqa: E402
from bptt.train.sample import sample  # noqa: E402
from bptt.data import Vocab  # noqa: E402
from bptt.nn.truncated import TruncatedBPTT  # noqa: E402
from bptt.nn.cells import _kernels  # noqa: E402

V = 65
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]                  # main sets it from --clock
SIZES = [(100, 1, 25), (128, 32, 64), (256, 64, 100), (512, 64, 100), (1024, 128, 100)]   # (H, B, T)


def matmul_rate(n=2048, reps=10):
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.copy()
    a @ b
    best = float("inf")
    for _ in range(reps):
        t = clock()
        a @ b
        best = min(best, clock() - t)
    return 2 * n ** 3 / best


CELLS = {"rnn": ("SimpleRNN", "RNN", 1), "lstm": ("LSTM", "LSTM", 4), "gru": ("GRU", "GRU", 3)}   # bptt, torch.nn, G


class BpttRunner:
    """One bptt update per call, on the kernels named (``bptt.nn.cells._kernels``): "numpy" or
    "numba", switched on for the call and back after it, so two runners interleave."""

    def __init__(self, cell, H, B, T, rounds, kernels="numpy"):
        self.kernels = kernels
        rng = np.random.default_rng(0)
        self.T = T
        stream = rng.integers(0, V, size=(T * (rounds + 4) + 1, B))
        self.model = getattr(bptt, CELLS[cell][0])(V, H, V, seed=0, dtype=np.float32)
        self.walk = TruncatedBPTT(self.model, stream[:-1], stream[1:], T, T)
        self.opt = Adam(self.model.params, 1e-3)

    def __call__(self):
        previous = _kernels.use(self.kernels)
        try:
            u = self.walk.next_update()
            clip_global_norm(u.grads, 5.0)
            self.opt.step(self.model.params, u.grads)
        finally:
            _kernels.use(previous)


class TorchRunner:
    def __init__(self, cell, H, B, T, rounds):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randint(0, V, (T * (rounds + 4) + 1, B), generator=g)
        self.T = T
        self.emb = torch.nn.Embedding(V, V)
        with torch.no_grad():
            self.emb.weight.copy_(torch.eye(V))                  # one-hot inputs, as bptt's
        self.emb.weight.requires_grad_(False)
        self.rnn = getattr(torch.nn, CELLS[cell][1])(V, H)
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
        self.h = tuple(v.detach() for v in h) if isinstance(h, tuple) else h.detach()
        loss = torch.nn.functional.cross_entropy(self.lin(out).reshape(-1, V), Y.reshape(-1),
                                                 reduction="sum") / X.shape[1]
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 5.0)
        self.opt.step()


class ProductBound:
    """The matrix products one update needs, each timed alone at its own shape (NumPy, float32).

    Per update: T recurrent products (B, H) @ (H, G*H) forward and T (B, G*H) @ (G*H, H)
    backward, each timed as a loop of T single-step products writing into a (T, ...) buffer,
    as the loop over time runs them (so at their per-step rate, call overhead included); and
    the products over all T*B rows: the readout (T*B, H) @ (H, O), its backward dL/dh
    (T*B, O) @ (O, H), and the gradients dV (O, T*B) @ (T*B, H), dW (G*H, T*B) @ (T*B, H),
    dU (I, T*B) @ (T*B, G*H) (the one-hot product that sums dL/da by token). With one-hot
    inputs the input projection is a gather, not a product, and is left out. Each call of the
    object times every product once; ``seconds()`` sums their medians: the time an update
    would take if it did nothing but these products.
    """

    def __init__(self, cell, H, B, T, rounds=None, I=V, O=V):
        G = CELLS[cell][2]
        rng = np.random.default_rng(0)

        def r(*shape):
            return rng.standard_normal(shape).astype(np.float32)
        h, W_T, g = r(T, B, H), r(H, G * H), r(T, B, G * H)
        W, carry = np.ascontiguousarray(W_T.T), r(B, H)
        hs, os_, dos, das = r(T * B, H), r(T * B, O), r(T * B, O), r(T * B, G * H)
        V_T, Vm, onehot = r(H, O), r(O, H), r(T * B, I)

        def forward_loop():
            for t in range(T):
                np.matmul(h[t], W_T, out=g[t])

        def backward_loop():
            for t in range(T):
                np.matmul(g[t], W, out=carry)
        dh = np.empty((T * B, H), np.float32)
        self.products = {
            f"recurrent forward, {T} x ({B}x{H})@({H}x{G * H})": forward_loop,
            f"recurrent backward, {T} x ({B}x{G * H})@({G * H}x{H})": backward_loop,
            f"readout ({T * B}x{H})@({H}x{O})": lambda: np.matmul(hs, V_T, out=os_),
            f"readout backward ({T * B}x{O})@({O}x{H})": lambda: np.matmul(dos, Vm, out=dh),
            f"dV ({O}x{T * B})@({T * B}x{H})": lambda: dos.T @ hs,
            f"dW ({G * H}x{T * B})@({T * B}x{H})": lambda: das.T @ hs,
            f"dU ({I}x{T * B})@({T * B}x{G * H})": lambda: onehot.T @ das,
        }
        self.times = {k: [] for k in self.products}

    def __call__(self):
        for k, f in self.products.items():
            t = clock()
            f()
            self.times[k].append(clock() - t)

    def seconds(self):
        return sum(statistics.median(v) for v in self.times.values())


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
                t = clock()
                r()
                if i >= warmup:
                    times[k].append(clock() - t)
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
            return min(_timed(f, reps))
        flops = 2 * B * H * H
        rows.append((B, H, flops / best(lambda: np.matmul(an, wn, out=on)) / 1e9,
                     flops / best(lambda: torch.mm(a, w, out=o)) / 1e9))
    return rows


def _timed(f, reps):
    """``reps`` clock readings of f() after one call to warm it up."""
    f()
    ts = []
    for _ in range(reps):
        t = clock()
        f()
        ts.append(clock() - t)
    return ts


def step_products(cell, H, B, reps=300):
    """us per recurrent product of one step, numpy (as the loop runs it: into a buffer, W^T
    contiguous) against torch.mm (as nn.LSTM/nn.GRU's CPU kernel runs it): forward (B, H) @
    (H, G*H) and backward (B, G*H) @ (G*H, H); the median of reps."""
    G = CELLS[cell][2]
    W = torch.randn(G * H, H)
    h, g, c = torch.randn(B, H), torch.empty(B, G * H), torch.empty(B, H)
    da = torch.randn(B, G * H)
    Wn, W_Tn, hn, gn, cn, dan = W.numpy(), np.ascontiguousarray(W.numpy().T), h.numpy(), g.numpy(), c.numpy(), da.numpy()

    def med(f):
        return 1e6 * statistics.median(_timed(f, reps))
    return (med(lambda: np.matmul(hn, W_Tn, out=gn)), med(lambda: torch.mm(h, W.t(), out=g)),
            med(lambda: np.matmul(dan, Wn, out=cn)), med(lambda: torch.mm(da, W, out=c)))


def sampling_speed(H, n=2000):
    model = SimpleRNN(V, H, V, seed=0, dtype=np.float32)
    vocab = Vocab("".join(chr(33 + i) for i in range(V)))
    t = clock()
    sample(model, vocab, "", n, seed=0)
    ours = n / (clock() - t)
    rnn, lin = bptt.to_torch(model)
    h = torch.zeros(1, 1, H)
    x = torch.zeros(1, 1, V)
    g = torch.Generator().manual_seed(0)
    t = clock()
    with torch.no_grad():
        i = 0
        for _ in range(n):
            x.zero_()
            x[0, 0, i] = 1
            out, h = rnn(x, h)
            p = torch.softmax(lin(out[0, 0]) / 0.8, -1)
            i = int(torch.multinomial(p, 1, generator=g))
    theirs = n / (clock() - t)
    return ours, theirs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds")
    ap.add_argument("--cells", default="rnn,lstm,gru", help="which cells, e.g. rnn,lstm")
    ap.add_argument("--sizes", default=None, help="e.g. 128x32x64,256x64x100 (HxBxT)")
    ap.add_argument("--clock", default="wall", choices=tuple(CLOCKS),
                    help="wall: elapsed time; cpu: this process's CPU time, which other jobs on a "
                         "busy machine do not inflate (with one thread each, the same on an idle one)")
    ap.add_argument("--kernels", default="both", choices=("both", "numpy"),
                    help="both: bptt on its NumPy path and on its compiled kernels (numba, where installed); "
                         "numpy: the NumPy path alone")
    args = ap.parse_args(argv)
    global clock
    clock = CLOCKS[args.clock]
    sizes = SIZES if not args.sizes else [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    cells = args.cells.split(",")
    torch.set_num_threads(THREADS)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; numpy {np.__version__} "
          f"(OPENBLAS_NUM_THREADS={THREADS}), torch {torch.__version__} ({torch.get_num_threads()} threads); "
          f"float32; vocabulary V={V}; {args.clock} clock; load average before the run {os.getloadavg()[0]:.1f}")
    rate = matmul_rate()
    print(f"float32 matmul rate (2048x2048 @ 2048x2048, numpy, best of 10, {args.clock} clock): {rate / 1e9:.1f} GFLOP/s")
    print("bound: the update's matrix products alone, each timed at its own shape in the same rounds "
          "(ProductBound); % = bound time / update time")
    fast = args.kernels == "both" and _kernels.available()
    print(f"bptt kernels: numpy{' and numba (bptt fast)' if fast else ' only (numba not installed or --kernels numpy)'}")
    print(f"{'cell':>4} {'H':>5} {'B':>4} {'T':>4} | {'bptt tok/s':>11} {'fast tok/s':>11} {'torch tok/s':>12} "
          f"{'bptt/torch':>10} {'fast/torch':>10} | {'bound tok/s':>11} {'bptt %':>6} {'fast %':>6} {'torch %':>7} | "
          f"{'min-char tok/s':>14} {'bptt/min-char':>13}")
    for cell in cells:
        for H, B, T in sizes:
            big = H * B * CELLS[cell][2] >= 512 * 64
            rounds = (3 if big else 5) if args.quick else (6 if big else 12)
            n = (rounds + 1) * 4 + 2                          # updates each runner makes
            runners = {"bptt": BpttRunner(cell, H, B, T, n), "torch": TorchRunner(cell, H, B, T, n),
                       "bound": ProductBound(cell, H, B, T)}
            if fast and cell != "rnn":                       # the RNN's step has no compiled path
                runners["fast"] = BpttRunner(cell, H, B, T, n, kernels="numba")
            if cell == "rnn" and (B == 1 or H <= 256):
                runners["minchar"] = MinCharRunner(H, B, T, n)
            t = measure(runners, rounds)
            t["bound"] = runners["bound"].seconds()
            tok = {k: (B if k != "minchar" else 1) * T / v for k, v in t.items()}
            mc = tok.get("minchar")
            f_tok = f"{tok['fast']:>11,.0f}" if "fast" in tok else f"{'-':>11}"
            f_ratio = f"{tok['fast'] / tok['torch']:>9.2f}x" if "fast" in tok else f"{'-':>10}"
            f_pct = f"{100 * t['bound'] / t['fast']:>5.0f}%" if "fast" in t else f"{'-':>6}"
            print(f"{cell:>4} {H:>5} {B:>4} {T:>4} | {tok['bptt']:>11,.0f} {f_tok} {tok['torch']:>12,.0f} "
                  f"{tok['bptt'] / tok['torch']:>9.2f}x {f_ratio} | {tok['bound']:>11,.0f} "
                  f"{100 * t['bound'] / t['bptt']:>5.0f}% {f_pct} {100 * t['bound'] / t['torch']:>6.0f}% | "
                  f"{(f'{mc:,.0f}' if mc else '-'):>14} {(f'{tok[chr(98)+chr(112)+chr(116)+chr(116)] / mc:.1f}x' if mc else '-'):>13}",
                  flush=True)
    for cell in cells:
        if cell == "rnn":
            continue
        for H, B, T in sizes:
            fn, ft, bn, bt = step_products(cell, H, B)
            print(f"{cell} H={H} B={B}: one step's recurrent product, us (median): forward numpy {fn:.1f}, "
                  f"torch.mm {ft:.1f}; backward numpy {bn:.1f}, torch.mm {bt:.1f}; over T={T} steps "
                  f"numpy takes {T * (fn + bn - ft - bt) / 1e3:+.2f} ms an update against torch.mm", flush=True)
    for B, H, ours, theirs in product_rates():
        print(f"one recurrent product ({B}x{H}) @ ({H}x{H}), float32: numpy {ours:.0f} GFLOP/s, "
              f"torch.mm {theirs:.0f} GFLOP/s")
    ours, theirs = sampling_speed(256)
    print(f"sampling, H=256, one character at a time: bptt {ours:,.0f} chars/s, torch {theirs:,.0f} chars/s "
          f"({ours / theirs:.2f}x)")


if __name__ == "__main__":
    main()
