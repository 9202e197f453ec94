"""Fine-tuning against a fresh start: validation loss on the new text, update by update.

Reads the metrics.jsonl of two runs on the same text, one started with --init-from and one
fresh, prints their validation losses side by side and saves both curves as a PNG:

    bptt train --steps 2000 --sample-every 0 --out runs/pydoc          # A: the embedded corpus
    bptt train tinyshakespeare.txt --init-from runs/pydoc --steps 300 --eval-every 10 --sample-every 0 --out runs/ft
    bptt train tinyshakespeare.txt --steps 300 --eval-every 10 --sample-every 0 --out runs/fresh
    python benchmarks/finetune.py runs/ft runs/fresh --plot finetune.png
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def val_losses(run: Path) -> dict:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    return {r["step"]: r["val_loss"] for r in rows if "val_loss" in r}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("finetuned", type=Path, help="the run started with --init-from")
    ap.add_argument("fresh", type=Path, help="the run on the same text from a fresh start")
    ap.add_argument("--plot", type=Path, default=None)
    args = ap.parse_args(argv)
    for run in (args.finetuned, args.fresh):
        if not (run / "metrics.jsonl").is_file():
            sys.exit(f"finetune.py: expected a run folder with metrics.jsonl, got {str(run)!r}")
    first = json.loads((args.finetuned / "metrics.jsonl").read_text().splitlines()[0])
    ft, fresh = val_losses(args.finetuned), val_losses(args.fresh)
    steps = sorted(set(ft) & set(fresh))
    if "init_from" in first:
        n = first["init_from"]
        print(f"{args.finetuned} from {n['run']}: {n['shared']} characters shared, {n['new']} new, "
              f"{n['dropped']} dropped")
    print(f"{'update':>7} {'fine-tuned val':>15} {'fresh val':>10} {'difference':>11}")
    for s in steps:
        print(f"{s:>7} {ft[s]:>15.4f} {fresh[s]:>10.4f} {ft[s] - fresh[s]:>+11.4f}")
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
        ax.plot(steps, [ft[s] for s in steps], lw=2, label=f"fine-tuned ({args.finetuned})")
        ax.plot(steps, [fresh[s] for s in steps], lw=2, ls="--", label=f"fresh ({args.fresh})")
        ax.set_xlabel("update on the new text")
        ax.set_ylabel("validation loss on the new text (nats per character)")
        ax.set_title("--init-from against a fresh start, same text, flags and batches")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot)
        plt.close(fig)
        print(f"curves: {args.plot}")


if __name__ == "__main__":
    main()
