"""The loss curve of a run, as a PNG, from its metrics.jsonl."""

from __future__ import annotations

import json
import math
from pathlib import Path


def read_metrics(path) -> list[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def plot_loss(metrics_path, png_path, title="bptt train") -> Path:
    """loss.png of a text run: its training and validation losses, and the steps where a resume
    changed a setting (a vertical line labelled with the change)."""
    import matplotlib.pyplot as plt

    fig = loss_figure(read_metrics(metrics_path), title)
    fig.savefig(png_path)
    plt.close(fig)
    return Path(png_path)


def loss_figure(rows: list[dict], title="bptt train"):
    """The figure of ``plot_loss`` from the rows of a run's metrics.jsonl."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .text import describe_changes

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    train = [(r["step"], r["loss"]) for r in rows if r.get("loss") is not None and math.isfinite(r["loss"])]
    val = [(r["step"], r["val_loss"]) for r in rows if r.get("val_loss") is not None]
    if train:
        ax.plot(*zip(*train), color="tab:blue", lw=1, alpha=0.8, label="training (last window)")
    if val:
        ax.plot(*zip(*val), color="tab:orange", lw=2, marker="o", ms=4, label="validation (held-out text)")
    for r in rows:
        if isinstance(r.get("resumed"), dict):       # a resume that changed settings: the curve may bend here
            ax.axvline(r["step"], color="tab:gray", ls="--", lw=1,
                       label=f"resumed at step {r['step']}: {describe_changes(r['resumed'])}")
    ax.set_xlabel("update (truncated-BPTT step)")
    ax.set_ylabel("loss (nats per character)")
    ax.set_title(f"{title}: cross-entropy per character as training proceeds")
    ax.grid(alpha=0.3)
    ax.legend()
    sec = ax.secondary_yaxis("right", functions=(lambda n: n / math.log(2), lambda b: b * math.log(2)))
    sec.set_ylabel("bits per character")
    fig.tight_layout()
    return fig


def plot_task_curve(metrics_path, png_path, result) -> Path:
    """A long-lag task run (``task_train``): the held-out metric against the sequences seen,
    with the baseline and the criterion drawn, and the training loss beside it."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(metrics_path)
    evals = [(r["sequences"], r["metric"]) for r in rows if r.get("metric") is not None]
    train = [(r["sequences"], r["loss"]) for r in rows if r.get("loss") is not None and math.isfinite(r["loss"])]
    val = [(r["sequences"], r["val_loss"]) for r in rows if r.get("val_loss") is not None]
    fig, (a_metric, a_loss) = plt.subplots(1, 2, figsize=(12, 4.6), dpi=120, constrained_layout=True)
    if evals:
        a_metric.plot(*zip(*evals), color="tab:blue", lw=2, marker="o", ms=3,
                      label=f"held-out ({result['eval_size']:,} sequences)")
    a_metric.axhline(result["baseline"], color="tab:red", ls="--", lw=1.2,
                     label=f"baseline {result['baseline']:.4g} ({result['baseline_means']})")
    threshold = result["threshold"]
    a_metric.axhline(threshold, color="tab:green", ls=":", lw=1.5,
                     label=f"solved: {result['criterion']} (threshold {threshold:g})")
    positive = [v for _, v in evals if v > 0] + [threshold, result["baseline"]]
    a_metric.set_yscale("log")
    a_metric.set_ylim(min(positive) / 2, max(max(positive) * 1.5, 1.05) * 8)    # room above for the legend
    a_metric.set_xlabel("training sequences seen")
    a_metric.set_ylabel(f"{result['metric_name']} (log scale)")
    verdict = "solved" if result["solved"] else "not solved"
    a_metric.set_title(f"{result['task']}, T = {result['length']}, {result['cell']}: {verdict} "
                       f"after {result['updates']:,} updates")
    a_metric.grid(alpha=0.3, which="both")
    a_metric.legend(fontsize=8)
    if train:
        a_loss.plot(*zip(*train), color="tab:blue", lw=1, alpha=0.7, label="training batch")
    if val:
        a_loss.plot(*zip(*val), color="tab:orange", lw=2, marker="o", ms=3, label="held-out")
    if result.get("loss_baseline") is not None:
        a_loss.axhline(result["loss_baseline"], color="tab:red", ls="--", lw=1.2,
                       label=f"baseline {result['loss_baseline']:.4g}")
    a_loss.set_yscale("log")
    a_loss.set_xlabel("training sequences seen")
    from ..data.tasks import TASKS
    task = TASKS.get(result["task"])
    unit = "nats" if task is None or task.output == "softmax" else "1/2 squared error"
    a_loss.set_ylabel(f"loss per target step ({unit}, log scale)")
    a_loss.set_title("Training loss")
    a_loss.grid(alpha=0.3, which="both")
    a_loss.legend(fontsize=8)
    fig.savefig(png_path)
    plt.close(fig)
    return Path(png_path)
