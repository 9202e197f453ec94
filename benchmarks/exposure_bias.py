"""Teacher forcing's exposure bias, measured: a Seq2Seq trained on reverse (or sort) with
teacher-forced inputs, scored on held-out pairs every --eval-every updates both ways: with the
true previous tokens as the decoder's inputs, and free-running (its own previous most likely
token). Prints a table of the run folder's metrics.jsonl and saves a PNG beside it.

    OPENBLAS_NUM_THREADS=1 python benchmarks/exposure_bias.py --task reverse --length 10 --steps 1500 \\
        --out /tmp/exposure

One thread; times are CPU seconds (time.process_time), the machine being shared.
"""

import argparse
import json
from pathlib import Path

from bptt.train.task import default_config, train


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", default="reverse", choices=("reverse", "sort"))
    p.add_argument("--cell", default="lstm")
    p.add_argument("--length", type=int, default=10)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--eval-size", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    config = default_config(a.task, a.cell, length=a.length, hidden=a.hidden, steps=a.steps, eval_every=a.eval_every,
                            eval_size=a.eval_size, seed=a.seed, batch_size=64,
                            lr_decay=1.0)          # the constant rate its table in docs/seq2seq.md was measured at
    result = train(config, a.out)
    rows = [json.loads(line) for line in (a.out / "metrics.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "free_loss" in r]
    head = (f"{'update':>7} {'cpu s':>7} {'loss forced':>12} {'loss free':>10} {'tokens wrong forced':>20} "
            f"{'tokens wrong free':>18} {'seqs wrong forced':>18} {'seqs wrong free':>16}")
    print(f"{a.task}, lengths 1..{a.length}, {a.cell} H={a.hidden}, B=64, {len(rows)} held-out scores "
          f"on {a.eval_size} sequences")
    print(head)
    for r in rows:
        print(f"{r['step']:>7} {r['cpu_seconds']:>7.1f} {r['loss']:>12.4f} {r['free_loss']:>10.4f} "
              f"{r['forced_token_wrong']:>20.4f} {r['free_token_wrong']:>18.4f} {r['forced_wrong']:>18.4f} "
              f"{r['free_wrong']:>16.4f}")
    print(f"solved: {result['solved']} after {result['updates']} updates")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    x = [r["step"] for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4), dpi=110, constrained_layout=True)
    ax1.plot(x, [r["loss"] for r in rows], label="teacher-forced inputs")
    ax1.plot(x, [r["free_loss"] for r in rows], label="free-running")
    ax1.set(xlabel="update", ylabel="held-out loss per target step (nats)", yscale="log",
            title=f"{a.task}: held-out loss")
    ax2.plot(x, [r["forced_token_wrong"] for r in rows], label="tokens wrong, teacher-forced")
    ax2.plot(x, [r["free_token_wrong"] for r in rows], label="tokens wrong, free-running")
    ax2.plot(x, [r["free_wrong"] for r in rows], "k:", label="sequences not whole (both ways)")
    ax2.set(xlabel="update", ylabel="share wrong", title="held-out errors")
    for ax in (ax1, ax2):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.savefig(a.out / "exposure_bias.png")
    print(f"figure: {a.out / 'exposure_bias.png'}")


if __name__ == "__main__":
    main()
