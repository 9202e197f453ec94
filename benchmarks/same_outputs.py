"""Run a fixed set of bptt commands and fingerprint what they write, to show a refactor changed nothing.

    python benchmarks/same_outputs.py run OUT_DIR        # with the bptt on this PYTHONPATH
    python benchmarks/same_outputs.py compare DIR_A DIR_B

`run` trains every cell, a 2-layer stack, a long-lag task, and runs diagnose and explain, each
with OPENBLAS_NUM_THREADS=1 and float64 where that is a flag, then writes fingerprints.json:
for each file the run wrote, a sha256 of every array in a checkpoint (by name, dtype, shape and
bytes) and of every number in its JSON files (timings and paths left out). `compare` prints
every fingerprint that differs and exits 1 if any does.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

COMMANDS = {
    "train-rnn": ["train", "--steps", "40", "--hidden", "32", "--eval-every", "20", "--sample-every", "20",
                  "--dtype", "float64"],
    "train-lstm": ["train", "--cell", "lstm", "--steps", "30", "--hidden", "24", "--eval-every", "15",
                   "--dtype", "float64"],
    "train-gru": ["train", "--cell", "gru", "--steps", "30", "--hidden", "24", "--eval-every", "15",
                  "--dtype", "float64"],
    "train-lstm-2layer": ["train", "--cell", "lstm", "--layers", "2", "--steps", "20", "--hidden", "16",
                          "--eval-every", "10", "--bptt-depth", "40"],
    "train-rnn-resume": ["train", "--resume", "{runs}/train-rnn", "--steps", "60"],
    "task-adding-lstm": ["task", "adding", "--cell", "lstm", "--length", "20", "--steps", "60",
                         "--eval-every", "30", "--eval-size", "100", "--dtype", "float64"],
    "task-copy-gru": ["task", "copy", "--cell", "gru", "--length", "10", "--steps", "40",
                      "--eval-every", "20", "--eval-size", "50"],
    "diagnose-run": ["diagnose", "{runs}/train-rnn"],
    "diagnose-random-lstm": ["diagnose", "--cell", "lstm", "--hidden", "16", "--length", "30", "--beside", "rnn"],
    "explain-run": ["explain", "{runs}/train-gru", "--text", "def f(x):"],
    "explain-random-lstm2": ["explain", "--cell", "lstm", "--layers", "2", "--hidden", "6"],
}
SKIP_KEYS = {"seconds", "wall_seconds", "cpu_seconds", "elapsed", "tokens_per_second", "time",
             "created", "path", "file", "run", "started", "finished", "out", "tok_per_s", "speed",
             "threads"}   # a machine setting (--threads), not an output: the count changes the time, not the numbers


def _numbers(obj, prefix=""):
    """Flatten JSON to {path: value} for numbers and strings, leaving out timings and paths."""
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in SKIP_KEYS or "second" in k or "path" in k or k.endswith("_per_s"):
                continue
            out.update(_numbers(v, f"{prefix}.{k}"))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.update(_numbers(v, f"{prefix}[{i}]"))
    elif isinstance(obj, (int, float, bool)) or obj is None:
        out[prefix] = repr(obj)
    elif isinstance(obj, str) and "/" not in obj:
        out[prefix] = obj
    return out


def _without(obj, keys):
    if isinstance(obj, dict):
        return {k: _without(v, keys) for k, v in obj.items() if k not in keys}
    if isinstance(obj, list):
        return [_without(v, keys) for v in obj]
    return obj


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fingerprint(path: Path, root: Path) -> dict:
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            out = {name: hashlib.sha256(f"{z[name].dtype}{z[name].shape}".encode()
                                        + np.ascontiguousarray(z[name]).tobytes()).hexdigest()[:16]
                   for name in sorted(z.files) if name != "meta.json"}
            if "meta.json" in z.files:
                out.update({f"meta.json{k}": v for k, v in _numbers(json.loads(bytes(z["meta.json"]))).items()})
            return out
    if path.suffix == ".json":
        record = json.loads(path.read_text())
        if path.name == "diagnostics.json":   # which layer and W a profile follows was added: no number changed
            record = _without(record, {"layer", "W"})
        return _numbers(record)
    if path.suffix == ".jsonl":
        rows = [_numbers(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
        return {"numbers": _digest(json.dumps(rows, sort_keys=True))}
    if path.suffix == ".html":
        # The page's numbers are the JSON it embeds; its script and styles are presentation.
        page = path.read_text()
        start = page.index('<script type="application/json" id="bptt-data">')
        data = page[page.index(">", start) + 1:page.index("</script>", start)]
        return _numbers(json.loads(data.replace(str(root), "{out}").replace("<\\/", "</")))
    if path.name == "samples.txt":
        return {"bytes": hashlib.sha256(path.read_bytes()).hexdigest()[:16]}
    return {}


def run(out: Path) -> None:
    runs = out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    prints = {}
    for name, args in COMMANDS.items():
        args = [a.format(runs=runs) for a in args]
        target = runs / name
        if args[0] == "train" and "--resume" not in args or args[0] == "task":
            args += ["--out", str(target)]
        elif args[0] == "diagnose":
            args += ["--out", str(target)]
        elif args[0] == "explain":
            target.mkdir(exist_ok=True)
            args += ["--out", str(target / "page.html")]
        done = subprocess.run([sys.executable, "-m", "bptt", *args], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{name}: exit {done.returncode}\n{done.stderr[-2000:]}")
        print(f"{name}: ok")
    for path in sorted(runs.rglob("*")):
        if path.is_file():
            fp = fingerprint(path, out)
            if fp:
                prints[str(path.relative_to(runs))] = fp
    (out / "fingerprints.json").write_text(json.dumps(prints, indent=1, sort_keys=True))
    print(f"{len(prints)} files fingerprinted -> {out / 'fingerprints.json'}")


def compare(a: Path, b: Path) -> int:
    fa = json.loads((a / "fingerprints.json").read_text())
    fb = json.loads((b / "fingerprints.json").read_text())
    differ = added_only = 0
    for name in sorted(set(fa) | set(fb)):
        ka, kb = fa.get(name), fb.get(name)
        if ka == kb:
            continue
        if ka is None or kb is None:
            differ += 1
            print(f"differs: {name}: only in {'the second' if ka is None else 'the first'}")
            continue
        changed = sorted(k for k in ka if k in kb and ka[k] != kb[k])
        gone = sorted(k for k in ka if k not in kb)
        new = sorted(k for k in kb if k not in ka)
        if changed or gone:
            differ += 1
            print(f"differs: {name}: changed {changed[:8]}{' ...' if len(changed) > 8 else ''}, "
                  f"gone {gone[:8]}")
        else:
            added_only += 1
            print(f"added keys only: {name}: {new[:6]}{' ...' if len(new) > 6 else ''}")
    print(f"{len(set(fa) | set(fb)) - differ - added_only} files identical, {added_only} with added keys only "
          f"(every earlier array and number the same), {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "run":
        run(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        sys.exit(__doc__)
