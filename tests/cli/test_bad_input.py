"""Every command and flag, given bad input: one line naming the argument or file, what was expected
and what was found, exit code 2, no traceback; the Python API says the same words."""

import subprocess
import os
import sys
from pathlib import Path

import pytest

from bptt import checkpoint
from bptt.data import text as data
from bptt.cli import main
from bptt.train.sample import sample
from bptt.train.text import TrainConfig, Trainer

import crafted

SRC = Path(__file__).resolve().parents[2] / "src"
TEXT = "the quick brown fox jumps over the lazy dog. " * 40
T = ["--quiet", "--hidden", "8", "--seq-length", "4", "--batch-size", "2", "--sample-every", "0", "--steps", "3"]


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    """The world the bad inputs live in: files, folders, a trained run and crafted checkpoints."""
    root = tmp_path_factory.mktemp("bad")
    (root / "good.txt").write_text(TEXT)
    (root / "empty.txt").write_text("")
    (root / "binary.dat").write_bytes(b"\x7fELF\x00\x01\x02")
    (root / "latin1.txt").write_bytes("café au lait ".encode("latin-1") * 20)
    (root / "utf16.txt").write_bytes(TEXT.encode("utf-16"))
    (root / "other.txt").write_text(TEXT.upper())
    (root / "short.txt").write_text("abc")
    (root / "a-folder").mkdir()
    (root / "a-file").write_text("x")
    Trainer(TrainConfig(hidden=8, seq_length=4, batch_size=2, steps=2, eval_every=1, sample_every=0),
            TEXT, root / "run").run()
    bad = crafted.variants(root / "run" / checkpoint.FILENAME, root / "ck")
    return {"root": root, **{f"ck:{k}": v.parent for k, v in bad.items()}}


def P(key):
    """A placeholder for a path of the world, filled in per test."""
    return ("path", key)


def fill(args, w):
    out = []
    for a in args:
        if isinstance(a, tuple):
            a = str(w[a[1]]) if a[1] in w else str(w["root"] / a[1])
        out.append(a)
    return out


def cfg(**kw):
    return lambda w: TrainConfig(**kw).validate()


def load(key, name="CHECKPOINT"):
    return lambda w: checkpoint.load(str(w[key]), name=name)


def sample_api(**kw):
    def call(w):
        ck = checkpoint.load(w["root"] / "run")
        sample(ck.model, ck.vocab, **{"prime": "", "length": 10, "temperature": 0.8, "seed": None, **kw})
    return call


def corpus(key, **kw):
    return lambda w: data.Corpus.from_file(str(w["root"] / key), **kw)


def trainer(text_key, **kw):
    config = TrainConfig(**{**dict(hidden=8, seq_length=4, batch_size=2, sample_every=0, steps=3), **kw})
    return lambda w: Trainer(config, data.Corpus.from_file(str(w["root"] / text_key)), w["root"] / "api-run")


CK_FLAWS = ["truncated", "not a zip", "missing array", "extra array", "wrong shape", "wrong dtype",
            "future version", "nan weights", "object array", "path traversal", "huge declared shape",
            "huge declared model", "meta not json"]

