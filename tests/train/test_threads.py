"""BLAS threads (bptt/_threads.py): one for the loop's small per-step products, more only for
big products and free cores; --threads N and OPENBLAS_NUM_THREADS / OMP_NUM_THREADS honoured;
nothing breaks without threadpoolctl; and the count changes the time, never the numbers."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bptt import _threads, checkpoint
from bptt.cli import main
from bptt.nn.cells import CELLS
from bptt.nn.network import Network

SRC = Path(__file__).resolve().parents[2] / "src"
TEXT = "the quick brown fox jumps over the lazy dog. " * 200
TINY = ["--hidden", "16", "--seq-length", "8", "--batch-size", "4", "--steps", "4", "--eval-every", "2",
        "--sample-every", "0", "--quiet"]

needs_blas = pytest.mark.skipif(not _threads._blas(), reason="no BLAS library that threadpoolctl can set")


@pytest.fixture
def two_threads(monkeypatch):
    """BLAS set to 2 threads around the test (as OpenBLAS starts on 2 cores), the variables unset."""
    for name in _threads.ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    with _threads.limited(2):
        yield


@pytest.fixture
def seen(monkeypatch):
    """The BLAS thread count at every step of every cell, and at every readout product."""
    counts = {"step": [], "readout": []}
    for cls in CELLS.values():
        for name in ("step_forward", "step_backward"):
            original = getattr(cls, name)

            def spy(self, *a, _original=original):
                counts["step"].append(_threads.current())
                return _original(self, *a)
            monkeypatch.setattr(cls, name, spy)
    from bptt.nn import stages
    original = stages.dense_forward

    def readout(*a, **k):
        counts["readout"].append(_threads.current())
        return original(*a, **k)
    monkeypatch.setattr(stages, "dense_forward", readout)     # the readout's product, over all T*B rows
    return counts


def test_what_the_user_asked_for():
    env = {}
    assert _threads.asked(3, env) == 3
    assert _threads.asked(None, {"OMP_NUM_THREADS": "2"}) == 2
    assert _threads.asked(None, {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "4"}) == 1
    assert _threads.asked(None, {"OPENBLAS_NUM_THREADS": "", "OMP_NUM_THREADS": "junk"}) is None
    assert _threads.asked(None, env) is None


@pytest.mark.parametrize("others,threads", [(0.0, 2), (0.4, 2), (0.8, 1), (1.0, 1), (3.0, 1)])
def test_big_products_get_the_cores_others_leave_free(monkeypatch, others, threads):
    """Two readings 1 s apart on a 2-core machine: this process used 0.9 of a core, the others
    ``others`` cores (busy time counts both); as many threads as the free cores, rounded."""
    n = 2
    busy = min(n, 0.9 + others)                                       # 3 busy others: the cores are full
    free = _threads.free_between((0.0, 0.0, 0, 0), (1.0, 0.9, (n - busy) * 100, n * 100), n)
    assert free == pytest.approx(n - (busy - 0.9))
    monkeypatch.setattr(_threads, "free_cores", lambda: free)
    monkeypatch.setattr(_threads, "cores", lambda: n)
    assert _threads.update_threads(None, {}) == threads
    assert _threads.update_threads(2, {}) == 2                    # a number asked for is taken as asked
    assert _threads.update_threads(None, {"OPENBLAS_NUM_THREADS": "2"}) == 2


def test_a_per_step_product_gets_a_second_thread_only_when_each_has_enough_work():
    work = _threads.STEP_WORK
    assert _threads.step_threads(32, 128, 512, most=2) == 1          # the defaults: 2 million multiply-adds
    assert _threads.step_threads(256, 1024, 4096, most=2) == 2       # 1,074 million: 537 million each
    assert _threads.step_threads(256, 1024, 4096, most=1) == 1       # never above the block around it
    assert _threads.step_threads(1, 1, 2 * work, most=8) == 2


@needs_blas
@pytest.mark.parametrize("cell", CELLS)
def test_the_loop_over_time_runs_on_one_thread_and_gives_the_others_back(two_threads, seen, cell):
    m = Network.create(cell, 5, 16, 5, seed=0)
    x = np.random.default_rng(0).integers(0, 5, size=(12, 4))
    m.backward(m.forward(x), x)
    assert set(seen["step"]) == {1} and len(seen["step"]) == 24
    assert seen["readout"] == [2]                                     # outside the loop: the block's own
    assert _threads.current() == 2


@needs_blas
def test_train_asks_one_thread_for_the_updates_with_threads_1(tmp_path, two_threads, seen):
    (tmp_path / "t.txt").write_text(TEXT)
    assert main(["train", str(tmp_path / "t.txt"), *TINY, "--threads", "1", "--out", str(tmp_path / "run")]) == 0
    assert set(seen["step"]) == {1} and set(seen["readout"]) == {1}
    assert _threads.current() == 2                                    # given back after the run


@needs_blas
def test_the_variables_are_honoured(tmp_path, two_threads, seen, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert main(["task", "adding", "--length", "10", "--steps", "2", "--eval-size", "8", "--hidden", "8",
                 "--quiet", "--out", str(tmp_path / "run")]) == 0
    assert set(seen["readout"]) == {1}


@needs_blas
def test_task_and_diagnose_take_threads(tmp_path, two_threads, seen):
    assert main(["task", "adding", "--length", "10", "--steps", "2", "--eval-size", "8", "--hidden", "8",
                 "--threads", "2", "--quiet", "--out", str(tmp_path / "run")]) == 0
    assert set(seen["readout"]) == {2} and set(seen["step"]) == {1}
    seen["readout"].clear()
    seen["step"].clear()
    assert main(["diagnose", "--hidden", "8", "--text", "abcd" * 20, "--length", "6", "--threads", "1",
                 "--out", str(tmp_path / "diag")]) == 0
    assert set(seen["readout"]) == {1} and set(seen["step"]) == {1}


def test_the_thread_count_changes_the_time_not_the_numbers(tmp_path):
    (tmp_path / "t.txt").write_text(TEXT)
    params = []
    for n in ("1", "2"):
        assert main(["train", str(tmp_path / "t.txt"), *TINY, "--cell", "lstm", "--threads", n,
                     "--out", str(tmp_path / n)]) == 0
        params.append(checkpoint.load(tmp_path / n).model.params)
    for name in params[0]:
        np.testing.assert_array_equal(params[0][name], params[1][name], err_msg=name)


def test_without_threadpoolctl_training_runs_on_blas_own_threads(tmp_path):
    blocker = tmp_path / "no-threadpoolctl"
    blocker.mkdir()
    (blocker / "threadpoolctl.py").write_text("raise ImportError('No module named threadpoolctl')\n")
    (tmp_path / "t.txt").write_text(TEXT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(blocker), str(SRC)]))
    r = subprocess.run([sys.executable, "-m", "bptt", "train", str(tmp_path / "t.txt"), *TINY, "--threads", "1",
                        "--out", str(tmp_path / "run")], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "run" / checkpoint.FILENAME).is_file()
