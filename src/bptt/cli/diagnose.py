"""`bptt diagnose`: lag profile, radius sweep and pictures for a model on a piece of text."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..nn.cells import CELLS
from ._args import int_at_least, positive_int, random_model_flags, refuse_beside_checkpoint
from ._output import Output

METRICS = "metrics.jsonl"


length = int_at_least(2, "an integer T >= 2 (errors need two steps to travel)")


def add(sub):
    p = sub.add_parser("diagnose", help="measure and plot how errors vanish or explode back through time",
                       description="Back-propagate every step's loss on its own, measure how much reaches "
                                   "each earlier hidden state, sweep the spectral radius of W, and draw "
                                   "lag.png, heatmap.png, contributions.png (and training.png for a run "
                                   "folder with metrics.jsonl). A bidirectional model is measured per "
                                   "direction: the reverse one's errors reach h_reverse(t + lag), drawn as "
                                   "a second curve in lag.png and in heatmap_reverse.png, "
                                   "contributions_reverse.png. Without CHECKPOINT: a random model on the "
                                   "default corpus.")
    p.add_argument("checkpoint", nargs="?", metavar="CHECKPOINT",
                   help="a checkpoint file, or a run folder (checkpoint.npz and/or metrics.jsonl) "
                        "(default: a random model)")
    p.add_argument("--text", metavar="FILE_OR_STRING", default=None,
                   help="a text file, or else the text itself (default: the run's own text, else the default corpus)")
    p.add_argument("--length", type=length, default=100, metavar="T", help="T, steps per sequence (default 100)")
    p.add_argument("--batch", type=positive_int, default=4, metavar="B",
                   help="B, sequences taken from evenly spaced places in the text (default 4)")
    p.add_argument("--hidden", type=positive_int, default=None, metavar="H",
                   help="H of the random model when there is no checkpoint (default 128)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the random model, and of a random model drawn --beside (default 0)")
    p.add_argument("--cell", choices=tuple(CELLS), default=None,
                   help="cell of the random model when there is no checkpoint (default rnn)")
    p.add_argument("--layers", type=positive_int, default=None,
                   help="layers of the random model when there is no checkpoint (default 1)")
    p.add_argument("--bidirectional", action="store_true", default=None,
                   help="make the random model bidirectional when there is no checkpoint (default: one direction)")
    p.add_argument("--beside", metavar="CELL_OR_CHECKPOINT", default=None,
                   help="also measure another model on the same text and draw both lag curves in "
                        "beside.png: a checkpoint or run folder, or rnn/lstm/gru for a random one of the "
                        "same size (default: a random simple RNN beside a gated model, nothing beside an RNN)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for diagnostics.json and the PNGs (required)")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="the most BLAS threads a product uses (default: OPENBLAS_NUM_THREADS or "
                        "OMP_NUM_THREADS if set, else the cores other processes leave free)")
    p.set_defaults(run=run)


def run(args):
    from .. import _threads
    with _threads.for_update(args.threads):
        return _diagnose(args)


def _diagnose(args):
    from ..train import checkpoint
    from ..data.text import Vocab, default_corpus, read_text, run_source
    from ..diagnose import load_metrics
    from ..nn.network import Network

    given = random_model_flags(args, {"hidden": 128, "cell": "rnn", "layers": 1, "bidirectional": False})
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out: expected a folder, got {str(out)!r}, which is a file")

    ck, metrics_path, source = None, None, None
    if args.checkpoint is not None:
        where = Path(args.checkpoint)
        if where.is_dir() and (where / METRICS).is_file():
            metrics_path = where / METRICS
            if (where / checkpoint.FILENAME).is_file():
                ck = checkpoint.load(where, accept=("network",))
        else:
            ck = checkpoint.load(where, accept=("network",))
        if ck is not None:
            source = f"checkpoint {str(ck.path)!r}"
            _require_character_model(ck)

    # Read everything first so that a bad file fails before any work or output.
    records = load_metrics(metrics_path) if metrics_path is not None else None
    model = x = y = None
    if ck is not None or args.checkpoint is None:
        remembered = run_source(ck.path.parent, name="CHECKPOINT") if ck is not None and args.text is None else None
        if remembered is not None:
            origin = remembered["file"] or remembered["data"]
            text = read_text(origin, encoding=remembered.get("encoding") or "utf-8",
                             newline=remembered.get("newline") or "keep")   # as the run read it
            text_name = origin or "the embedded corpus"
        else:
            text, text_name = _text(args.text, read_text, default_corpus)
        if ck is None:
            vocab = Vocab.from_text(text)
            model = Network.create(args.cell, len(vocab), args.hidden, len(vocab), layers=args.layers,
                                   seed=args.seed, bidirectional=args.bidirectional)
            source = f"random {type(model).__name__} (seed {args.seed})"
        else:
            model, vocab = ck.model, ck.vocab
        x, y = _windows(text, text_name, vocab, args.length, args.batch)

    refuse_beside_checkpoint(args, given)
    other = None
    if model is not None:
        other = _beside(args.beside, model, vocab, args.seed, checkpoint)

    out.mkdir(parents=True, exist_ok=True)
    output = Output()
    written = []
    if model is not None:
        written += _diagnose_model(model, x, y, source, text_name, out, output, other)
    if records is not None:
        if records:
            from ..diagnose.plots import plot_training
            written.append(plot_training(records, out / "training.png", layers=ck.model.layers if ck else 1))
            output.line(f"{len(records)} diagnostics records from {metrics_path}")
        else:
            output.line(f"{metrics_path} holds no diagnostics records yet "
                          f"(train with --diagnose-every N): no training.png")
    for path in written:
        output.line(f"wrote {path}")
    return 0


def _beside(option, model, vocab, seed, checkpoint):
    """(label, model) to measure beside ``model``, or None. By default a model whose cell has one
    square W (the simple RNN, ``vanishing_bound`` in the cell contract) is its own baseline; a
    gated one gets a random simple RNN of the same shape (both directions if it has them)."""
    from ..diagnose.analysis import square_W
    from ..nn.network import Network
    if option is None:
        if square_W(model)[0] is not None:
            return None
        option = "rnn"
    if option in CELLS:
        other = Network.create(option, model.n_in, model.n_hidden, model.n_out, layers=model.layers, seed=seed,
                               bidirectional=model.bidirectional)
        return f"random {type(other).__name__} (seed {seed})", other
    ck = checkpoint.load(option, name="--beside", accept=("network",))
    if ck.vocab is None or not set(vocab.chars) <= set(ck.vocab.chars):
        raise ValueError(f"--beside {option!r}: expected a character model whose vocabulary holds the "
                         f"{len(vocab)} characters of the first model, got "
                         f"{'no vocabulary' if ck.vocab is None else f'{len(ck.vocab)} characters'}")
    if ck.vocab.chars != vocab.chars:
        raise ValueError(f"--beside {option!r}: expected the same vocabulary as the first model "
                         f"({len(vocab)} characters), got a different one ({len(ck.vocab)})")
    return f"{type(ck.model).__name__} from {option}", ck.model


def _measured(model, profile) -> dict:
    """Which layer's h(k) the profile follows (the top one), in which direction, and the W its
    radius and bound are of (None for a gated cell): for a stack, the top layer's W_l<top>, the
    only recurrence that the errors reaching its h(k) cross (h(k) feeds no lower layer); for the
    reverse direction, W_reverse, W_l<top>_reverse."""
    from ..nn.stages import param_name
    top, reverse = model.layers - 1, profile.direction == "reverse"
    return {"layer": top, "direction": profile.direction,
            "W": None if profile.radius is None else param_name("W", top, reverse)}


def _label(name, model, profile=None):
    """A curve's label in beside.png: a stack's names the layer whose h it follows, a
    bidirectional model's the direction."""
    if profile is not None and model.bidirectional:
        name += ", h_reverse(t + lag)" if profile.direction == "reverse" else ", h_forward(t - lag)"
    return f"{name} (h of layer {model.layers - 1}, the top of {model.layers})" if model.layers > 1 else name


