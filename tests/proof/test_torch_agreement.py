"""The simple RNN's per-step errors dL/do(t), dL/dh(t), dL/da(t) against torch autograd of an
explicit loop, for every nonlinearity (linear included, which torch.nn.RNN lacks), float64,
1e-10 relative. Every cell against PyTorch's own modules is proven in tests/test_cells.py."""

import pytest

torch = pytest.importorskip("torch")

from bptt.proof.random_cases import random_problem  # noqa: E402
from torch_reference import run_loop  # noqa: E402
from compare import close  # noqa: E402





@pytest.mark.parametrize("f", ["tanh", "relu", "linear"])
@pytest.mark.parametrize("kind", ["tokens", "vectors"])
def test_errors_equal_autograd_of_retained_steps(f, kind):
    model, x, y, h0, mask = random_problem(kind, "softmax", f, False, T=11, B=3, H=7, seed=9)
    result = model.gradients(x, y, h0, mask)
    ref = run_loop(model, x, y, h0, mask)
    for name in ("o", "h", "a"):
        close(result.errors[name], ref["errors"][name], f"dL/d{name}(t)")
    for k in model.params:
        close(result.grads[k], ref["grads"][k], f"dL/d{k} (loop)")
    close(result.dh0, ref["dh0"], "dL/dh0 (loop)")
