"""Char-level language model on tinyshakespeare: bptt's 2-layer LSTM against PyTorch's, and the simple RNN.

Three runs walk the same B parallel streams of the same training text, in one interleaved loop:

- bptt: the path ``bptt train --cell lstm --layers 2`` runs (``Trainer`` and ``TrainConfig`` of
  ``bptt.train.text``: truncated BPTT over sequential streams, the state carried from window to
  window and reset at each epoch, global-norm clipping, ``bptt.train.optim.Adam``);
- torch: ``nn.LSTM(num_layers=2)`` + ``nn.Linear`` on one-hot inputs, started from the bptt
  model's initial weights (``bptt.to_torch``, whatever the trainer initialised), trained by
  autograd with the state detached at window edges, ``clip_grad_norm_`` and ``torch.optim.Adam``
  (same lr, betas and eps); ``bias_hh`` stays frozen at zero, since bptt has one bias where
  torch has two and Adam would move each of them by lr;
- rnn: ``bptt train --cell rnn --layers 1`` with every other setting the same;
- with ``--nudged``, bptt's LSTM again from weights one float ulp away: how far round-off
  alone parts two trainings of the same model, the yardstick for bptt - torch.

Every few updates each model is evaluated by ``bptt.train.text.evaluate`` on the same held-out
streams (torch's weights read back through ``from_torch``); at the end torch's own forward
evaluates its model too, as a check on that read-back. Prints a table of validation losses
(nats/char), the differences and the seconds each run trained, and writes ``char_lm.json``
and ``char_lm.png`` (validation loss against updates, three curves) into ``--out``.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/char_lm.py --out runs/char_lm --steps 1000
    python benchmarks/char_lm.py --out runs/char_lm_2000 --no-torch          # H=128, 2000 updates, float32
    python benchmarks/char_lm.py --out /tmp/c --steps 100 --hidden 64 --dtype float64 --nudged

One thread each keeps a busy 2-core machine from stalling on threads that wait for each other.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import bptt
import torch

from bptt import Network
from bptt.train.optim import OPTIMIZERS
from bptt.train.text import TrainConfig, Trainer, evaluate

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tinyshakespeare.txt"
NOWHERE = Path("/nonexistent-not-written")      # Trainer writes only from run() and save(), never called here
TWIN_CELLS = ("rnn", "lstm")                    # cells whose b = bias_ih + bias_hh: freezing bias_hh is exact


class TorchTwin:
    """PyTorch's module + nn.Linear from a bptt model's weights, trained as ``Trainer`` trains it.

    The walk is the trainer's: windows of k1 steps of the (L, B) streams x, y (the last one
    shorter), the state carried across windows and detached at their edges (k2 = k1), the zero
    state at each epoch's start; the loss is the sum over steps of the batch-mean cross-entropy.
    """

    def __init__(self, model, config: TrainConfig):
        if config.cell not in TWIN_CELLS or config.k2 != config.seq_length:
            raise ValueError(f"--cell: expected one of {', '.join(TWIN_CELLS)} with k2 = k1, "
                             f"got {config.cell!r} with k2 = {config.k2}, k1 = {config.seq_length}")
        if config.optimizer != "adam" or config.clip_value is not None or config.lr_decay != 1.0:
            raise ValueError("TorchTwin: expected Adam, global-norm clipping only and no lr decay")
        self.config = config
        self.module, self.readout = bptt.to_torch(model)
        for name, p in self.module.named_parameters():
            if name.startswith("bias_hh"):
                p.requires_grad_(False)
        self.trained = [p for p in [*self.module.parameters(), *self.readout.parameters()] if p.requires_grad]
        adam = OPTIMIZERS["adam"].defaults
        self.opt = torch.optim.Adam(self.trained, lr=config.lr, betas=(adam["beta1"], adam["beta2"]),
                                    eps=adam["eps"])
        self.n_in = model.n_in
        self.dtype = self.module.weight_ih_l0.dtype
        self.position, self.state = 0, None

    def inputs(self, ids):
        return torch.nn.functional.one_hot(torch.from_numpy(np.asarray(ids, dtype=np.int64)), self.n_in).to(self.dtype)

    def train_step(self, x, y):
        """One update on the next window of the streams x, y (L, B); returns the loss per character."""
        k1, L = self.config.seq_length, x.shape[0]
        if self.position >= L:                          # a new epoch starts from the zero state
            self.position, self.state = 0, None
        start, stop = self.position, min(self.position + k1, L)
        X, Y = self.inputs(x[start:stop]), torch.from_numpy(np.asarray(y[start:stop], dtype=np.int64))
        B = X.shape[1]
        self.opt.zero_grad()
        state = None if self.state is None else detach(self.state)
        out, self.state = self.module(X, state)                                   # (n, B, H)
        o = self.readout(out)                                                     # (n, B, O)
        loss = torch.nn.functional.cross_entropy(o.reshape(-1, o.shape[-1]), Y.reshape(-1), reduction="sum") / B
        loss.backward()
        if self.config.clip is not None:
            torch.nn.utils.clip_grad_norm_(self.trained, self.config.clip)
        self.opt.step()
        self.position = stop
        return loss.item() / (stop - start)

    def as_bptt(self) -> Network:
        return bptt.from_torch(self.module, self.readout)

    def own_val_loss(self, x, y, chunk=128) -> float:
        """Mean cross-entropy per character by torch's own forward, state carried across chunks."""
        total, count, state = 0.0, 0, None
        with torch.no_grad():
            for s in range(0, x.shape[0], chunk):
                X = self.inputs(x[s:s + chunk])
                out, state = self.module(X, state)
                o = self.readout(out)
                Y = torch.from_numpy(np.asarray(y[s:s + chunk], dtype=np.int64))
                total += torch.nn.functional.cross_entropy(o.reshape(-1, o.shape[-1]), Y.reshape(-1),
                                                           reduction="sum").item()
                count += Y.numel()
        return total / count


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def max_param_diff(a: Network, b: Network) -> float:
    return max(float(np.abs(a.params[k] - b.params[k]).max()) for k in a.params)


