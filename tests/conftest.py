import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("BPTT_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
TINYSHAKESPEARE = SHARED / "data" / "tinyshakespeare.txt"


@pytest.fixture
def tinyshakespeare():
    if not TINYSHAKESPEARE.is_file():
        pytest.skip(f"needs {TINYSHAKESPEARE} (the shared data folder beside the project)")
    return TINYSHAKESPEARE


def _numba_param():
    from bptt.nn.cells import _kernels
    return pytest.param("numba", marks=pytest.mark.skipif(
        not _kernels.available(), reason='numba is not installed (pip install "bptt[fast]"): the compiled path is untested'))


@pytest.fixture(params=["numpy", _numba_param()])
def kernels(request):
    """Run the test on each path of the gated cells' steps: NumPy's (the reference) and the
    compiled one (``bptt.nn.cells._kernels``). A proof module takes it with
    ``pytestmark = pytest.mark.usefixtures("kernels")``."""
    from bptt.nn.cells import _kernels
    previous = _kernels.use(request.param)
    yield request.param
    _kernels.use(previous)