# (argv, words the line must hold, the API call that must raise the same text, or None)
CASES = [
    # train: the text file
    (["train", P("missing.txt")], ["FILE", "missing.txt", "does not exist"], corpus("missing.txt")),
    (["train", P("a-folder")], ["FILE", "a-folder", "directory"], corpus("a-folder")),
    (["train", P("empty.txt")], ["FILE", "empty.txt", "empty"], corpus("empty.txt")),
    (["train", P("binary.dat")], ["FILE", "binary.dat", "binary"], corpus("binary.dat")),
    (["train", P("latin1.txt")], ["FILE", "utf-8", "offset 3", "--encoding"], corpus("latin1.txt")),
    (["train", P("latin1.txt"), "--encoding", "klingon"], ["--encoding", "klingon"],
     corpus("latin1.txt", encoding="klingon")),
    (["train", P("short.txt")], ["FILE '", "short.txt", "longer than one window", "got 3"], trainer("short.txt")),
    (["train", P("good.txt"), "--data", "tinyshakespeare"], ["FILE", "--data", "both"], None),
    (["train", P("utf16.txt")], ["FILE", "utf16.txt", "UTF-16 byte-order mark", "--encoding utf-16"],
     corpus("utf16.txt")),
    (["train", P("good.txt"), "--encoding", "utf-16"], ["FILE", "good.txt", "utf-16", "--encoding"],
     corpus("good.txt", encoding="utf-16")),
    (["train", P("good.txt"), "--newline", "crlf"], ["--newline", "normalize", "'crlf'"],
     corpus("good.txt", newline="crlf")),
    # train: hyperparameters
    (["train", P("good.txt"), "--hidden", "0"], ["--hidden", "positive integer", "got 0"], cfg(hidden=0)),
    (["train", P("good.txt"), "--hidden", "-3"], ["--hidden", "got -3"], cfg(hidden=-3)),
    (["train", P("good.txt"), "--hidden", "abc"], ["--hidden", "integer", "'abc'"], None),
    (["train", P("good.txt"), "--hidden"], ["--hidden", "one value", "none"], None),
    (["train", P("good.txt"), "--seq-length", "0"], ["--seq-length", "got 0"], cfg(seq_length=0)),
    (["train", P("good.txt"), "--seq-length", "inf"], ["--seq-length", "integer", "'inf'"], None),
    (["train", P("good.txt"), "--seq-length", "100000"], ["FILE", "--seq-length 100000"],
     trainer("good.txt", seq_length=100000)),
    (["train", P("good.txt"), "--bptt-depth", "0"], ["--bptt-depth", "got 0"], cfg(bptt_depth=0)),
    (["train", P("good.txt"), "--batch-size", "0"], ["--batch-size", "got 0"], cfg(batch_size=0)),
    (["train", P("good.txt"), "--batch-size", "100000"], ["--batch-size", "at most", "got 100000"],
     trainer("good.txt", batch_size=100000)),
    (["train", P("good.txt"), "--steps", "0"], ["--steps", "got 0"], cfg(steps=0)),
    (["train", P("good.txt"), "--steps", "-5"], ["--steps", "got -5"], cfg(steps=-5)),
    (["train", P("good.txt"), "--epochs", "0"], ["--epochs", "positive", "'0'"], None),
    (["train", P("good.txt"), "--lr", "0"], ["--lr", "> 0", "got 0.0"], cfg(lr=0.0)),
    (["train", P("good.txt"), "--lr", "-1"], ["--lr", "got -1.0"], cfg(lr=-1.0)),
    (["train", P("good.txt"), "--lr", "nan"], ["--lr", "finite", "got nan"], cfg(lr=float("nan"))),
    (["train", P("good.txt"), "--lr", "inf"], ["--lr", "finite", "got inf"], cfg(lr=float("inf"))),
    (["train", P("good.txt"), "--lr", "fast"], ["--lr", "number", "'fast'"], None),
    (["train", P("good.txt"), "--momentum", "1"], ["--momentum", "[0, 1)", "got 1.0"], cfg(momentum=1.0)),
    (["train", P("good.txt"), "--momentum", "-0.5"], ["--momentum", "got -0.5"], cfg(momentum=-0.5)),
    (["train", P("good.txt"), "--clip", "-1"], ["--clip", "got -1.0"], cfg(clip=-1.0)),
    (["train", P("good.txt"), "--clip-value", "0"], ["--clip-value", "got 0.0"], cfg(clip_value=0.0)),
    (["train", P("good.txt"), "--lr-decay", "0"], ["--lr-decay", "got 0.0"], cfg(lr_decay=0.0)),
    (["train", P("good.txt"), "--lr-decay-every", "0"], ["--lr-decay-every", "got 0"], cfg(lr_decay_every=0)),
    (["train", P("good.txt"), "--val-fraction", "0"], ["--val-fraction", "(0, 1)", "got 0.0"], cfg(val_fraction=0.0)),
    (["train", P("good.txt"), "--val-fraction", "1.5"], ["--val-fraction", "got 1.5"], cfg(val_fraction=1.5)),
    (["train", P("good.txt"), "--eval-every", "0"], ["--eval-every", "got 0"], cfg(eval_every=0)),
    (["train", P("good.txt"), "--sample-every", "-1"], ["--sample-every", ">= 0", "got -1"], cfg(sample_every=-1)),
    (["train", P("good.txt"), "--sample-length", "-1"], ["--sample-length", "got -1"], cfg(sample_length=-1)),
    (["train", P("good.txt"), "--seed", "-1"], ["--seed", "got -1"], cfg(seed=-1)),
    (["train", P("good.txt"), "--optimizer", "lbfgs"], ["--optimizer", "adam", "'lbfgs'"], cfg(optimizer="lbfgs")),
    (["train", P("good.txt"), "--nonlinearity", "sigmoid"], ["--nonlinearity", "tanh", "'sigmoid'"], None),
    (["train", P("good.txt"), "--dtype", "float16"], ["--dtype", "float32", "'float16'"], None),
    (["train", P("good.txt"), "--input-init-std", "-1"], ["--input-init-std", "> 0", "got -1.0"],
     cfg(input_init_std=-1.0)),
    (["train", P("good.txt"), "--input-init-std", "nan"], ["--input-init-std", "got nan"],
     cfg(input_init_std=float("nan"))),
    (["train", P("good.txt"), "--bogus"], ["unrecognized", "--bogus"], None),
    # train: a cell's own option with another cell (the cells it applies to come from the cell registry)
    (["train", P("good.txt"), "--cell", "lstm", "--nonlinearity", "relu"],
     ["--nonlinearity: expected only with --cell rnn", "got 'relu' with --cell lstm"],
     cfg(cell="lstm", nonlinearity="relu")),
    (["train", P("good.txt"), "--cell", "gru", "--forget-bias", "2"],
     ["--forget-bias: expected only with --cell lstm", "got 2.0 with --cell gru"], cfg(cell="gru", forget_bias=2.0)),
    (["train", P("good.txt"), "--clip", "-0.5"], ["--clip: expected a finite number >= 0 (0 turns clipping off)",
                                                  "got -0.5"], cfg(clip=-0.5)),
    # train: the run folder
    (["train", P("good.txt"), "--out", P("a-file")], ["--out", "a-file", "which is a file"], None),
    (["train", P("good.txt"), "--out", P("a-file/sub")], ["--out", "writable folder", "a-file/sub"], None),
    (["train", P("good.txt"), "--out", P("run")], ["--out", "new or empty", "--resume"], None),
    (["train", "--resume", P("missing-run")], ["--resume", "missing-run", "does not exist"],
     lambda w: checkpoint.load(str(w["root"] / "missing-run"), name="--resume")),
    (["train", "--resume", P("a-folder")], ["--resume", "a-folder", "without one"],
     lambda w: checkpoint.load(str(w["root"] / "a-folder"), name="--resume")),
    (["train", "--resume", P("ck:future version")], ["--resume", "version <= 1", "got 99"], None),
    (["train", "--resume", P("ck:nan weights")], ["--resume", "finite", "nan"], None),
    (["train", "--resume", P("run"), "--steps", "0"], ["--steps", "got 0"], cfg(steps=0)),
    (["train", "--resume", P("run"), "--lr", "-1"], ["--lr", "got -1.0"], cfg(lr=-1.0)),
    (["train", "--resume", P("run"), "--hidden", "9"], ["--hidden", "run's own --hidden 8", "got 9", "--init-from"],
     lambda w: Trainer.resume(w["root"] / "run", TEXT, changes={"hidden": 9})),
    (["train", "--resume", P("run"), "--seed", "5"], ["--seed", "got 5"],
     lambda w: Trainer.resume(w["root"] / "run", TEXT, changes={"seed": 5})),
    (["train", "--resume", P("run"), "--out", P("a-folder")], ["--out", "stays in its folder"], None),
    (["train", "--resume", P("run"), "--init-from", P("run")], ["--init-from", "either --resume"], None),
    (["train", P("other.txt"), "--resume", P("run")], ["FILE", "other.txt", "expected the text of the run",
                                                       "vocabulary lacks"], None),
    (["train", P("good.txt"), "--init-from", P("missing-run")], ["--init-from", "missing-run", "does not exist"],
     lambda w: Trainer.fine_tune(w["root"] / "missing-run", TEXT, w["root"] / "never-made")),
    (["train", P("good.txt"), "--init-from", P("run"), "--hidden", "9"], ["--hidden", "--init-from", "got 9"],
     lambda w: Trainer.fine_tune(w["root"] / "run", TEXT, w["root"] / "never-made", {"hidden": 9})),
    (["train", P("good.txt"), "--init-from", P("ck:nan weights")], ["--init-from", "finite", "nan"], None),
    # sample
    (["sample"], ["CHECKPOINT", "none"], None),
    (["sample", P("missing.npz")], ["CHECKPOINT", "missing.npz", "does not exist"],
     lambda w: checkpoint.load(str(w["root"] / "missing.npz"))),
    (["sample", P("good.txt")], ["CHECKPOINT", "good.txt", "not one"],
     lambda w: checkpoint.load(str(w["root"] / "good.txt"))),
    *[(["sample", P(f"ck:{flaw}")], ["CHECKPOINT", flaw.replace(" ", "-")], load(f"ck:{flaw}")) for flaw in CK_FLAWS],
    (["sample", P("run"), "--prime", "XYZ"], ["--prime", "vocabulary", "'XYZ'"], sample_api(prime="XYZ")),
    (["sample", P("run"), "--temperature", "-1"], ["--temperature", ">= 0", "got -1.0"], sample_api(temperature=-1.0)),
    (["sample", P("run"), "--temperature", "inf"], ["--temperature", "got inf"], sample_api(temperature=float("inf"))),
    (["sample", P("run"), "--argmax", "--temperature", "0.5"], ["--argmax", "--temperature 0.5"], None),
    (["sample", P("run"), "--temperature", "nan"], ["--temperature", "got nan"], sample_api(temperature=float("nan"))),
    (["sample", P("run"), "--temperature", "hot"], ["--temperature", "'hot'"], None),
    (["sample", P("run"), "--length", "-3"], ["--length", "got -3"], sample_api(length=-3)),
    (["sample", P("run"), "--seed", "-1"], ["--seed", "got -1"], sample_api(seed=-1)),
    # gradcheck and the command itself
    (["gradcheck", "--hidden", "0"], ["--hidden", "'0'"], None),
    (["gradcheck", "--batch", "two"], ["--batch", "'two'"], None),
    (["gradcheck", "--eps", "nan"], ["--eps", "'nan'"], None),
    (["gradcheck", "--tol", "inf"], ["--tol", "'inf'"], None),
    (["gradcheck", "--input", "images"], ["--input", "tokens", "'images'"], None),
    (["gradcheck", "--max-entries", "-1"], ["--max-entries", "'-1'"], None),
    (["gradcheck", "--steps", "-2"], ["--steps", "'-2'"], None),
    (["gradcheck", "--nonlinearity", "sigmoid"], ["--nonlinearity", "tanh", "'sigmoid'"], None),
    (["gradcheck", "--bogus"], ["unrecognized", "--bogus"], None),
    (["frobnicate"], ["COMMAND", "train", "'frobnicate'"], None),
]


