"""bptt against PyTorch autograd on the same weights, float64, 1e-10 relative."""

import numpy as np
import bptt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from bptt import SimpleRNN  # noqa: E402
from bptt.proof.random_cases import random_problem  # noqa: E402
from torch_reference import run_fused, run_loop  # noqa: E402

RTOL = 1e-10


def close(actual, expected, what):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, what
    scale = max(np.abs(expected).max(initial=0.0), 1e-300)
    err = np.abs(actual - expected).max(initial=0.0) / scale
    assert err < RTOL, f"{what}: relative error {err:.2e}"


def compare(model, x, y, h0, mask):
    trace = model.forward(x, h0)
    result = model.backward(trace, y, mask=mask, per_step=True)
    ref = run_fused(model, x, y, h0, mask)
    close(trace.h, ref["h"], "h(t)")
    close(trace.yhat, ref["yhat"], "yhat(t)")
    close(result.loss, ref["loss"], "loss")
    for k in model.params:
        close(result.grads[k], ref["grads"][k], f"dL/d{k}")
        close(result.per_step[k].sum(axis=0), result.grads[k], f"sum_t per-step d{k}")
    close(result.dh0, ref["dh0"], "dL/dh0")
    return result


SHAPES = [  # (T, B, I, H, O)
    (1, 1, 1, 1, 1), (1, 3, 4, 5, 2), (7, 1, 3, 1, 4), (5, 4, 6, 8, 6), (200, 2, 5, 6, 5),
    (13, 3, 2, 16, 3),
]


@pytest.mark.parametrize("T,B,I,H,O", SHAPES)
@pytest.mark.parametrize("kind", ["tokens", "vectors"])
@pytest.mark.parametrize("output", ["softmax", "identity"])
@pytest.mark.parametrize("f", ["tanh", "relu"])
def test_fused_nn_rnn_agrees(T, B, I, H, O, kind, output, f):
    model, x, y, h0, _ = random_problem(kind, output, f, I=I, H=H, O=O, T=T, B=B, seed=T * 7 + H)
    compare(model, x, y, h0, None)


@pytest.mark.parametrize("kind", ["tokens", "vectors"])
@pytest.mark.parametrize("output", ["softmax", "identity"])
def test_masked_many_to_one_agrees(kind, output):
    model, x, y, h0, mask = random_problem(kind, output, "tanh", True, T=9, B=4, seed=2)
    result = compare(model, x, y, h0, mask)
    assert np.all(result.errors["o"][:-1] == 0)         # no loss before the last step
    mixed = np.random.default_rng(0).integers(0, 2, size=(9, 4))
    compare(model, x, y, h0, mixed)


@settings(max_examples=25, deadline=None)
@given(T=st.integers(1, 30), B=st.integers(1, 5), I=st.integers(1, 7), H=st.integers(1, 12),
       O=st.integers(1, 7), seed=st.integers(0, 2**16), kind=st.sampled_from(["tokens", "vectors"]),
       output=st.sampled_from(["softmax", "identity"]), f=st.sampled_from(["tanh", "relu"]),
       mask=st.booleans())
def test_random_shapes_agree(T, B, I, H, O, seed, kind, output, f, mask):
    model, x, y, h0, m = random_problem(kind, output, f, mask, I=I, H=H, O=O, T=T, B=B, seed=seed)
    compare(model, x, y, h0, m)


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


def test_bridge_round_trip_and_bias_split():
    model = SimpleRNN(4, 6, 3, seed=1)
    rnn, readout = bptt.to_torch(model)
    assert torch.all(rnn.bias_hh_l0 == 0)
    with torch.no_grad():                                 # a module with both biases set
        rnn.bias_hh_l0.uniform_(-1, 1)
    back = bptt.from_torch(rnn, readout, cell="rnn")
    np.testing.assert_allclose(back.params["b"],
                               (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().numpy(), rtol=0, atol=0)
    for k in ("U", "W", "V", "c"):
        np.testing.assert_array_equal(back.params[k], model.params[k])
    assert back.nonlinearity == "tanh" and back.dtype == np.float64


def test_from_torch_keeps_float32_and_nonlinearity():
    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 5, nonlinearity="relu")
    readout = torch.nn.Linear(5, 2)
    model = bptt.from_torch(rnn, readout, cell="rnn")
    assert model.dtype == np.float32 and model.nonlinearity == "relu"
    assert all(v.dtype == np.float32 for v in model.params.values())


def test_bridge_rejects_what_it_cannot_map():
    with pytest.raises(ValueError, match="rnn: expected a torch.nn.RNN, got LSTM"):
        bptt.from_torch(torch.nn.LSTM(2, 3), torch.nn.Linear(3, 2), cell="rnn")
    with pytest.raises(ValueError, match="rnn: expected batch_first=False"):   # bidirectional is mapped now
        bptt.from_torch(torch.nn.RNN(2, 3, batch_first=True), torch.nn.Linear(3, 2), cell="rnn")
    with pytest.raises(ValueError, match="readout: expected in_features = hidden_size = 3, got 4"):
        bptt.from_torch(torch.nn.RNN(2, 3), torch.nn.Linear(4, 2), cell="rnn")
    with pytest.raises(ValueError, match="nonlinearity: torch.nn.RNN supports"):
        bptt.to_torch(SimpleRNN(2, 3, 2, nonlinearity="linear"))


def test_float32_agrees_with_float64():
    model64, x, y, h0, _ = random_problem("tokens", "softmax", "tanh", I=20, H=32, O=20, T=50, B=8, seed=3)
    model32 = model64.copy(np.float32)
    r64 = model64.gradients(x, y, h0)
    r32 = model32.gradients(x, y, h0)
    assert r32.loss == pytest.approx(r64.loss, rel=1e-5)
    for k in model64.params:
        assert r32.grads[k].dtype == np.float32
        err = np.abs(r32.grads[k] - r64.grads[k]).max() / np.abs(r64.grads[k]).max()
        assert err < 1e-4, (k, err)
    t32 = model32.forward(x, h0)
    for arr in (t32.a, t32.h, t32.o, t32.yhat, r32.dh0, *r32.errors.values()):
        assert arr.dtype == np.float32
