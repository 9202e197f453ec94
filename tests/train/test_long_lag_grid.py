"""benchmarks/long_lag.py's grid: each grid cell a function of its settings writing its own run
folder, run through joblib and through submitit's local executor, a re-run skipping what is done."""

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("joblib")
pytest.importorskip("submitit")

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "long_lag.py"


@pytest.fixture(scope="module")
def long_lag():
    spec = importlib.util.spec_from_file_location("long_lag", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny(long_lag, variants=("rnn", "lstm-chrono"), seeds=(0, 1)):
    return [long_lag.cell_settings("adding", v, 4, seed, steps=10, eval_every=5) for v in variants for seed in seeds]


def test_a_grid_cell_is_named_by_all_its_settings(long_lag):
    a = long_lag.cell_settings("copy", "lstm-chrono", 100, 2, 10000, "arjovsky")
    assert long_lag.cell_name(a) == "copy-T100-lstm-chrono-arjovsky-seed2-n10000"
    names = {long_lag.cell_name(long_lag.cell_settings("adding", v, T, s, n, "default", e))
             for v in ("rnn", "lstm") for T in (4, 5) for s in (0, 1) for n in (10, 20) for e in (5, 100)}
    assert len(names) == 32


@pytest.mark.slow
@pytest.mark.parametrize("engine,cluster", [("joblib", None), ("submitit", "local")])
def test_the_grid_runs_on_an_engine_and_a_rerun_skips_finished_cells(tmp_path, long_lag, engine, cluster):
    cells, runs, lines = tiny(long_lag), tmp_path / "runs", []
    records = long_lag.run_grid(cells, runs, engine=engine, jobs=2, cluster=cluster, report=lines.append)
    assert lines[0].startswith(f"4 grid cells, 0 finished before, 4 to run ({engine}, 2 at a time)")
    assert [r["grid_cell"] for r in records] == cells
    for cell, r in zip(cells, records):
        folder = runs / long_lag.cell_name(cell)
        on_disk = json.loads((folder / "record.json").read_text())
        assert on_disk == r and r["updates"] == 10 and r["cpu_seconds"] > 0 and "error" not in r
        assert (folder / "checkpoint.npz").is_file() and (folder / "result.json").is_file()
        assert [c[0] for c in r["curve"]] == [5, 10]                 # the held-out scores, for the curves
        assert r["variant"] == cell["variant"] and r["seed"] == cell["seed"]
    chrono = json.loads((runs / long_lag.cell_name(cells[2]) / "result.json").read_text())
    assert chrono["config"]["init"] == "chrono" and chrono["config"]["cell"] == "lstm"

    # one cell left unfinished (its record gone, as when a job is killed), and one more seed
    stamp = {c["seed"]: (runs / long_lag.cell_name(c) / "record.json").stat().st_mtime_ns for c in cells[:2]}
    (runs / long_lag.cell_name(cells[1]) / "record.json").unlink()
    more = cells + tiny(long_lag, ("rnn",), (2,))
    lines.clear()
    again = long_lag.run_grid(more, runs, engine=engine, jobs=2, cluster=cluster, report=lines.append)
    assert lines[0].startswith("5 grid cells, 3 finished before, 2 to run")
    assert len(lines) == 3                                           # the header and the two that ran
    assert (runs / long_lag.cell_name(cells[0]) / "record.json").stat().st_mtime_ns == stamp[0]
    assert [r["grid_cell"] for r in again] == more
    assert again[0] == records[0] and again[1]["updates"] == 10


@pytest.mark.slow
def test_the_table_and_the_copies_for_the_docs(tmp_path, long_lag):
    results = tmp_path / "bench" / "results.jsonl"
    long_lag.main(["--tasks", "adding", "--cells", "rnn", "lstm-chrono", "--lengths", "4", "--seeds", "0",
                   "--steps", "10", "--eval-every", "5", "--jobs", "1", "--results", str(results),
                   "--runs", str(tmp_path / "runs"), "--picture", "adding", "4"])
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert sorted(r["variant"] for r in rows) == ["lstm-chrono", "rnn"]
    copies = sorted(p.name for p in (tmp_path / "bench" / "records").iterdir())
    assert copies == ["adding-T4-lstm-chrono-seed0-n10-every5.json", "adding-T4-rnn-seed0-n10-every5.json"]
    table = (tmp_path / "bench" / "table.md").read_text().splitlines()
    assert table[0] == "| task | T | rnn | lstm-chrono |" and table[2].startswith("| adding | 4 | 0/1, loss ")
