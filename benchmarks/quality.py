"""Does bptt train like PyTorch? Same batches, same optimiser, side by side.

--baseline same-weights (default): bptt (hand-written BPTT, bptt.train.optim.Adam) and torch (nn.RNN +
nn.Linear on one-hot inputs, autograd, torch.optim.Adam, clip_grad_norm_) start from the same
weights and walk the same streams of tinyshakespeare with truncated BPTT (k2 = k1, the state
detached at window edges, reset at each epoch). Prints both validation losses (nats/char) at
several points, their difference, and the largest parameter difference.

--baseline embedding: bptt's default char-LM (as `bptt train` builds it, token-input
initialisation included) against PyTorch's usual small setup, nn.Embedding(V, H) + nn.RNN(H, H)
+ nn.Linear(H, V) with torch's own initialisation, on the same batches with the same optimiser
and clipping, for each of --seeds; prints the validation losses per seed and their means, and
saves the curves as a PNG (--plot).

    python benchmarks/quality.py                       # float64, 2000 updates
    python benchmarks/quality.py --steps 200 --hidden 64
    OPENBLAS_NUM_THREADS=1 python benchmarks/quality.py --baseline embedding --hidden 256 \
        --dtype float32 --seeds 0 1 2 --threads 1
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import bptt
import torch

from bptt.train.text import TrainConfig, Trainer, evaluate

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tinyshakespeare.txt"


def torch_val_loss(rnn, readout, x, y, V, chunk=512, embed=None):
    """Validation loss (nats/char) of torch modules; inputs one-hot, or embed(ids) when given."""
    total, count, h = 0.0, 0, None
    with torch.no_grad():
        for s in range(0, x.shape[0], chunk):
            ids = torch.from_numpy(np.asarray(x[s:s + chunk]))
            X = embed(ids) if embed is not None else torch.nn.functional.one_hot(ids, V).to(rnn.weight_ih_l0.dtype)
            out, h = rnn(X, h)
            o = readout(out)
            l = torch.nn.functional.cross_entropy(o.reshape(-1, V), torch.from_numpy(np.asarray(y[s:s + chunk])).reshape(-1),
                                                  reduction="sum")
            total += l.item()
            count += X.shape[0] * X.shape[1]
    return total / count


def compare(text, steps, hidden, seq_length, batch_size, lr, clip, dtype, checkpoints, threads=None):
    """Returns rows (step, bptt val, torch val, max |param diff|) and timings."""
    if threads:
        torch.set_num_threads(threads)
    # PyTorch's initialisation on both sides (input_init_std=None): nn.RNN's own, on one-hot inputs.
    config = TrainConfig(hidden=hidden, seq_length=seq_length, batch_size=batch_size, steps=steps, lr=lr,
                         clip=clip, dtype=dtype, sample_every=0, input_init_std=None)
    trainer = Trainer(config, text, Path("/nonexistent-not-written"))
    model, V, B, k1 = trainer.model, len(trainer.vocab), batch_size, seq_length
    rnn, readout = bptt.to_torch(model)
    # bptt has one bias b where nn.RNN has two (b = bias_ih + bias_hh); Adam would move each of
    # torch's by lr, so bias_hh stays frozen at zero and the parametrisations are the same.
    rnn.bias_hh_l0.requires_grad_(False)
    trained = [q for q in list(rnn.parameters()) + list(readout.parameters()) if q.requires_grad]
    topt = torch.optim.Adam(trained, lr=lr)
    x, y = trainer.x, trainer.y
    L = x.shape[0]
    tdtype = rnn.weight_ih_l0.dtype
    rows, t_bptt, t_torch = [], 0.0, 0.0
    pos, h = 0, None
    for step in range(1, steps + 1):
        t0 = time.perf_counter()
        trainer.train_step()
        t1 = time.perf_counter()
        if pos >= L:                                   # a new epoch starts from the zero state
            pos, h = 0, None
        X = torch.nn.functional.one_hot(torch.from_numpy(x[pos:pos + k1]), V).to(tdtype)
        Y = torch.from_numpy(y[pos:pos + k1])
        topt.zero_grad()
        out, h = rnn(X, None if h is None else h.detach())
        o = readout(out)
        loss = torch.nn.functional.cross_entropy(o.reshape(-1, V), Y.reshape(-1), reduction="sum") / B
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(trained, clip)
        topt.step()
        pos += X.shape[0]
        t2 = time.perf_counter()
        t_bptt += t1 - t0
        t_torch += t2 - t1
        if step in checkpoints:
            theirs = SimpleRNN_from(rnn, readout)
            diff = max(float(np.abs(model.params[k] - theirs[k]).max()) for k in model.params)
            rows.append((step, evaluate(model, *trainer.val), torch_val_loss(rnn, readout, *trainer.val, V), diff))
    return rows, t_bptt, t_torch


def versus_embedding(text, steps, hidden, seq_length, batch_size, lr, clip, dtype, seed, checkpoints,
                     input_init_std="default"):
    """bptt's default char-LM against nn.Embedding + nn.RNN + nn.Linear on the same batches.

    Both minimise the same objective (the sum over the window's steps, averaged over the batch,
    so clipping sees the same gradient scale) with Adam(lr) and global-norm clipping. torch's
    modules are initialised by torch (seeded with ``seed``), bptt's by ``TrainConfig`` (its
    default token-input initialisation unless ``input_init_std`` is given).
    Returns rows (step, bptt val, torch val) and the training seconds of each.
    """
    options = {} if input_init_std == "default" else {"input_init_std": input_init_std}
    config = TrainConfig(hidden=hidden, seq_length=seq_length, batch_size=batch_size, steps=steps, lr=lr,
                         clip=clip, dtype=dtype, sample_every=0, seed=seed, **options)
    trainer = Trainer(config, text, Path("/nonexistent-not-written"))
    V, B, k1 = len(trainer.vocab), batch_size, seq_length
    tdtype = torch.float32 if dtype == "float32" else torch.float64
    torch.manual_seed(seed)
    embed = torch.nn.Embedding(V, hidden).to(tdtype)
    rnn = torch.nn.RNN(hidden, hidden).to(tdtype)
    readout = torch.nn.Linear(hidden, V).to(tdtype)
    trained = [*embed.parameters(), *rnn.parameters(), *readout.parameters()]
    topt = torch.optim.Adam(trained, lr=lr)
    x, y = trainer.x, trainer.y
    L = x.shape[0]
    rows, t_bptt, t_torch = [], 0.0, 0.0
    pos, h = 0, None
    for step in range(1, steps + 1):
        t0 = time.perf_counter()
        trainer.train_step()
        t1 = time.perf_counter()
        if pos >= L:                                   # a new epoch starts from the zero state
            pos, h = 0, None
        ids = torch.from_numpy(np.asarray(x[pos:pos + k1]))
        Y = torch.from_numpy(np.asarray(y[pos:pos + k1]))
        topt.zero_grad()
        out, h = rnn(embed(ids), None if h is None else h.detach())
        loss = torch.nn.functional.cross_entropy(readout(out).reshape(-1, V), Y.reshape(-1), reduction="sum") / B
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(trained, clip)
        topt.step()
        pos += ids.shape[0]
        t_torch += time.perf_counter() - t1
        t_bptt += t1 - t0
        if step in checkpoints:
            rows.append((step, evaluate(trainer.model, *trainer.val),
                         torch_val_loss(rnn, readout, *trainer.val, V, embed=embed)))
    return rows, t_bptt, t_torch


def plot_embedding(results, path, title):
    """Validation curves, one pair per seed: bptt solid, torch dashed."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    for i, (seed, rows) in enumerate(results.items()):
        steps = [r[0] for r in rows]
        color = f"C{i}"
        ax.plot(steps, [r[1] for r in rows], color=color, lw=1.8, marker="o", ms=3, label=f"bptt, seed {seed}")
        ax.plot(steps, [r[2] for r in rows], color=color, lw=1.2, ls="--", label=f"nn.Embedding + nn.RNN, seed {seed}")
    ax.set_xscale("log")
    ax.set_xlabel("update")
    ax.set_ylabel("validation loss (nats per character)")
    import textwrap
    ax.set_title(textwrap.fill(title, 100), fontsize=8)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main_embedding(args, text, points):
    std = "default" if args.input_init_std is None else (None if args.input_init_std == 0 else args.input_init_std)
    shown = TrainConfig().input_init_std if std == "default" else std
    head = (f"tinyshakespeare, H={args.hidden}, k1=k2={args.seq_length}, B={args.batch_size}, Adam lr={args.lr:g}, "
            f"clip {args.clip:g}, {args.dtype}, bptt input_init_std={shown}, torch {torch.__version__}, "
            f"{torch.get_num_threads()} torch threads")
    print(head, flush=True)
    results, times = {}, []
    for seed in args.seeds:
        rows, tb, tt = versus_embedding(text, args.steps, args.hidden, args.seq_length, args.batch_size, args.lr,
                                        args.clip, args.dtype, seed, set(points), std)
        results[seed] = rows
        times.append((tb, tt))
        print(f"seed {seed}: " + ", ".join(f"{s}: bptt {vb:.4f} torch {vt:.4f}" for s, vb, vt in rows)
              + f"  (training time bptt {tb:.0f} s, torch {tt:.0f} s)", flush=True)
    print(f"{'update':>7} {'bptt val (mean)':>16} {'torch val (mean)':>17} {'bptt - torch':>13}")
    for i, step in enumerate(points):
        vb = float(np.mean([results[s][i][1] for s in args.seeds]))
        vt = float(np.mean([results[s][i][2] for s in args.seeds]))
        print(f"{step:>7} {vb:>16.4f} {vt:>17.4f} {vb - vt:>+13.4f}")
    finals = [(results[s][-1][1], results[s][-1][2]) for s in args.seeds]
    gap = float(np.mean([b - t for b, t in finals]))
    print(f"at update {points[-1]}, mean over seeds {list(args.seeds)}: bptt - torch = {gap:+.4f} nats/char "
          f"({'within' if gap <= 0.02 else 'NOT within'} 0.02); per seed "
          + ", ".join(f"{b - t:+.4f}" for b, t in finals))
    if args.plot:
        plot_embedding(results, args.plot, head)
        print(f"curves: {args.plot}")


