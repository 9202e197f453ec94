"""The loss curve of a run, as a PNG, from its metrics.jsonl."""

from __future__ import annotations

import json
import math
from pathlib import Path


def read_metrics(path) -> list[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def plot_loss(metrics_path, png_path, title="bptt train") -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(metrics_path)
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    train = [(r["step"], r["loss"]) for r in rows if r.get("loss") is not None and math.isfinite(r["loss"])]
    val = [(r["step"], r["val_loss"]) for r in rows if r.get("val_loss") is not None]
    if train:
        ax.plot(*zip(*train), color="tab:blue", lw=1, alpha=0.8, label="training (last window)")
    if val:
        ax.plot(*zip(*val), color="tab:orange", lw=2, marker="o", ms=4, label="validation (held-out text)")
    ax.set_xlabel("update (truncated-BPTT step)")
    ax.set_ylabel("loss (nats per character)")
    ax.set_title(f"{title}: cross-entropy per character as training proceeds")
    ax.grid(alpha=0.3)
    ax.legend()
    sec = ax.secondary_yaxis("right", functions=(lambda n: n / math.log(2), lambda b: b * math.log(2)))
    sec.set_ylabel("bits per character")
    fig.tight_layout()
    fig.savefig(png_path)
    plt.close(fig)
    return Path(png_path)