def nudge(model: Network) -> None:
    """Move every parameter by one unit in the last place, towards +inf: a perturbation the size
    of one rounding, to measure how far round-off alone parts two trainings of the same model."""
    model.set_params({k: np.nextafter(v, np.inf) for k, v in model.params.items()})


def compare(text, config: TrainConfig, points, *, torch_twin=True, baseline: TrainConfig | None = None,
            nudged=False, progress=None, on_row=None):
    """Train bptt (``config``) and, side by side on the same streams, its torch twin, ``baseline``
    (another config, bptt alone) and a bptt run from weights one rounding away (``nudged``).

    points: the update counts at which all are evaluated. Returns a dict: ``rows``, one per
    point {step, bptt[, torch, param_diff][, nudged, nudged_diff][, baseline]} (validation losses
    in nats/char; the largest parameter difference from bptt's), ``seconds`` of training for
    each run (evaluation excluded), ``clipped`` (how many of bptt's updates the clip scaled),
    ``torch_own`` (torch's own forward on the validation streams at the last point) and sizes.
    progress(step, seconds): called after every update with the seconds each run has trained so far.
    on_row(partial): called at every point with the result so far (without ``torch_own``).
    """
    points = sorted(set(points))
    ours = Trainer(config, text, NOWHERE)
    if ours.val is None:
        raise ValueError("--val-fraction: expected a held-out text longer than one window, got none")
    # Each run: (its update, its model as a bptt Network for evaluate); bptt's own first.
    runs = {"bptt": (ours.train_step, lambda: ours.model)}
    twin = None
    if torch_twin:
        twin = TorchTwin(ours.model, config)
        runs["torch"] = (lambda: twin.train_step(ours.x, ours.y), twin.as_bptt)
    if nudged:
        near = Trainer(config, text, NOWHERE)
        nudge(near.model)                 # the optimiser and the walk read model.params at each update
        runs["nudged"] = (near.train_step, lambda: near.model)
    if baseline is not None:
        base = Trainer(baseline, text, NOWHERE)
        runs["baseline"] = (base.train_step, lambda: base.model)
    seconds = dict.fromkeys(runs, 0.0)
    rows, clipped = [], 0
    sizes = {"val_chars": int(ours.val[0].shape[0] * ours.val[0].shape[1]),
             "train_chars": int(ours.x.shape[0] * ours.x.shape[1]), "vocab": len(ours.vocab)}
    for step in range(1, config.steps + 1):
        for name, (train_step, _) in runs.items():
            t0 = time.perf_counter()
            out = train_step()
            seconds[name] += time.perf_counter() - t0
            if name == "bptt":
                clipped += out[3]
        if step in points:
            row = {"step": step}
            for name, (_, model) in runs.items():
                m = model()
                row[name] = evaluate(m, *ours.val)
                if name in ("torch", "nudged"):
                    row["param_diff" if name == "torch" else "nudged_diff"] = max_param_diff(ours.model, m)
            rows.append(row)
            if on_row is not None:
                on_row({"rows": list(rows), "seconds": dict(seconds), "clipped": clipped, **sizes})
        if progress is not None:
            progress(step, dict(seconds))
    own = twin.own_val_loss(*ours.val) if twin is not None else None
    return {"rows": rows, "seconds": seconds, "clipped": clipped, "torch_own": own, **sizes}


