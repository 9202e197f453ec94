"""The compiled path of the gated cells' steps (``bptt.nn.cells._kernels``, the ``fast`` extra)
gives NumPy's path's bits, and the switch between them does what it says.

The proofs themselves (central differences, PyTorch's autograd, planted errors) run on both
paths: tests/nn/test_cells.py and tests/proof/test_gradcheck.py take the ``kernels`` fixture.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from bptt.nn.cells import CELLS, _kernels
from bptt.nn.unroll import Weights, backward_through_time, forward_through_time

needs_numba = pytest.mark.skipif(not _kernels.available(),
                                 reason='numba is not installed (pip install "bptt[fast]")')
GATED = [name for name in CELLS if name != "rnn"]


def through_time(cell, dtype, T, B, H, seed=0):
    """Every array the forward and backward loops write, for one random problem."""
    rng = np.random.default_rng(seed)
    G = cell.gates
    W = rng.uniform(-1, 1, (G * H, H)).astype(dtype)                                     # (G*H, H)
    P = Weights.of(cell, W, {k: rng.uniform(-1, 1, s).astype(dtype) for k, s in cell.extra_params(H).items()})
    xu = (3 * rng.standard_normal((T, B, G * H))).astype(dtype)         # saturating gates too
    state0 = {n: rng.standard_normal((B, H)).astype(dtype) for n in cell.states}
    dh = rng.standard_normal((T, B, H)).astype(dtype)
    carry = {n: rng.standard_normal((B, H)).astype(dtype) for n in cell.states}
    states, keeps = forward_through_time(cell, P, xu, state0)
    dstates, errors, carry0 = backward_through_time(cell, P, dh, states, keeps, carry=carry)
    return {**{f"state {k}": v for k, v in states.items()}, **{f"keep {k}": v for k, v in keeps.items()},
            **{f"d{k}": v for k, v in dstates.items()}, **{f"error {k}": v for k, v in errors.items()},
            **{f"carry {k}": v for k, v in carry0.items()}}


@needs_numba
@pytest.mark.parametrize("name", GATED)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("T,B,H", [(1, 1, 1), (9, 3, 5), (12, 50, 64)])
def test_compiled_steps_give_numpys_bits(name, dtype, T, B, H):
    cell = CELLS[name]()
    previous = _kernels.use("numpy")
    try:
        reference = through_time(cell, dtype, T, B, H)
        _kernels.use("numba")
        compiled = through_time(cell, dtype, T, B, H)
    finally:
        _kernels.use(previous)
    for k, v in reference.items():
        assert compiled[k].dtype == v.dtype
        assert np.array_equal(compiled[k], v), f"{k}: max difference {np.abs(compiled[k] - v).max():.3e}"


@needs_numba
def test_extra_leading_axes_stay_on_numpys_path():
    """The diagnostics push many chains through one step: (n, B, H) arrays are not (B, H)."""
    a, wide = np.zeros((3, 2, 4)), np.zeros((3, 2, 16))
    previous = _kernels.use("numba")
    try:
        assert _kernels.fast((a[0], a[1]), (wide[0],))
        assert not _kernels.fast((a, a), (wide,))
        assert not _kernels.fast((a[0], a), (wide[0],))                       # shapes differ
        assert not _kernels.fast((a[0], a[1].astype(np.float32)), (wide[0],))   # dtypes differ
        assert _kernels.fast((a, a), (wide,), ndim=3)
    finally:
        _kernels.use(previous)


def test_the_switch_turns_the_compiled_path_off():
    previous = _kernels.use("numpy")
    try:
        assert _kernels.active() == "numpy"
        assert not _kernels.fast((np.zeros((2, 3)),))
        with pytest.raises(ValueError, match="kernels: expected one of auto, numba, numpy, got 'fast'"):
            _kernels.use("fast")
    finally:
        _kernels.use(previous)


def test_numba_asked_for_without_numba_is_an_error(monkeypatch):
    previous = _kernels.use("auto")
    monkeypatch.setattr(_kernels, "_HAVE_NUMBA", False)
    try:
        with pytest.raises(ValueError, match=r'needs numba installed \(pip install "bptt\[fast\]"\)'):
            _kernels.use("numba")
        _kernels.use("auto")
        assert _kernels.active() == "numpy"                 # auto without numba: NumPy's path
    finally:
        monkeypatch.undo()
        _kernels.use(previous)


def kernels_in_a_fresh_process(value):
    env = {**os.environ, "BPTT_KERNELS": value}
    return subprocess.run([sys.executable, "-c", "from bptt.nn.cells import _kernels; print(_kernels.active())"],
                          env=env, capture_output=True, text=True)


def test_the_environment_variable_chooses_and_a_bad_value_is_named():
    assert kernels_in_a_fresh_process("numpy").stdout.strip() == "numpy"
    auto = kernels_in_a_fresh_process("auto").stdout.strip()
    assert auto == ("numba" if _kernels.available() else "numpy")
    bad = kernels_in_a_fresh_process("gpu")
    assert bad.returncode != 0
    assert "BPTT_KERNELS: expected one of auto, numba, numpy, got 'gpu'" in bad.stderr


def test_a_bad_value_stops_a_command_before_it_starts(tmp_path):
    env = {**os.environ, "BPTT_KERNELS": "fastest"}
    out = tmp_path / "run"
    run = subprocess.run([sys.executable, "-m", "bptt", "train", "--steps", "2", "--out", str(out)],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == "bptt: error: BPTT_KERNELS: expected one of auto, numba, numpy, got 'fastest'\n"
    assert not out.exists()
