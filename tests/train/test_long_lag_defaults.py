"""The 1997 experiments solved by `bptt task NAME --cell lstm` (and gru) at its defaults, the saved model
judged again on sequences it has never seen (neither its training batches nor its held-out set).

These train for real, at the defaults a user gets (``DEFAULTS`` in train/task.py says what they
are and what they were measured against): seconds each on one core, so they are marked slow.
"""

import json

import numpy as np
import pytest

from bptt import checkpoint, tasks
from bptt.cli import main
from bptt.train.task import evaluate

FRESH = 2560            # the 1997 paper's test set size


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("name", ["temporal-order", "adding-1997"])
def test_the_1997_experiment_is_solved_at_the_defaults(tmp_path, capsys, name, cell):
    run = tmp_path / "run"
    assert main(["task", name, "--cell", cell, "--out", str(run)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].startswith("solved: "), lines
    result = json.loads((run / "result.json").read_text())
    assert result["solved"] and result["config"]["init"] == "chrono"
    task = tasks.get(name)
    model = checkpoint.load(run).model
    fresh = task.generate(result["length"], FRESH, np.random.default_rng([result["seed"], 7]))
    metric, _ = evaluate(model, task, fresh)
    assert task.solved(metric), f"{task.metric_name} {metric} on {FRESH} fresh sequences"
    assert metric < result["baseline"] / 20