def SimpleRNN_from(rnn, readout):
    from bptt import SimpleRNN
    return bptt.from_torch(rnn, readout, cell="rnn").params


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--seq-length", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--clip", type=float, default=5.0)
    ap.add_argument("--dtype", default="float64")
    ap.add_argument("--baseline", choices=("same-weights", "embedding"), default="same-weights")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="for --baseline embedding")
    ap.add_argument("--input-init-std", type=float, default=None,
                    help="for --baseline embedding: bptt's token-input std (default: TrainConfig's; 0: PyTorch's)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    ap.add_argument("--plot", type=Path, default=None, help="for --baseline embedding: save the curves here")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.data.is_file():
        sys.exit(f"quality.py: --data: expected tinyshakespeare.txt, got {args.data}, which does not exist")
    text = args.data.read_text()
    points = sorted({p for p in (1, 10, 50, 100, 200, 500, 1000, 1500, 2000, args.steps) if p <= args.steps})
    if args.baseline == "embedding":
        return main_embedding(args, text, points)
    rows, tb, tt = compare(text, args.steps, args.hidden, args.seq_length, args.batch_size, args.lr, args.clip,
                           args.dtype, set(points))
    print(f"tinyshakespeare, H={args.hidden}, k1=k2={args.seq_length}, B={args.batch_size}, Adam lr={args.lr:g}, "
          f"clip {args.clip:g}, {args.dtype}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'update':>7} {'bptt val':>12} {'torch val':>12} {'bptt - torch':>14} {'max |param diff|':>17}")
    for step, vb, vt, d in rows:
        print(f"{step:>7} {vb:>12.6f} {vt:>12.6f} {vb - vt:>14.2e} {d:>17.2e}")
    early = [abs(vb - vt) for s, vb, vt, _ in rows if s <= 200]
    last = rows[-1]
    print(f"first {min(200, args.steps)} updates: max |val difference| {max(early):.2e} nats/char "
          f"({'within' if max(early) < 1e-6 else 'NOT within'} 1e-6)")
    print(f"at update {last[0]}: bptt - torch = {last[1] - last[2]:+.4f} nats/char "
          f"({'no worse than' if last[1] <= last[2] + 0.01 else 'WORSE than'} torch + 0.01)")
    print(f"training time: bptt {tb:.1f} s, torch {tt:.1f} s (ratio torch/bptt {tt / tb:.2f})")


if __name__ == "__main__":
    main()