def _profiles(model, x, y):
    """{direction: LagProfile}: ("forward",), and "reverse" for a bidirectional model."""
    from ..diagnose import lag_profile
    from ..diagnose.analysis import directions
    return {d: lag_profile(model, x, y, direction=d) for d in directions(model)}


def _profile_entries(model, profiles) -> dict:
    """diagnostics.json's "profile" (the forward direction, as for every model) and, for a
    bidirectional model, "profile_reverse"."""
    return {("profile" if d == "forward" else f"profile_{d}"): {**_measured(model, p), **p.to_dict()}
            for d, p in profiles.items()}


def _diagnose_model(model, x, y, source, text_name, out, output, other=None):
    from ..diagnose import LAGS, RADII, radius_sweep
    from ..diagnose.analysis import square_W
    from ..diagnose.plots import plot_contributions, plot_heatmap, plot_lag, plot_lags_beside

    T, B = x.shape
    started = time.perf_counter()
    profiles = _profiles(model, x, y)
    profile, reverse = profiles["forward"], profiles.get("reverse")
    # The sweep rescales one square W: a one-layer, one-direction simple RNN's. A gated cell says it has none.
    sweepable = square_W(model)[0] is not None and model.layers == 1 and not model.bidirectional
    sweep = radius_sweep(model, x, y, RADII) if sweepable else {}
    besides = _profiles(other[1], x, y) if other is not None else None
    seconds = time.perf_counter() - started

    report = {
        "model": {"source": source, **model.spec()},
        "data": {"text": text_name, "T": T, "B": B},
        "seconds": seconds,
        **_profile_entries(model, profiles),
        # the full (T, T) norms of every swept model would multiply the file by nine
        "sweep": [{"target_radius": r, **p.to_dict(norms=False)} for r, p in sweep.items()]
                 if sweepable else None,
    }
    if besides is not None:
        report["beside"] = {"source": other[0], **other[1].spec(),
                            **{k: {key: v for key, v in entry.items() if key != "norms"}
                               for k, entry in _profile_entries(other[1], besides).items()}}
    json_path = out / "diagnostics.json"
    json_path.write_text(json.dumps(report, allow_nan=False) + "\n", encoding="utf-8")

    layers = f"{model.layers} layers, " if model.layers > 1 else ""
    what = f"{source}, {layers}H={model.n_hidden}, T={T}, B={B}"
    paths = [json_path,
             plot_lag(profile, sweep, out / "lag.png", title_extra=what, layers=model.layers, reverse=reverse)]
    for d, p in profiles.items():
        tail = "" if d == "forward" else f"_{d}"
        paths += [plot_heatmap(p, out / f"heatmap{tail}.png", title_extra=what, layers=model.layers),
                  plot_contributions(p, out / f"contributions{tail}.png", output=model.output, title_extra=what,
                                     layers=model.layers)]
    if besides is not None:
        curves = {_label(source, model, p): p for p in profiles.values()}
        curves.update({_label(other[0], other[1], p): p for p in besides.values()})
        reaches = "h(t - lag)" + (" and h_reverse(t + lag)" if reverse is not None or len(besides) > 1 else "")
        paths.append(plot_lags_beside(curves, out / "beside.png",
                                      title=f"Errors reaching {reaches}, two models on {text_name}, T={T}, B={B}"))

    lags = [lag for lag in LAGS if lag < T]
    columns = ["model", "W", "radius", "sigma_max", "Pascanu bound"] + [f"lag {lag}" for lag in lags]

    def row(name, p, W, m=None):
        if m is not None and m.bidirectional:
            name += f", {p.direction}"
        if p.radius is None:
            bound = ("-", "-", "-", f"not applicable ({p.cell})")
        else:
            bound = (W, f"{p.radius:.3g}", f"{p.sigma_max:.3g}", "yes: vanishes" if p.vanishing_bound else "no")
        return [name, *bound, *[_fmt(p.ratio[lag]) for lag in lags]]

    rows = [row("this model", p, _measured(model, p)["W"], model) for p in profiles.values()]
    rows += [row("rescaled", p, "W") for p in sweep.values()]
    if besides is not None:
        rows += [row(other[0], p, _measured(other[1], p)["W"], other[1]) for p in besides.values()]
    two = reverse is not None or (besides is not None and len(besides) > 1)
    title = ("bptt diagnose: ||dl(t)/dh(t-lag)|| / ||dl(t)/dh(t)||, mean over (t, b)"
             + ("; a reverse row: ||dl(t)/dh_reverse(t+lag)|| / ||dl(t)/dh_reverse(t)||" if two else ""))
    output.table(f"{title}\n{what}", columns, rows, right=columns[2:],
                 styles=["bold"] * len(profiles) + [None] * (len(rows) - len(profiles)))
    # What applies, said once: the sweep rescales a one-layer simple RNN's W; a stack's radius and
    # bound are its top layer's; a gated cell has no square W for either.
    for name, m, ps in [("this model", model, profiles)] + ([(other[0], other[1], besides)] if besides else []):
        p = ps["forward"]
        if p.radius is None:
            output.line(f"{name}: radius sweep and Pascanu bound not applicable to the {m.cell.name} cell "
                        f"(they belong to one square W, the simple RNN's)")
        elif m.bidirectional:
            output.line(f"{name}: no radius sweep for a bidirectional model (it rescales one W); radius, sigma_max "
                        f"and Pascanu bound are given per direction, of "
                        f"{' and '.join(_measured(m, q)['W'] for q in ps.values())}")
        elif m.layers > 1:
            W = _measured(m, p)["W"]
            output.line(f"{name}: no radius sweep for a stack of {m.layers} layers; radius, sigma_max and Pascanu "
                        f"bound are of {W}, the top layer's (layer {m.layers - 1}), the only recurrence the errors "
                        f"reaching its h(k) cross")
    measured = f"lag profile and sweep of {len(sweep)} radii" if sweep else "lag profile"
    output.line(f"loss L = {profile.loss:.4g} (sum over t, mean over b); {measured} in {seconds:.2f} s")
    return paths


