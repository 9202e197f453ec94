"""Pictures of the lag diagnostics (``diagnose.py``): PNG files, drawn off-screen (Agg).

Each function takes the numbers and a path, writes one PNG and returns the path.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")                      # files only: no display on servers or in CI
import matplotlib.pyplot as plt            # noqa: E402
import numpy as np                         # noqa: E402
from matplotlib.colors import LogNorm      # noqa: E402

# Plotted magnitudes are clipped to this many decades around 1 so that a single runaway
# curve (radius 2, linear) does not squash every other curve into a line.
DECADES = 40
DPI = 120


def _save(fig, path) -> Path:
    path = Path(path)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _positive(values):
    """Log axes cannot show 0 or NaN: leave those points out."""
    v = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def _loss_unit(output):
    return "nats" if output == "softmax" else "loss units"


def _layer(layers):
    """(where, W): for a stack, the layer whose h(k) the errors followed reach and its W's name
    ("layer 1, the top of 2", "W_l1"); for one layer ("", "W"). ``lag_profile`` follows the top layer."""
    top = layers - 1
    return (f"layer {top}, the top of {layers}", f"W_l{top}") if layers > 1 else ("", "W")


def _reverse_W(W):
    return W + "_reverse"


def plot_lag(profile, sweep, path, *, title_extra="", layers=1, reverse=None) -> Path:
    """ratio[lag] on a log scale, one curve per swept radius, the model's own curve in black.
    layers: the model's; a stack's picture names the layer it shows (the top one). reverse: a
    bidirectional model's reverse-direction profile, drawn as a second curve: the share of the
    loss at t reaching h_reverse(t + lag), its chain running from later steps to earlier ones."""
    where, W = _layer(layers)
    fig, ax = plt.subplots(figsize=(9, 5.5), constrained_layout=True)
    cmap = plt.get_cmap("coolwarm")
    radii = sorted(sweep)
    lo_r, hi_r = (math.log(min(radii)), math.log(max(radii))) if radii else (0.0, 0.0)
    shown = []
    for r in radii:
        # blue below radius 1 (shrinking), red above (growing), darker further from 1; the
        # pale middle of the colour map is skipped so that every curve stays visible
        side = math.log(r) / (-lo_r if r < 1 else hi_r) if r != 1 and (lo_r < 0 < hi_r) else 0.0
        color = "0.35" if r == 1 else cmap(0.5 + math.copysign(0.2 + 0.3 * min(abs(side), 1.0), math.log(r)))
        ratio = _positive(sweep[r].ratio)
        ax.plot(np.arange(len(ratio)), ratio, color=color, lw=1.6, ls="--" if r == 1 else "-",
                label=f"W rescaled to radius {r:g}")
        shown.append(ratio)
    own = _positive(profile.ratio)

    def bound(p, name):
        return f"{name} of radius {p.radius:.3g}, $\\sigma_{{max}}$ {p.sigma_max:.3g}" if p.radius is not None else p.cell

    if reverse is None:
        label = (f"this model: {bound(profile, W)}" if profile.radius is not None else f"this model ({profile.cell})")
    else:
        label = f"forward direction: h_forward(t - lag) ({bound(profile, W)})"
    ax.plot(np.arange(len(own)), own, color="black", lw=3.2, label=label)
    shown.append(own)
    if reverse is not None:
        back = _positive(reverse.ratio)
        ax.plot(np.arange(len(back)), back, color="tab:orange", lw=3.2, ls="--",
                label=f"reverse direction: h_reverse(t + lag) ({bound(reverse, _reverse_W(W))})")
        shown.append(back)
    ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
    ax.set_yscale("log")
    finite = np.concatenate([s[np.isfinite(s)] for s in shown]) if shown else np.array([1.0])
    if finite.size:
        ax.set_ylim(max(finite.min(), 10.0 ** -DECADES) / 3, min(finite.max(), 10.0 ** DECADES) * 3)
        if finite.min() < 10.0 ** -DECADES or finite.max() > 10.0 ** DECADES:
            ax.text(0.99, 0.01, f"axis cut at 1e-{DECADES} and 1e+{DECADES}; diagnostics.json has every value",
                    transform=ax.transAxes, ha="right", va="bottom", fontsize=8, color="0.3")
    ax.set_xlim(0, len(own) - 1)
    kind = f"{profile.nonlinearity} RNN" if profile.nonlinearity else profile.cell.upper()
    if reverse is None:
        ax.set_xlabel("lag t - k (time steps back from the step t whose loss is followed)")
        ax.set_ylabel("||dl(t)/dh(k)|| / ||dl(t)/dh(t)||  (ratio, log scale)")
        reaches = "h(t - lag)"
    else:
        ax.set_xlabel("lag |t - k| (steps along each direction's chain from the step t whose loss is "
                      "followed:\nback to k = t - lag for the forward direction, on to k = t + lag for the reverse one)")
        ax.set_ylabel("||dl(t)/dh(k)|| / ||dl(t)/dh(t)||  (ratio, log scale)")
        reaches, kind = "h_forward(t - lag) and h_reverse(t + lag)", f"bidirectional {kind}"
    ax.set_title(f"How much of each step's error reaches {reaches}{f' of {where}' if where else ''}: {kind}"
                 + (", W rescaled per curve" if radii else "") + (f"\n{title_extra}" if title_extra else ""))
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="best", ncol=2)
    return _save(fig, path)


def plot_lags_beside(profiles, path, *, title="", note="") -> Path:
    """Several models' ratio[lag] in one picture: {label: LagProfile}, e.g. a simple RNN beside
    an LSTM on the same text, whose errors reach further back along the cell state's additive path."""
    fig, ax = plt.subplots(figsize=(9, 5.5), constrained_layout=True)
    colors = plt.get_cmap("tab10")
    shown = []
    for k, (label, profile) in enumerate(profiles.items()):
        ratio = _positive(profile.ratio)
        ax.plot(np.arange(len(ratio)), ratio, color=colors(k), lw=2.6, label=label)
        shown.append(ratio)
    ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
    ax.set_yscale("log")
    finite = np.concatenate([v[np.isfinite(v)] for v in shown]) if shown else np.array([])
    if finite.size:
        ax.set_ylim(max(finite.min(), 10.0 ** -DECADES) / 3, min(finite.max(), 10.0 ** DECADES) * 3)
    ax.set_xlim(0, max(len(v) for v in shown) - 1)
    if any(p.direction == "reverse" for p in profiles.values()):
        ax.set_xlabel("lag |t - k| (to k = t - lag along a forward chain, k = t + lag along a reverse one)")
    else:
        ax.set_xlabel("lag t - k (time steps back from the step t whose loss is followed)")
    ax.set_ylabel("||dl(t)/dh(k)|| / ||dl(t)/dh(t)||  (ratio, log scale)")
    ax.set_title(title or "How much of each step's error reaches h(t - lag)")
    if note:
        ax.text(0.01, 0.01, note, transform=ax.transAxes, ha="left", va="bottom", fontsize=8, color="0.3")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=9, loc="best")
    return _save(fig, path)


