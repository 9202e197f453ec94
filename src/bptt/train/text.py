"""Training on text: truncated BPTT over B parallel streams, an optimiser, checkpoints, metrics.

A run folder holds ``checkpoint.npz`` (the latest, written atomically), ``metrics.jsonl``
(one JSON object per logged update; losses in nats per character), ``summary.json`` (the last
``run()``'s summary: updates, losses, speed, characters of text), ``loss.png`` and, once a
sample was drawn, ``samples.txt``. A run resumes bit for bit: the checkpoint carries the
parameters, the optimiser's state, the walk's position and rolling history, and the step;
sampling draws from ``default_rng([seed, step])`` so it needs no saved generator state.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import checkpoint as ckpt
from . import runfiles, signals
from .. import _threads
from .. import _validate as check
from ..data.text import Corpus, Vocab, lazy_streams, split
from ..nn.activations import ACTIVATIONS
from ..nn.cells import CELLS
from ..nn.network import Network
from ..nn.truncated import TruncatedBPTT
from .config import (DROPOUT_HELP, DTYPES, build_network, check_cell_options, check_fields, flag, foreign_options,
                     option, options_of, written)
from .evaluate import scored_chunks
from .online import GRADIENTS, OnlineUpdates, check_fits
from .optim import OPTIMIZERS
from .progress import SILENT, Progress
from .sample import sample
from .update import Diverged, Updates  # noqa: F401  (Diverged: what run() raises, importable from here)

INPUT_INIT_STD = 3.0          # the default token-input scale; measured in benchmarks/quality.py
METRICS = "metrics.jsonl"
SUMMARY = "summary.json"
# Which settings a resumed run may change. The rest are fixed by what the checkpoint holds.
RESUMABLE = ("steps", "lr", "eval_every", "sample_every", "sample_length", "clip", "clip_value", "lr_decay",
             "lr_decay_every", "log_every", "diagnose_every", "threads")
FIXED_ON_RESUME = {
    "cell": "its weights belong to that cell",
    "layers": "its weights have that many layers",
    "hidden": "its weights have that shape",
    "forget_bias": "its weights were initialised with it",
    "nonlinearity": "its weights were trained with it",
    "input_init_std": "its weights were drawn with it",
    "dropout": "its updates were drawn with it",
    "seed": "its weights were drawn from it and its samples continue from it",
    "dtype": "its weights and optimiser state are stored in it",
    "seq_length": "its walk's position and carried state are laid out for it",
    "bptt_depth": "its walk's carried history is laid out for it",
    "batch_size": "its walk's position and carried state are laid out for it",
    "gradient": "its walk's carried state and influence are laid out for it",
    "optimizer": "the optimiser state it saved belongs to it",
    "momentum": "the optimiser state it saved was built with it",
    "val_fraction": "it splits the text into the training and validation parts the run has used",
}


def init_token_inputs(model, std: float, seed: int) -> None:
    """Redraw layer 0's input weights U (G*H, V), one column per token, from N(0, std^2).

    Why: a token's column of U is that token's whole input drive into every cell. PyTorch's
    uniform(-1/sqrt(H), 1/sqrt(H)) suits a dense input whose features add up; a one-hot input
    picks one column, so each unit's drive starts at std 1/sqrt(3H) (0.036 at H = 256), too
    small to tell the characters apart, and the model spends its first hundreds of updates
    growing it. nn.Embedding (N(0, 1) entries) + nn.RNN starts about 16 times larger at H = 256
    and ends 2000 updates 0.16 nats/char lower. Redrawing U alone recovers most of that: on
    tinyshakespeare (H=256, B=32, k1=64, Adam 2e-3, clip 5, 2000 updates, seed 0) the
    validation loss is 1.7407, 1.7013, 1.6806, 1.6745, 1.6772, 1.6815, 1.6928 for std 0.58, 1,
    2, 3, 4, 5, 8, against 1.6518 for the Embedding model, and 1.8271 with PyTorch's U. Over
    seeds 0, 1, 2 std 3 ends 0.0140 above the Embedding model on average (benchmarks/quality.py
    --baseline embedding). The std does not depend on H: the drive is one column, not a sum.
    Written against the parameter name U, so it applies to every cell (G gate blocks).
    """
    rng = np.random.default_rng([seed, 1])   # its own stream: the constructor's draws stay as they were
    U = model.params["U"]                    # (G*H, V)
    model.set_params({**model.params, "U": rng.normal(0.0, std, U.shape)})


@dataclass(frozen=True)
class TrainConfig:
    """Training on text. Each field's help (``option``) is what ``bptt train --help`` says of its flag."""

    hidden: int = option(128, "H, hidden units")
    seq_length: int = option(64, "k1, characters per update (the loss window)")
    bptt_depth: int | None = option(None, "k2, steps back-propagated through", says_default="k1")
    # bptt: truncated BPTT(k2; k1). rtrl, uoro, snap1 (train/online.py): forward in time, an update
    # every k1 steps whose gradient reaches back to the stream's start (the influence is never cut).
    gradient: str = option("bptt", "how each update's gradient is computed: truncated BPTT(k2; k1), or forward "
                                   "in time every k1 steps, the past never truncated: exact RTRL, UORO, SnAp-1",
                           choices=GRADIENTS)
    batch_size: int = option(32, "B, parallel streams through the text")
    # The default finishes in about two minutes.
    steps: int = option(4000, "updates to run in all, counted from the run's start; not with --epochs")
    lr: float = option(3e-3, "learning rate")
    optimizer: str = option("adam", "the update rule, as torch.optim's", choices=OPTIMIZERS)
    momentum: float = option(0.0, "momentum, for sgd only")
    clip: float | None = option(5.0, "clip the global gradient norm to this (Pascanu et al. 2013); 0: off",
                                zero_is_none=True)
    clip_value: float | None = option(None, "clip each gradient entry to [-v, v] (min-char-rnn uses 5)",
                                      says_default="off")
    lr_decay: float = option(1.0, "multiply the learning rate by this every --lr-decay-every updates")
    lr_decay_every: int = option(1000, "updates between decays")
    cell: str = option("rnn", "the recurrent cell", choices=CELLS)
    layers: int = option(1, "recurrent layers stacked")
    dropout: float = option(0.0, DROPOUT_HELP)
    nonlinearity: str = option("tanh", "f in h(t) = f(a(t))", choices=ACTIVATIONS)
    forget_bias: float = option(1.0, "added to the forget-gate bias at initialisation (Jozefowicz et al. 2015)")
    dtype: str = option("float32", "float32 for speed, float64 to compare with references", choices=DTYPES)
    seed: int = option(0, "seed of the initial weights and the samples")
    val_fraction: float = option(0.1, "the fraction at the end of the text held out for validation")
    eval_every: int = option(250, "updates between validation losses and checkpoints")
    sample_every: int = option(500, "updates between samples shown and written to samples.txt; 0: never")
    sample_length: int = option(200, "characters per sample")
    log_every: int = 10           # updates between metrics lines
    diagnose_every: int = option(0, "record gradient diagnostics (bptt diagnose RUN_DIR plots them) every N "
                                    "updates; 0: never")
    # Token inputs' weights U (G*H, V), one column per character, drawn N(0, input_init_std^2);
    # None keeps the model constructor's (PyTorch's) uniform(-1/sqrt(H), 1/sqrt(H)). Why the
    # default: see init_token_inputs.
    input_init_std: float | None = option(INPUT_INIT_STD, "draw the token inputs' weights U from N(0, std^2); "
                                                          "0: PyTorch's uniform(-1/sqrt(H), 1/sqrt(H))",
                                          zero_is_none=True)
    # BLAS threads (bptt/_threads.py says why: on a busy machine more threads are slower).
    threads: int | None = option(None, "the most BLAS threads a matrix product uses; the loop's small per-step "
                                       "products use one", says_default="OPENBLAS_NUM_THREADS or "
                                       "OMP_NUM_THREADS if set, else the cores other processes leave free")

    CELL_OPTIONS = options_of(CELLS)   # {cell: its options}: nonlinearity is the rnn's, forget_bias the lstm's

    @property
    def k2(self) -> int:
        return self.seq_length if self.bptt_depth is None else self.bptt_depth

    def validate(self):
        """Every field checked; each error names the command-line flag that sets it."""
        check_fields(self)
        for name in ("hidden", "layers", "seq_length", "batch_size", "steps", "lr_decay_every", "eval_every",
                     "log_every"):
            check.positive_int(flag(name), getattr(self, name))
        if self.bptt_depth is not None:
            check.positive_int("--bptt-depth", self.bptt_depth)
            if self.gradient != "bptt":
                raise ValueError(f"--bptt-depth: expected only with --gradient bptt ({self.gradient} never "
                                 f"truncates the past), got {self.bptt_depth}")
        if self.threads is not None:
            check.positive_int("--threads", self.threads)
        for name in ("seed", "sample_every", "sample_length", "diagnose_every"):
            check.nonnegative_int(flag(name), getattr(self, name))
        check.number_in("--lr", self.lr, 0)
        check.number_in("--forget-bias", self.forget_bias)
        check.number_in("--lr-decay", self.lr_decay, 0)
        if self.clip is not None:
            check.number_in("--clip", self.clip, 0, lo_open=False, note="0 turns clipping off")
        for name in ("clip_value", "input_init_std"):
            if getattr(self, name) is not None:
                check.number_in(flag(name), getattr(self, name), 0)
        check.number_in("--momentum", self.momentum, 0, 1, lo_open=False)
        check.number_in("--dropout", self.dropout, 0, 1, lo_open=False)
        if self.dropout and self.gradient != "bptt":
            raise ValueError(f"--dropout: expected only with --gradient bptt (its masks are drawn per window of "
                             f"the truncated walk), got {self.dropout!r} with --gradient {self.gradient}")
        check.number_in("--val-fraction", self.val_fraction, 0, 1)
        check_cell_options(self, self.CELL_OPTIONS)
        return self