def case_id(case):
    return " ".join(a if isinstance(a, str) else a[1] for a in case[0])


def test_there_are_at_least_40_and_every_command_is_covered():
    assert len(CASES) >= 40
    assert {c[0][0] for c in CASES} == {"train", "sample", "gradcheck", "frobnicate"}


@pytest.mark.parametrize("argv,words,api", CASES, ids=[case_id(c) for c in CASES])
def test_bad_input_is_one_named_line_and_exit_2(w, capsys, argv, words, api):
    argv = fill(argv, w)
    if argv[0] == "train" and "--resume" in argv:   # a resumed run refuses settings its checkpoint fixes
        argv = ["train", "--quiet", *argv[1:]]
    elif argv[0] == "train":   # small settings first, so the case's own flags win and nothing runs long
        argv = ["train", *T, "--out", str(w["root"] / "never-made"), *argv[1:]]
    code = main(argv)
    captured = capsys.readouterr()
    line = captured.err.rstrip("\n")
    assert code == 2, captured.out + captured.err
    assert "\n" not in line and "Traceback" not in line, line
    assert line.startswith("bptt: error: ") and "expected" in line and "got" in line, line
    for word in words:
        assert word in line, (word, line)
    assert not (w["root"] / "never-made" / checkpoint.FILENAME).exists()
    if api is not None:
        with pytest.raises((ValueError, FileNotFoundError, IsADirectoryError)) as err:
            api(w)
        assert f"bptt: error: {err.value}" == line


def test_the_same_lines_from_the_installed_command(w):
    """Through a real process: the one line and exit 2 survive start-up, not only main()."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    for argv in (["train", str(w["root"] / "binary.dat")], ["sample", str(w["ck:object array"])]):
        r = subprocess.run([sys.executable, "-m", "bptt", *argv], capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and r.stderr.startswith("bptt: error: "), r.stderr