def plot_heatmap(profile, path, *, title_extra="", layers=1) -> Path:
    """norms[t, k] on a log colour scale: row t is the error of step t fading back over k (a
    reverse direction's: fading on over k >= t)."""
    where, W = _layer(layers)
    reverse = profile.direction == "reverse"
    W, h = (_reverse_W(W), "h_reverse") if reverse else (W, "h")
    norms = _positive(profile.norms)
    T = norms.shape[0]
    fig, ax = plt.subplots(figsize=(7.5, 6.2), constrained_layout=True)
    finite = norms[np.isfinite(norms)]
    if finite.size:
        vmax = finite.max()
        vmin = max(finite.min(), vmax * 10.0 ** -DECADES)
        image = ax.imshow(np.clip(norms, vmin, vmax), origin="lower", aspect="auto",
                          cmap="viridis", norm=LogNorm(vmin=vmin, vmax=vmax),
                          extent=(-0.5, T - 0.5, -0.5, T - 0.5), interpolation="nearest")
        bar = fig.colorbar(image, ax=ax)
        bar.set_label(f"mean ||dl_b(t)/d{h}_b(k)||_2 per element (log scale)")
    ax.set_xlabel(f"k: step whose hidden state {h}(k) receives the error")
    ax.set_ylabel("t: step whose loss l(t) is back-propagated")
    radius = f"radius of {W} {profile.radius:.3g}" if profile.radius is not None else profile.cell.upper()
    reach = (f"Error of step t reaching h_reverse(k), k >= t\n(the reverse direction; {radius})" if reverse
             else f"Error of step t reaching h(k), k <= t ({radius})")
    ax.set_title(reach + (f"\n{h}(k) of {where}" if where else "")
                 + (f"\n{title_extra}" if title_extra else ""))
    return _save(fig, path)


