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