def _fmt(value):
    return "-" if value != value else f"{value:.2g}"


def _require_character_model(ck):
    m = ck.model
    if ck.vocab is None or m.output != "softmax":
        raise ValueError(f"CHECKPOINT {str(ck.path)!r}: expected a character model (softmax output with "
                         f"a vocabulary), got output={m.output!r} and "
                         f"{'no vocabulary' if ck.vocab is None else 'a vocabulary'}")


def _text(option, read_text, default_corpus):
    """(text, a name for messages): a file if the path exists, else the string itself."""
    if option is None:
        return default_corpus(), "the default corpus"
    try:
        is_file = Path(option).is_file()
    except (OSError, ValueError):        # too long or NUL: a string that cannot be a file name
        is_file = False
    if is_file:
        return read_text(option, name="--text"), option
    return option, "the --text string"


def _windows(text, text_name, vocab, T, B):
    """x, y (T, B): B stretches of T + 1 characters from evenly spaced places of the text."""
    import numpy as np

    stride = len(text) // B
    if stride < T + 1:
        raise ValueError(f"--length: expected at most {max(stride - 1, 0)} for --batch {B} over "
                         f"{text_name} ({len(text)} characters), got {T}")
    # Only the characters used are encoded: a model need not know every character of the text.
    windows = [vocab.encode(text[b * stride: b * stride + T + 1], name="--text") for b in range(B)]
    ids = np.stack(windows, axis=1)                                   # (T + 1, B)
    return ids[:-1], ids[1:]