def steps_for_epochs(epochs: float, n_chars: int, config: TrainConfig) -> int:
    """The updates that make ``epochs`` passes over the training part of a text of n_chars."""
    n_train = int(n_chars * (1 - config.val_fraction))
    per_epoch = math.ceil(((n_train - 1) // config.batch_size) / config.seq_length)
    return max(1, math.ceil(epochs * per_epoch))


def evaluate(model, x, y, chunk=128) -> float:
    """Mean loss per character (nats) over streams x, y (L, B), state carried across chunks.

    Chunks of 128 steps keep the (chunk, B, V) temporaries to a few MB however long the text.
    """
    total, count = 0.0, 0
    for _, _, l in scored_chunks(model, x, y, chunk=chunk, along="time"):
        total += float(l.sum())
        count += l.size
    return total / count


def build_model(config: TrainConfig, vocab_size: int) -> Network:
    """The network a config describes, on a vocabulary of ``vocab_size`` characters."""
    return build_network(config, vocab_size, vocab_size)


def describe_changes(changes: dict) -> str:
    """The settings a resume changed, {field: {"from", "to"}}, as flags: "--lr 0.003 -> 0.001"."""
    def say(v):
        return "off" if v is None else format(v, "g") if isinstance(v, float) else str(v)
    return ", ".join(f"{flag(k)} {say(v['from'])} -> {say(v['to'])}" for k, v in changes.items())


def check_same_text(corpus: Corpus, vocab: Vocab, recorded: dict | None, run: str) -> None:
    """Refuse a text that is not the run's: the error lists every way it differs."""
    want = f"a vocabulary of {len(vocab)}"
    diffs = []
    if corpus.vocab != vocab:
        extra = sorted(set(corpus.vocab.chars) - set(vocab.chars))
        missing = sorted(set(vocab.chars) - set(corpus.vocab.chars))
        if extra:
            diffs.append(f"{len(extra)} characters the run's vocabulary lacks ({''.join(extra[:20])!r})")
        if missing:
            diffs.append(f"{len(missing)} of the run's characters missing ({''.join(missing[:20])!r})")
    if isinstance(recorded, dict):
        n, digest = recorded.get("length"), recorded.get("sha256")
        want = f"{n:,} characters" if isinstance(n, int) else "its length"
        want += f" with sha256 {str(digest)[:12]}..., a vocabulary of {len(vocab)}"
        if isinstance(n, int) and n != len(corpus):
            diffs.append(f"{len(corpus):,} characters instead of {n:,}")
        if isinstance(digest, str) and digest and corpus.sha256 and digest != corpus.sha256 and not diffs:
            diffs.append(f"the same length and characters but other content (sha256 {corpus.sha256[:12]}...)")
    if diffs:
        raise ValueError(f"{corpus.name}: expected the text of the run {run!r} ({want}), got a text with "
                         f"{'; '.join(diffs)}. Train on another text with --init-from {run}")


def _run_folder(ck) -> Path:
    return ck.path.parent if ck.path.name == ckpt.FILENAME else ck.path


def fine_tune_config(run, changes: dict | None = None):
    """(the run's checkpoint, the TrainConfig of a new run fine-tuned from it), or the flag that
    contradicts its model, named: the model (cell, layers, H, the cell's options) is the run's."""
    ck = ckpt.load(run, name="--init-from", accept=("network",))
    where = str(_run_folder(ck))
    if ck.vocab is None or ck.model.output != "softmax" or ck.model.n_in != len(ck.vocab):
        raise ValueError(f"--init-from: expected a run trained on text by bptt train, got {where!r}, "
                         f"a checkpoint without a character vocabulary")
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    m = ck.model
    # The model's kind and shape, and its cell's options (nonlinearity, forget_bias), as config fields.
    model_fields = {"cell": m.cell.name, "layers": m.layers, "hidden": m.n_hidden,
                    **{k: v for k, v in m.cell.options().items() if k in fields}}
    changes = dict(changes or {})
    for name, value in changes.items():
        if name in model_fields and value != model_fields[name]:
            raise ValueError(f"{flag(name)}: expected the model of --init-from {where!r} ({flag(name)} "
                             f"{model_fields[name]}; its weights fix it), got {value}")
    return ck, TrainConfig(**{**changes, **model_fields}).validate()


class Trainer:
    """One run: a config, a text, a folder. ``run()`` trains up to ``config.steps`` updates."""

    def __init__(self, config: TrainConfig, text, out: Path, *, console=None, vocab: Vocab | None = None):
        """text: a string, or a ``data.Corpus`` (a file streamed into memory-mapped ids)."""
        self.config = config.validate()
        self.out = Path(out)
        self.console = console
        corpus = text if isinstance(text, Corpus) else Corpus.from_text(text, vocab, name="FILE")
        if vocab is not None and corpus.vocab != vocab:
            raise ValueError(f"{corpus.name}: expected the text of the run, with its vocabulary of {len(vocab)} characters, "
                             f"got a text with a vocabulary of {len(corpus.vocab)}")
        self.corpus, self.vocab = corpus, corpus.vocab
        self.init_from = None        # {"run", "shared", "new", "dropped"} for a fine-tuned run
        # The settings a resume changed, {field: {"from", "to"}}: logged to metrics.jsonl at the step
        # the run resumed from when run() starts (plot_loss marks it on loss.png).
        self.resumed = None
        train_ids, val_ids = split(corpus.ids, config.val_fraction)
        B, k1 = config.batch_size, config.seq_length
        if len(train_ids) < k1 + 1:
            raise ValueError(f"{corpus.name}: expected a text longer than one window (--seq-length {k1} + 1 "
                             f"characters of training text), got {len(train_ids)} training characters")
        if len(train_ids) - 1 < B * k1:
            raise ValueError(f"--batch-size: expected at most {(len(train_ids) - 1) // k1} streams of "
                             f"--seq-length {k1} for {len(train_ids)} training characters, got {B}")
        # Lazy (L, B) views: a window's ids are gathered when the walk reaches it.
        self.x, self.y = lazy_streams(train_ids, B)
        self.val = lazy_streams(val_ids, min(B, max(1, (len(val_ids) - 1) // k1))) if len(val_ids) > k1 else None
        V = len(self.vocab)
        self.model = build_model(config, V)
        check_fits(config.gradient, self.model, B)
        if config.input_init_std is not None:
            init_token_inputs(self.model, config.input_init_std, config.seed)
        opt_cls = OPTIMIZERS[config.optimizer]
        options = {"momentum": config.momentum} if config.optimizer == "sgd" else {}
        self.opt = opt_cls(self.model.params, config.lr, **options)
        self.updates = Updates(self.opt, lr=config.lr, clip=config.clip, clip_value=config.clip_value,
                               lr_decay=config.lr_decay, lr_decay_every=config.lr_decay_every)
        self.step = 0
        self.epoch = 0
        self.walk = self._new_walk()
        self._clipped_since = self._updates_since = 0  # for the clipped fraction of diagnostics

    @property
    def skipped(self) -> int:
        """Updates skipped so far for a non-finite loss or gradient."""
        return self.updates.skipped

    # ---- state -------------------------------------------------------------------------
    def _new_walk(self):
        """The walk over this epoch's text; its dropout masks are drawn from (seed, epoch, position)."""
        c = self.config
        if c.gradient != "bptt":      # forward in time: the walk carries its influence, never truncated
            return OnlineUpdates(self.model, self.x, self.y, c.seq_length, c.gradient, seed=[c.seed, 2, self.epoch])
        return TruncatedBPTT(self.model, self.x, self.y, c.seq_length, c.k2, lazy=True, dropout=c.dropout,
                             dropout_key=(c.seed, 3, self.epoch))

    def save(self):
        state = {f"opt/{k}": v for k, v in self.opt.state().items()}
        state.update({f"walk/{k}": v for k, v in self.walk.state().items()})
        meta = {"config": written(self.config), "step": self.step, "epoch": self.epoch,
                "skipped": self.skipped, "text": self.corpus.identity()}
        if self.init_from is not None:
            meta["init_from"] = self.init_from
        ckpt.save(self.out / ckpt.FILENAME, self.model, vocab=self.vocab, meta=meta, state=state)

    @classmethod
    def resume(cls, out: Path, text, steps: int | None = None, *, changes: dict | None = None, console=None):
        """Continue the run in ``out``, on its own text, up to ``steps`` (None: the run's own).

        text: a string or a ``data.Corpus``, checked against the text the run recorded (its
        vocabulary, length and sha256); the error says how it differs.
        changes: {field: value} of TrainConfig settings for the rest of the run. Those in
        RESUMABLE apply (and are logged to metrics.jsonl); one the checkpoint fixes is refused
        with the reason, unless it equals the run's own value.
        """
        ck = ckpt.load(out, name="--resume", accept=("network",))
        run = str(ck.path.parent)
        where = f"--resume {run!r}"
        meta = ck.meta
        try:
            fields = {f.name for f in dataclasses.fields(TrainConfig)}
            saved = dict(meta["config"])
            saved.setdefault("input_init_std", None)        # runs from before the field used PyTorch's
            config = TrainConfig(**{k: v for k, v in saved.items() if k in fields})
            # Runs from before other cells' options were refused may hold one (--cell lstm --nonlinearity
            # relu): it never had an effect, and the run resumes with the field's default.
            config = dataclasses.replace(config, **foreign_options(config, TrainConfig.CELL_OPTIONS))
            step, epoch, skipped = (meta["step"], meta["epoch"], meta.get("skipped", 0))
            for name, v in (("step", step), ("epoch", epoch), ("skipped", skipped)):
                if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                    raise ValueError(f"{name} = {v!r}")
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ValueError(f"{where}: expected a training checkpoint (config, step, epoch), "
                             f"got one without them ({err})") from None
        changes = dict(changes or {})
        corpus = text if isinstance(text, Corpus) else Corpus.from_text(text, name="FILE")
        if steps is not None:
            changes["steps"] = steps
        if "epochs" in changes:                 # passes over the text in all, counted from the run's start
            changes["steps"] = steps_for_epochs(changes.pop("epochs"), len(corpus), config)
        for name, value in changes.items():
            if name not in RESUMABLE and value != getattr(config, name):
                named = flag(name)
                why = FIXED_ON_RESUME.get(name, "the checkpoint fixes it")
                raise ValueError(f"{named}: expected the run's own {named} {getattr(config, name)} with --resume "
                                 f"({why}; --init-from {run} starts a new run from its weights), got {value}")
        changed = {k: [getattr(config, k), v] for k, v in changes.items() if v != getattr(config, k)}
        config = dataclasses.replace(config, **changes)
        try:
            config.validate()
        except ValueError as err:
            if any(flag(k) in str(err) for k in changes):
                raise   # a flag given now: its own message
            raise ValueError(f"{where}: the checkpoint's config is invalid: {err}") from None
        check_same_text(corpus, ck.vocab, meta.get("text"), run)
        self = cls(config, corpus, ck.path.parent, console=console, vocab=ck.vocab)
        m = ck.model
        if m.spec() != self.model.spec():
            raise ValueError(f"{where}: expected a model matching the checkpoint's config ({self.model!r}), "
                             f"got {m!r}")
        self.model.set_params(m.params)
        self.step, self.epoch, self.updates.skipped = step, epoch, skipped
        self.walk = self._new_walk()            # the epoch's walk: its dropout masks are the epoch's
        self._restore(ck.state, where)
        self.init_from = meta.get("init_from")
        # A crash may have left half-written files and log lines past the checkpoint.
        runfiles.remove_stale_temps(self.out, (ckpt.FILENAME, METRICS, SUMMARY))
        runfiles.trim_jsonl(self.out / METRICS, step)
        # A resumed run's curve may bend here: run() logs why, at the step it happened (only if it trains).
        self.resumed = {k: {"from": a, "to": b} for k, (a, b) in changed.items()} or None
        return self

    @classmethod
    def fine_tune(cls, run, text, out: Path, changes: dict | None = None, *, console=None):
        """A new run on ``text`` that starts from the weights of the trained ``run`` (char-rnn's -init_from).

        The model (H, cell, layers) is the run's; ``changes`` sets the other TrainConfig fields
        (a model field that contradicts the run's is refused). Characters both vocabularies hold
        keep their trained weights; the new text's other characters keep the fresh values this
        run drew at initialisation; the run's other characters are dropped (``carry_over``). The
        optimiser starts fresh. The counts are logged to metrics.jsonl at step 0 and saved.
        """
        from .finetune import carry_over
        ck, config = fine_tune_config(run, changes)
        self = cls(config, text, out, console=console)
        counts = carry_over(ck.model, ck.vocab, self.model, self.vocab)
        self.init_from = {"run": str(_run_folder(ck).resolve()), **counts}
        self.out.mkdir(parents=True, exist_ok=True)
        self._log({"step": 0, "init_from": self.init_from})
        return self

    def _restore(self, state: dict, where: str):
        """The optimiser's and the walk's state, each array checked against what this run expects."""
        def take(key, shape=None, kind="f"):
            v = state.get(key)
            if v is None:
                raise ValueError(f"{where}: expected the array state/{key} in the checkpoint, got none")
            if v.dtype.kind not in kind or (shape is not None and v.shape != shape):
                want = f"shape {shape}" if shape is not None else "a scalar"
                raise ValueError(f"{where}: expected state/{key} of {want} and kind {kind!r}, "
                                 f"got {check.describe(v)}")
            return v
        opt = {}
        for k, v in self.opt.state().items():
            opt[k] = take(f"opt/{k}", v.shape, "iu" if k == "t" else "f")
        if int(opt["t"]) < 0:
            raise ValueError(f"{where}: expected state/opt/t >= 0, got {int(opt['t'])}")
        self.opt.restore(opt)
        B, L = self.config.batch_size, self.x.shape[0]
        keep = max(self.config.seq_length, self.config.k2)
        position = int(take("walk/position", (), "iu"))
        expected = {k: v.shape for k, v in self.walk.state().items() if k != "position"}  # rows vary: n + 1 or n
        influence = {k: take(f"walk/{k}", expected.pop(k)) for k in list(expected) if k.startswith("influence/")}
        walk = {k: take(f"walk/{k}") for k in expected}
        n = walk["hs"].shape[0] - 1 if walk["hs"].ndim == 3 else -1        # states hold n + 1 rows
        widths = {k: v[2] for k, v in expected.items()}
        want = {k: ((n + 1) if k in self.walk.state_keys() else n, B, widths[k]) for k in walk}
        got = {k: v.shape for k, v in walk.items()}
        if not (0 <= position <= L) or got != want or not 0 <= n <= keep:
            raise ValueError(f"{where}: expected a walk state with position in [0, {L}] and n <= {keep} steps "
                             f"of {', '.join(f'{k} {w}' for k, w in want.items())}, got position {position}, "
                             f"{', '.join(f'{k} {g}' for k, g in got.items())}")
        self.walk.restore({"position": position, **walk, **influence})

    # ---- the loop ----------------------------------------------------------------------
    def _log(self, record):
        runfiles.append_jsonl(self.out / METRICS, record)

    def _sample(self):
        c = self.config
        prime = self.vocab.decode(self.x[:1, 0])
        return prime + sample(self.model, self.vocab, prime, c.sample_length, temperature=0.8,
                              seed=[c.seed, self.step])

    def train_step(self):
        """One update; returns (loss per char, n tokens, grad norm, clipped) or None at an epoch's end."""
        c = self.config
        if self.walk.position >= self.x.shape[0]:
            self.epoch += 1
            self.walk = self._new_walk()
        diagnose_now = c.diagnose_every and (self.step + 1) % c.diagnose_every == 0
        h_before = {k: v.copy() for k, v in self.walk.state0().items()} if diagnose_now else None
        u = self.walk.next_update()
        tokens = u.n_steps * c.batch_size
        grads = u.grads
        if not self.updates.accept(u.loss, grads, self.step):
            self.walk = self._new_walk()      # the carried state may itself be non-finite
            return float("nan"), tokens, float("nan"), False
        if diagnose_now:
            raw_grads = {k: g.copy() for k, g in grads.items()}
            params_before = {k: p.copy() for k, p in self.model.params.items()}
        applied = self.updates.apply(self.model.params, grads, self.step)
        self.step += 1
        self._clipped_since += applied.clipped
        self._updates_since += 1
        if diagnose_now:
            from ..diagnose import training_metrics
            record = training_metrics(self.model, self.x[u.start:u.stop], self.y[u.start:u.stop], h_before,
                                      raw_grads, params_before, self._clipped_since / self._updates_since)
            self._log({"step": self.step, **record})
            self._clipped_since = self._updates_since = 0
        return u.loss / u.n_steps, tokens, applied.norm, applied.clipped

    def run(self, progress: Progress | None = None):
        """Train up to config.steps; returns a summary dict. Saves at every eval and at the end.

        A stop signal (``signals``: Ctrl-C, SIGTERM, SIGHUP) ends the loop after the update in
        flight; the run is saved and the summary's ``interrupted`` is the signal's number.
        """
        c = self.config
        progress = SILENT if progress is None else progress
        self.out.mkdir(parents=True, exist_ok=True)
        if self.resumed:
            self._log({"step": self.step, "resumed": self.resumed})
            self.resumed = None
        t0 = time.perf_counter()
        tokens_done, val_loss, last_loss = 0, None, float("nan")
        window_t, window_tokens = time.perf_counter(), 0
        with signals.noted() as stop:
            while self.step < c.steps and stop.signum is None:
                with _threads.for_update(c.threads):
                    loss, tokens, norm, clipped = self.train_step()
                tokens_done += tokens
                window_tokens += tokens
                if math.isfinite(loss):
                    last_loss = loss
                epoch_done = self.walk.position >= self.x.shape[0]      # every epoch is reported
                evaluate_now = self.step % c.eval_every == 0 or self.step == c.steps or epoch_done
                if self.step % c.log_every == 0 or evaluate_now:
                    now = time.perf_counter()
                    record = {"step": self.step, "epoch": self.epoch, "loss": last_loss,
                              "tokens_per_s": window_tokens / max(now - window_t, 1e-9),
                              "grad_norm": norm, "clipped": clipped, "skipped": self.skipped}
                    window_t, window_tokens = now, 0
                    if evaluate_now:
                        if self.val is not None:
                            with _threads.for_update(c.threads):
                                val_loss = evaluate(self.model, *self.val)
                            record["val_loss"] = val_loss
                            record["val_bpc"] = val_loss / math.log(2)
                        if epoch_done:
                            record["epochs_completed"] = self.epoch + 1
                    # Log, then save: a crash between the two leaves a line past the checkpoint,
                    # which resume trims and writes again, never a checkpointed step unlogged.
                    self._log(record)
                    if evaluate_now:
                        self.save()
                        progress.evaluated(self.step, record)
                if c.sample_every and self.step % c.sample_every == 0:
                    text = self._sample()
                    with open(self.out / "samples.txt", "a") as f:
                        f.write(f"--- step {self.step}\n{text}\n")
                    progress.sampled(self.step, text)
                progress.update(self.step, {"loss": last_loss, "val_loss": val_loss,
                                            "tokens_per_s": tokens_done / (time.perf_counter() - t0)})
            self.save()
        summary = {"steps": self.step, "epoch": self.epoch, "loss": last_loss, "val_loss": val_loss,
                   "skipped": self.skipped, "seconds": time.perf_counter() - t0,
                   "tokens_per_s": tokens_done / max(time.perf_counter() - t0, 1e-9),
                   "interrupted": stop.signum, "characters": len(self.corpus),
                   "vocabulary": len(self.vocab)}
        if self.init_from is not None:       # {"run", "shared", "new", "dropped"}: what fine-tuning carried
            summary["init_from"] = self.init_from
        runfiles.write_json(self.out / SUMMARY, summary)
        return summary