# ----------------------------------------------------------------------------- the command
def plot(result, path: Path, title: str):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = result["rows"]
    steps = [r["step"] for r in rows]
    gaps = [k for k in ("torch", "nudged") if k in rows[0]]       # beside bptt's LSTM, on a log scale
    if gaps:
        fig, (ax, dx) = plt.subplots(2, 1, figsize=(8, 7.5), sharex=True, gridspec_kw={"height_ratios": [3, 1.4]})
    else:
        fig, ax = plt.subplots(figsize=(8, 5.5))
        ax.set_xlabel("updates")
    ax.plot(steps, [r["bptt"] for r in rows], "o-", color="C0", label="bptt LSTM (bptt train)")
    if "torch" in rows[0]:
        ax.plot(steps, [r["torch"] for r in rows], "x--", color="C1", ms=8,
                label="torch nn.LSTM, same start")
    if "nudged" in rows[0]:
        ax.plot(steps, [r["nudged"] for r in rows], "+:", color="C4", ms=9,
                label="bptt LSTM, start nudged by one rounding")
    if "baseline" in rows[0]:
        ax.plot(steps, [r["baseline"] for r in rows], "s-", color="C2", label="bptt 1-layer simple RNN")
    ax.set_ylabel("validation loss (nats/char)")
    ax.set_title(textwrap.fill(title, 95), fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    later = [v for r in rows[1:] for k, v in r.items() if k in ("bptt", "torch", "nudged", "baseline")]
    if later:              # the first point (loss near log V) would flatten the curves that matter
        ax.set_ylim(min(later) - 0.1, min(4.5, max(later) + 0.3))
    if gaps:
        floor = 1e-12           # a log axis has no 0: an exact agreement is drawn here
        for other, style in (("torch", "o-k"), ("nudged", "+:")):
            if other in gaps:
                diffs = [abs(r["bptt"] - r[other]) for r in rows]
                zero = " (0 drawn at 1e-12)" if min(diffs) < floor else ""
                dx.semilogy(steps, [max(g, floor) for g in diffs], style,
                            **({"color": "C4"} if other == "nudged" else {}), label=f"|bptt - {other}|{zero}")
        dx.axhline(0.03, color="C3", ls=":", label="0.03 nats/char")
        dx.set_ylabel("|difference|")
        dx.set_xlabel("updates")
        dx.grid(alpha=0.3, which="both")
        dx.legend(loc="lower right")
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


def table(result) -> list[str]:
    rows = result["rows"]
    columns = [("update", lambda r: f"{r['step']}"), ("bptt LSTM", lambda r: f"{r['bptt']:.6f}")]
    if "torch" in rows[0]:
        columns += [("torch LSTM", lambda r: f"{r['torch']:.6f}"),
                    ("bptt-torch", lambda r: f"{r['bptt'] - r['torch']:+.2e}"),
                    ("max|dparam|", lambda r: f"{r['param_diff']:.2e}")]
    if "nudged" in rows[0]:
        columns += [("bptt nudged", lambda r: f"{r['nudged']:.6f}"),
                    ("bptt-nudged", lambda r: f"{r['bptt'] - r['nudged']:+.2e}")]
    if "baseline" in rows[0]:
        columns += [("bptt RNN", lambda r: f"{r['baseline']:.4f}"),
                    ("RNN-LSTM", lambda r: f"{r['baseline'] - r['bptt']:+.4f}")]
    cells = [[name for name, _ in columns]] + [[f(r) for _, f in columns] for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return [" ".join(c.rjust(w) for c, w in zip(line, widths)) for line in cells]


class Progress:
    """One plain line every ``every`` updates: speed of each run and the time left."""

    def __init__(self, steps, every, stream=sys.stderr):
        self.steps, self.every, self.stream, self.t0 = steps, every, stream, time.perf_counter()

    def __call__(self, step, seconds):
        if step % self.every and step != self.steps:
            return
        elapsed = time.perf_counter() - self.t0
        left = elapsed / step * (self.steps - step)
        speeds = "  ".join(f"{k} {v / step * 1e3:.0f} ms/update" for k, v in seconds.items())
        print(f"update {step}/{self.steps}  {speeds}  elapsed {elapsed:.0f} s, about {left:.0f} s left",
              file=self.stream, flush=True)


def fail(message):
    print(f"char_lm.py: error: {message}", file=sys.stderr)
    sys.exit(2)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for char_lm.json and char_lm.png")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--seq-length", type=int, default=64, help="k1 = k2")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--clip", type=float, default=5.0)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-at", type=int, nargs="+", default=None,
                    help="update counts to evaluate at (default 1, 50, 100, 250, 500, then every 250)")
    ap.add_argument("--no-rnn", action="store_true", help="skip the simple RNN baseline")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch's twin")
    ap.add_argument("--nudged", action="store_true",
                    help="also train bptt from weights one rounding away: how far round-off alone parts two runs")
    args = ap.parse_args(argv)
    if not args.data.is_file():
        fail(f"--data: expected the tinyshakespeare text file, got {str(args.data)!r}, which does not exist")
    if args.out.exists() and not args.out.is_dir():
        fail(f"--out: expected a folder, got {str(args.out)!r}, which is a file")
    try:
        config = TrainConfig(cell="lstm", layers=args.layers, hidden=args.hidden, seq_length=args.seq_length,
                             batch_size=args.batch_size, steps=args.steps, lr=args.lr, clip=args.clip,
                             dtype=args.dtype, seed=args.seed, sample_every=0).validate()
    except ValueError as err:
        fail(str(err))
    baseline = None if args.no_rnn else dataclasses.replace(config, cell="rnn", layers=1)
    points = args.eval_at or [1, 50, 100, 250, *range(500, args.steps + 1, 250), args.steps]
    bad = [p for p in points if not 1 <= p <= args.steps]
    if bad:
        fail(f"--eval-at: expected update counts in [1, --steps {args.steps}], got {bad[0]}")
    args.out.mkdir(parents=True, exist_ok=True)
    text = args.data.read_text()
    setting = (f"tinyshakespeare, H={config.hidden}, {config.layers}-layer LSTM, "
               f"k1=k2={config.seq_length}, B={config.batch_size}, Adam lr={config.lr:g}, clip {config.clip:g}, "
               f"{config.dtype}, torch {torch.__version__} ({torch.get_num_threads()} threads)")
    print(setting, flush=True)
    header = {"command": "python benchmarks/char_lm.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "setting": setting, "config": dataclasses.asdict(config),
              "baseline_config": dataclasses.asdict(baseline) if baseline else None,
              "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "numpy": np.__version__,
                          "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                          **{k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}}}

    def save(result):
        """JSON and picture after every evaluation, so a stopped run keeps what it measured."""
        tmp = args.out / ".char_lm.json.tmp"
        tmp.write_text(json.dumps({**header, **result}, indent=1))
        os.replace(tmp, args.out / "char_lm.json")
        plot(result, args.out / "char_lm.png", setting)

    result = compare(text, config, points, torch_twin=not args.no_torch, baseline=baseline, nudged=args.nudged,
                     progress=Progress(args.steps, 50), on_row=save)
    for line in table(result):
        print(line)
    last = result["rows"][-1]
    if "torch" in last:
        gap = last["bptt"] - last["torch"]
        print(f"at update {last['step']}: bptt - torch = {gap:+.4f} nats/char "
              f"({'within' if abs(gap) <= 0.03 else 'NOT within'} 0.03); torch's own forward on its weights: "
              f"{result['torch_own']:.6f} (bptt's evaluate: {last['torch']:.6f})")
    if "nudged" in last:
        print(f"at update {last['step']}: bptt - bptt nudged by one rounding = {last['bptt'] - last['nudged']:+.4f} "
              f"nats/char")
    if baseline is not None:
        print(f"at update {last['step']}: the 1-layer RNN is {last['baseline'] - last['bptt']:+.4f} nats/char "
              f"above the 2-layer LSTM")
    sec = result["seconds"]
    print("training seconds (evaluation excluded; a shared machine, noisy): "
          + ", ".join(f"{k} {v:.0f} s" for k, v in sec.items()))
    save(result)
    print(f"wrote {args.out / 'char_lm.json'} and {args.out / 'char_lm.png'}")


if __name__ == "__main__":
    main()
