"""Dropout against overfitting: the validation curves of `bptt train` runs, read from their files.

    python benchmarks/dropout_curves.py RUN_DIR [RUN_DIR ...] --out benchmarks/dropout

For each run folder: its config (checkpoint meta), and the training and validation loss of every
logged update (metrics.jsonl). Copies each run's metrics.jsonl and summary.json to
``--out/<name>/`` (the files the docs link to), draws the curves to ``--out/curves.png`` and
prints a Markdown table: the best validation loss and its update, the last one, and the
training loss at the end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def read(run: Path) -> dict:
    from bptt import checkpoint
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    config = checkpoint.load(run).meta["config"]
    val = [(r["step"], r["val_loss"]) for r in rows if r.get("val_loss") is not None]
    train = [(r["step"], r["loss"]) for r in rows if "loss" in r]
    best = min(val, key=lambda p: p[1])
    return {"run": run, "dropout": config.get("dropout", 0.0), "config": config, "val": val, "train": train,
            "best": best, "last": val[-1], "train_last": train[-1]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "dropout")
    args = p.parse_args(argv)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    runs = [read(r) for r in args.runs]
    args.out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    print("| --dropout | best validation loss (nats/char) | at update | last validation loss | last training loss |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for r, colour in zip(runs, ("tab:red", "tab:blue", "tab:green", "tab:purple")):
        name = f"p{r['dropout']:g}"
        (args.out / name).mkdir(exist_ok=True)
        for f in ("metrics.jsonl", "summary.json"):
            if (r["run"] / f).is_file():
                shutil.copyfile(r["run"] / f, args.out / name / f)
        label = f"dropout {r['dropout']:g}"
        ax.plot(*zip(*r["train"]), color=colour, alpha=0.35, lw=1, label=f"{label}: training" + (" (with its masks)" if r["dropout"] else ""))
        ax.plot(*zip(*r["val"]), color=colour, lw=2, label=f"{label}: validation (no masks)")
        ax.scatter([r["best"][0]], [r["best"][1]], color=colour, zorder=3)
        print(f"| {r['dropout']:g} | {r['best'][1]:.4f} | {r['best'][0]} | {r['last'][1]:.4f} | "
              f"{r['train_last'][1]:.4f} |")
    c = runs[0]["config"]
    ax.set_xlabel("update")
    ax.set_ylabel("loss (nats per character)")
    ax.set_title(f"{c['layers']}-layer {c['cell'].upper()}, H = {c['hidden']}: training and validation loss")
    ax.set_ylim(top=max(2.6, min(v for r in runs for _, v in r["val"]) + 1.0), bottom=0.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out / "curves.png", dpi=120)
    print(f"\npicture: {args.out / 'curves.png'}")


if __name__ == "__main__":
    main()
