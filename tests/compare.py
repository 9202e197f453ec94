"""The one comparison the proofs share: the largest error relative to the largest expected entry."""

import numpy as np

RTOL = 1e-10      # what every hand-written backward must meet against PyTorch autograd in float64


def close(actual, expected, what, rtol=RTOL):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(np.abs(expected).max(initial=0.0), 1e-300)
    err = np.abs(actual - expected).max(initial=0.0) / scale
    assert err < rtol, f"{what}: relative error {err:.2e}"
