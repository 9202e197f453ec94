"""Does bptt train like PyTorch? Same initial weights, same batches, same optimiser, side by side.

bptt (hand-written BPTT, bptt.optim.Adam) and torch (nn.RNN + nn.Linear, autograd,
torch.optim.Adam, clip_grad_norm_) start from the same weights and walk the same streams of
tinyshakespeare with truncated BPTT (k2 = k1, the state detached at window edges, reset at
each epoch). Prints both validation losses (nats/char) at several points, their difference,
and the largest parameter difference.

    python benchmarks/quality.py                       # float64, 2000 updates
    python benchmarks/quality.py --steps 200 --hidden 64
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

from bptt.train import TrainConfig, Trainer, evaluate

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tinyshakespeare.txt"


def torch_val_loss(rnn, readout, x, y, V, chunk=512):
    total, count, h = 0.0, 0, None
    with torch.no_grad():
        for s in range(0, x.shape[0], chunk):
            X = torch.nn.functional.one_hot(torch.from_numpy(x[s:s + chunk]), V).to(rnn.weight_ih_l0.dtype)
            out, h = rnn(X, h)
            o = readout(out)
            l = torch.nn.functional.cross_entropy(o.reshape(-1, V), torch.from_numpy(y[s:s + chunk]).reshape(-1),
                                                  reduction="sum")
            total += l.item()
            count += X.shape[0] * X.shape[1]
    return total / count


def compare(text, steps, hidden, seq_length, batch_size, lr, clip, dtype, checkpoints, threads=None):
    """Returns rows (step, bptt val, torch val, max |param diff|) and timings."""
    if threads:
        torch.set_num_threads(threads)
    config = TrainConfig(hidden=hidden, seq_length=seq_length, batch_size=batch_size, steps=steps, lr=lr,
                         clip=clip, dtype=dtype, sample_every=0)
    trainer = Trainer(config, text, Path("/nonexistent-not-written"))
    model, V, B, k1 = trainer.model, len(trainer.vocab), batch_size, seq_length
    rnn, readout = model.to_torch()
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


def SimpleRNN_from(rnn, readout):
    from bptt import SimpleRNN
    return SimpleRNN.from_torch(rnn, readout).params


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
    args = ap.parse_args(argv)
    if not args.data.is_file():
        sys.exit(f"quality.py: --data: expected tinyshakespeare.txt, got {args.data}, which does not exist")
    text = args.data.read_text()
    points = sorted({p for p in (1, 10, 50, 100, 200, 500, 1000, 1500, 2000, args.steps) if p <= args.steps})
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