def plot_contributions(profile, path, *, output="softmax", title_extra="", layers=1) -> Path:
    """Bars of ||step k's contribution to dL/dW||_F (a stack's: the top layer's W; a reverse
    direction's: W_reverse, whose copy at step k makes h_reverse(k) from h_reverse(k+1))."""
    where, W = _layer(layers)
    reverse = profile.direction == "reverse"
    W = _reverse_W(W) if reverse else W
    c = np.asarray(profile.contribution, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(9, 4.5), constrained_layout=True)
    ax.bar(np.arange(len(c)), np.nan_to_num(c, nan=0.0, posinf=0.0), width=0.85, color="tab:blue")
    ax.set_xlim(-0.5, len(c) - 0.5)
    ax.set_xlabel(f"step k (the copy of {W} used at step k"
                  + (", from h_reverse(k+1) to h_reverse(k))" if reverse else ")"))
    ax.set_ylabel(f"||dL/d{W} contribution of step k||_F\n({_loss_unit(output)} per unit of {W})")
    ax.set_title(f"Which steps' copies of {W} the gradient dL/d{W} comes from (sum over k = dL/d{W})"
                 + (f"\n{W} of {where}" if where else "")
                 + (f"\n{title_extra}" if title_extra else ""))
    ax.grid(True, axis="y", alpha=0.3)
    return _save(fig, path)


def plot_training(records, path, *, lags=None, layers=1) -> Path:
    """How the diagnostics of ``metrics.jsonl`` evolved over the updates (a stack's: its top layer's)."""
    where, W = _layer(layers)
    steps = np.array([r["step"] for r in records], dtype=np.float64)

    def series(key):
        return np.array([np.nan if r.get(key) is None else float(r[key]) for r in records])

    if lags is None:
        lags = sorted({int(k[len("ratio_lag_"):]) for r in records for k in r
                       if k.startswith("ratio_lag_") and k[len("ratio_lag_"):].isdigit()})
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5), constrained_layout=True, sharex=True)
    (a_grad, a_ratio, a_radius), (a_clip, a_lag, a_update) = axes

    def log_panel(ax, key, label, ylabel, color):
        v = _positive(series(key))
        if np.isfinite(v).any():
            ax.plot(steps, v, marker=".", color=color, label=label)
            ax.set_yscale("log")
        ax.set_ylabel(ylabel)

    log_panel(a_grad, "grad_norm", "||dL/dtheta||", "gradient norm (log scale)", "tab:blue")
    a_grad.set_title("Gradient norm, before clipping")
    log_panel(a_ratio, "grad_param_ratio", "||dL/dtheta|| / ||theta||",
              "gradient norm / parameter norm (log scale)", "tab:purple")
    a_ratio.set_title("Gradient relative to the parameters")
    log_panel(a_update, "update_param_ratio", "||update|| / ||theta||",
              "update norm / parameter norm (log scale)", "tab:brown")
    a_update.set_title("Update relative to the parameters")
    a_radius.plot(steps, series("radius_W"), marker=".", color="tab:red", label=f"spectral radius of {W}")
    a_radius.plot(steps, series("sigma_max_W"), marker=".", color="tab:orange", label=f"largest singular value of {W}")
    a_radius.axhline(1.0, color="0.4", ls="--", lw=1, label="1: sigma_max below it guarantees vanishing")
    a_radius.set_ylabel("radius / singular value (dimensionless)")
    a_radius.set_title(f"Size of the recurrent weights {W}" + (f"\n({where})" if where else ""))
    a_radius.legend(fontsize=8)
    a_clip.plot(steps, series("clipped_fraction"), marker=".", color="tab:green")
    a_clip.set_ylim(-0.05, 1.05)
    a_clip.set_ylabel("fraction of updates clipped")
    a_clip.set_title("Gradient clipping")
    cmap = plt.get_cmap("viridis")
    for i, lag in enumerate(lags):
        v = _positive(series(f"ratio_lag_{lag}"))
        if np.isfinite(v).any():
            a_lag.plot(steps, v, marker=".", color=cmap(i / max(len(lags) - 1, 1)), label=f"lag {lag}")
    if a_lag.lines:
        a_lag.set_yscale("log")
        a_lag.legend(fontsize=8)
    a_lag.set_ylabel("||dl(t)/dh(t-lag)|| / ||dl(t)/dh(t)|| (ratio, log)")
    a_lag.set_title("Share of each step's error reaching back lag steps" + (f"\n(h of {where})" if where else ""))
    for ax in axes[1]:
        ax.set_xlabel("training step (updates)")
    for ax in axes.ravel():
        ax.grid(True, alpha=0.3)
    fig.suptitle("Gradient diagnostics during training: do errors still reach distant steps?")
    return _save(fig, path)
