"""The chrono initialisation (Tallec & Ollivier 2018) of the cells that offer it (``nn/cells/_chrono.py``).

A gate that keeps g of the state at each step forgets with the time constant 1 / (1 - g); chrono
draws that gate's bias as log(u), u ~ uniform[1, T_max - 1], so the constants spread over
[2, T_max]. The tests check the draw, and that the gate it sets is the one that carries the
error back: with W = U = 0 the error reaching the initial state is the gate's value to the power T.
"""

import numpy as np
import pytest

import bptt
from bptt import checkpoint, tasks
from bptt.cli import main
from bptt.nn.cells import CELLS, CHRONO
from bptt.train.task import TaskConfig, build_model

KEEP = {"lstm": "forget gate f", "gru": "update gate z"}     # the gate chrono sets: block 1 in both orders


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def test_chrono_is_offered_by_the_gated_cells_only():
    assert CHRONO == ("lstm", "gru")
    with pytest.raises(TypeError):
        CELLS["rnn"](chrono=10)


@pytest.mark.parametrize("cell", CHRONO)
def test_the_kept_share_starts_with_time_constants_spread_up_to_t_max(cell):
    H, t_max = 400, 50
    model = bptt.Network.create(cell, 3, H, 2, cell_options={"chrono": t_max}, seed=0)
    b = model.params["b"]
    keep = sigmoid(b[H:2 * H])                                 # the kept share at the start
    tau = 1.0 / (1.0 - keep)                                   # = 1 + u
    assert tau.min() >= 2.0 - 1e-12 and tau.max() <= t_max + 1e-9
    assert tau.min() < 3 and tau.max() > t_max - 1             # spread over the whole range
    # uniform in u = tau - 1: about half the units below the middle of [1, T_max - 1]
    assert 0.4 < np.mean(tau - 1 < (1 + t_max - 1) / 2) < 0.6
    if cell == "lstm":                                         # the input gate's bias is -b_f
        np.testing.assert_array_equal(b[:H], -b[H:2 * H])


@pytest.mark.parametrize("cell", CHRONO)
def test_the_chrono_gate_is_what_carries_the_error_back(cell):
    """With W = U = 0 the only path from the last step to the first is the kept share: the LSTM's
    ds(t-1) = f ds(t), the GRU's dh(t-1) = z dh(t). So the error at the initial state is that
    gate's value to the power T, and chrono makes it large: the sign is the one that remembers."""
    H, T, t_max = 16, 30, 200
    model = bptt.Network.create(cell, 2, H, 1, cell_options={"chrono": t_max}, output="identity", seed=1)
    params = dict(model.params)
    for name in ("U", "W"):
        params[name] = np.zeros_like(params[name])
    model.set_params(params)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(T, 3, 2)), rng.normal(size=(T, 3, 1))
    mask = np.zeros((T, 3))
    mask[-1] = 1.0
    result = model.backward(model.forward(x), y, mask=mask)
    keep = sigmoid(model.params["b"][H:2 * H])
    state = "s" if cell == "lstm" else "h"
    last, first = result.errors[state][-1], (result.ds0 if cell == "lstm" else result.dh0)
    np.testing.assert_allclose(first, last * keep ** T, rtol=1e-10)
    assert np.all(keep >= 0.5)                                # remembering, not forgetting
    # the error that reaches the start: at least (1 - 1/2)^T for every unit, far more for most
    assert np.median(keep ** T) > 0.5 ** T * 1e6


@pytest.mark.parametrize("cell", CHRONO)
def test_chrono_draws_after_the_uniform_draw_and_changes_only_its_biases(cell):
    H = 8
    plain = bptt.Network.create(cell, 3, H, 2, seed=5)
    chrono = bptt.Network.create(cell, 3, H, 2, cell_options={"chrono": 20}, seed=5)
    changed = slice(0, 2 * H) if cell == "lstm" else slice(H, 2 * H)
    for name in plain.params:
        if name != "b":
            np.testing.assert_array_equal(chrono.params[name], plain.params[name])
    rest = np.ones(plain.params["b"].shape, bool)
    rest[changed] = False
    np.testing.assert_array_equal(chrono.params["b"][rest], plain.params["b"][rest])
    assert not np.any(chrono.params["b"][changed] == plain.params["b"][changed])


@pytest.mark.parametrize("cell", CHRONO)
def test_a_chrono_model_saves_and_loads_with_its_setting(tmp_path, cell):
    model = bptt.Network.create(cell, 3, 5, 2, cell_options={"chrono": 40}, seed=2)
    assert model.spec()["chrono"] == 40
    ck = checkpoint.load(checkpoint.save(tmp_path / "c.npz", model))
    assert ck.model.cell == model.cell
    for name in model.params:
        np.testing.assert_array_equal(ck.model.params[name], model.params[name])


def test_a_model_without_chrono_keeps_its_spec():
    assert "chrono" not in bptt.LSTM(2, 3, 1).spec() and "chrono" not in bptt.GRU(2, 3, 1).spec()


@pytest.mark.parametrize("make,message", [
    (lambda: CELLS["lstm"](chrono=1), "chrono: expected None or T_max, an integer >= 2 (the longest lag), got 1"),
    (lambda: CELLS["gru"](chrono=2.5), "chrono: expected None or T_max, an integer >= 2 (the longest lag), got 2.5"),
    (lambda: CELLS["lstm"](forget_bias=2.0, chrono=10), "forget_bias: expected the default 1.0 with chrono"),
])
def test_bad_chrono_settings_are_named(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        make()


@pytest.mark.parametrize("task", [name for name, t in tasks.TASKS.items() if hasattr(t, "max_lag")])
@pytest.mark.parametrize("cell", CHRONO)
def test_task_init_chrono_takes_t_max_from_the_task(task, cell):
    length = max(tasks.TASKS[task].min_length, 20)
    config = TaskConfig(task=task, cell=cell, length=length, hidden=300, init="chrono").validate()
    model = build_model(config)
    t_max = tasks.TASKS[task].max_lag(length)
    assert model.cell.chrono == t_max
    H = config.hidden
    tau = 1.0 / (1.0 - sigmoid(model.params["b"][H:2 * H].astype(np.float64)))
    assert tau.max() <= t_max * (1 + 1e-5) and tau.max() > 0.9 * t_max


BAD = [
    (["adding", "--cell", "rnn", "--init", "chrono"], "--init: expected only with --cell lstm or gru, got 'chrono'"),
    (["adding", "--cell", "irnn", "--init", "chrono"], "--init: expected only with --cell lstm or gru, got 'chrono'"),
    (["adding", "--cell", "gru", "--forget-bias", "2"], "--forget-bias: expected only with --cell lstm"),
    (["adding", "--cell", "lstm", "--init", "chrono", "--forget-bias", "2"],
     "--forget-bias: expected only with --cell lstm and without --init chrono"),
    (["adding", "--cell", "lstm", "--forget-bias", "inf"], "--forget-bias: expected a finite number"),
    (["reverse", "--cell", "lstm", "--init", "chrono"], "--init: expected chrono only with a task one network reads"),
]


@pytest.mark.parametrize("argv,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_init_flags_are_one_line(tmp_path, capsys, argv, message):
    out = tmp_path / "run"
    assert main(["task", *argv, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert captured.out == "" and len(lines) == 1 and lines[0].startswith("bptt: error: ") and message in lines[0], \
        captured.err
    assert not out.exists()
