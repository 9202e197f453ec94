import numpy as np
import pytest

from bptt import Network, SimpleRNN
from bptt.proof.random_cases import random_case
from cells import CELLS


@pytest.mark.parametrize("cell", CELLS)
def test_params_have_the_book_names_shapes_and_init_range(cell):
    model = Network.create(cell, 7, 16, 5, seed=0)
    G = model.cell.gates
    shapes = {k: v.shape for k, v in model.params.items()}
    extra = {k: shape for k, shape in model.cell.extra_params(16).items()}
    assert shapes == {"U": (G * 16, 7), "W": (G * 16, 16), "b": (G * 16,), **extra, "V": (5, 16), "c": (5,)}
    if cell == "rnn":
        assert shapes == {"U": (16, 7), "W": (16, 16), "b": (16,), "V": (5, 16), "c": (5,)}
    for k, v in model.params.items():
        assert v.dtype == np.float64
        if cell == "lstm" and k == "b":                  # the forget gate's block starts at forget_bias = 1
            v = v.copy()
            v[16:32] -= 1.0
        if k in model.cell.extra_params(16) and k != "b_hn":   # set by the cell's adjust_init, not drawn
            continue
        assert np.abs(v).max() <= 1 / np.sqrt(16)
    big = Network.create(cell, 3, 400, 3, seed=0).params["W"]     # uniform: fills the range evenly
    assert big.min() < -0.049 and big.max() > 0.049 and abs(big.mean()) < 1e-3


@pytest.mark.parametrize("cell", CELLS)
def test_seed_makes_weights_reproducible_and_dtypes_share_them(cell):
    a, b = Network.create(cell, 4, 5, 3, seed=11), Network.create(cell, 4, 5, 3, seed=11)
    c = Network.create(cell, 4, 5, 3, seed=11, dtype=np.float32)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
        np.testing.assert_array_equal(c.params[k], a.params[k].astype(np.float32))
    assert not np.array_equal(Network.create(cell, 4, 5, 3, seed=12).params["W"], a.params["W"])


@pytest.mark.parametrize("cell", CELLS)
def test_forward_keeps_every_step(cell):
    case = random_case(cell, T=9, B=4, H=6)
    model, x = case.model, case.x
    trace = model.forward(x, **case.state0)
    assert trace.h.shape == (9, 4, 6)
    assert trace.o.shape == trace.yhat.shape == (9, 4, 5)
    np.testing.assert_array_equal(trace.h0, case.state0["h0"])
    np.testing.assert_allclose(trace.yhat.sum(-1), 1)
    if cell == "rnn":
        assert trace.a.shape == (9, 4, 6)
        # each h(t) is tanh(b + W h(t-1) + U x(t)): recompute one step directly
        p = model.params
        t = 4
        a4 = p["b"] + trace.h[t - 1] @ p["W"].T + p["U"][:, x[t]].T
        np.testing.assert_allclose(trace.a[t], a4, rtol=1e-14)


@pytest.mark.parametrize("cell", CELLS)
def test_per_step_sums_to_gradient_and_is_none_unless_asked(cell):
    for kind in ("tokens", "vectors"):
        case = random_case(cell, kind, T=12, B=3)
        model, x, y = case.model, case.x, case.y
        r = model.gradients(x, y, per_step=True, **case.state0)
        for k in model.params:
            assert r.per_step[k].shape == (12, *model.params[k].shape)
            np.testing.assert_allclose(r.per_step[k].sum(0), r.grads[k], rtol=1e-12, atol=1e-15)
        assert model.gradients(x, y, **case.state0).per_step is None


@pytest.mark.parametrize("cell", CELLS)
def test_loss_matches_backward_and_batch_average(cell):
    case = random_case(cell, B=4)
    model, x, y, state0 = case.model, case.x, case.y, case.state0
    r = model.gradients(x, y, **state0)
    assert model.loss(x, y, **state0) == pytest.approx(r.loss, rel=1e-15)
    assert r.loss == pytest.approx(r.losses.sum() / 4, rel=1e-15)
    # the same sequence repeated in the batch gives the same L as alone (mean over B)
    one = model.loss(x[:, :1], y[:, :1], **{k: v[:1] for k, v in state0.items()})
    assert model.loss(np.repeat(x[:, :1], 3, 1), np.repeat(y[:, :1], 3, 1),
                      **{k: np.repeat(v[:1], 3, 0) for k, v in state0.items()}) == pytest.approx(one, rel=1e-14)


def test_softmax_is_stable_for_huge_outputs():
    model = SimpleRNN(3, 2, 3, output="softmax", nonlinearity="linear")
    model.params["V"][:] = 1e4
    r = model.gradients(np.ones((2, 1, 3)) * 50, np.zeros((2, 1), dtype=int))
    assert np.isfinite(r.loss) and all(np.all(np.isfinite(g)) for g in r.grads.values())


# ---- bad input: ValueError naming the argument, what was expected and what was given --------

@pytest.mark.parametrize("kwargs,match", [
    ({"n_hidden": 0}, r"n_hidden: expected a positive integer, got 0 \(int\)"),
    ({"n_hidden": -3}, r"n_hidden: expected a positive integer, got -3"),
    ({"n_hidden": 2.5}, r"n_hidden: expected a positive integer, got 2.5 \(float\)"),
    ({"n_in": True}, r"n_in: expected a positive integer, got True"),
    ({"n_out": "4"}, r"n_out: expected a positive integer, got '4' \(str\)"),
    ({"nonlinearity": "sigmoid"}, r"nonlinearity: expected one of 'tanh', 'relu', 'linear', got 'sigmoid'"),
    ({"output": "softplus"}, r"output: expected one of 'softmax', 'identity', got 'softplus'"),
    ({"dtype": np.int32}, r"dtype: expected float32 or float64, got"),
    ({"dtype": "float16"}, r"dtype: expected float32 or float64, got 'float16'"),
])
def test_bad_construction(kwargs, match):
    args = {"n_in": 3, "n_hidden": 4, "n_out": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        SimpleRNN(args.pop("n_in"), args.pop("n_hidden"), args.pop("n_out"), **args)


MODEL = SimpleRNN(4, 3, 5, seed=0)
X = np.zeros((6, 2), dtype=int)


@pytest.mark.parametrize("x,h0,match", [
    (np.zeros(6, dtype=int), None, r"x: expected token ids .* got a int64 array of shape \(6,\)"),
    (np.zeros((6, 2)), None, r"x: expected token ids as an int array \(T, B\) or real vectors as a float "
                             r"array \(T, B, 4\), got a float64 array of shape \(6, 2\)"),
    (np.zeros((6, 2, 3)), None, r"x: expected .* got a float64 array of shape \(6, 2, 3\)"),
    (np.full((6, 2), 4), None, r"x: expected token ids in \[0, 3\], got 4"),
    (np.full((6, 2), -1), None, r"x: expected token ids in \[0, 3\], got -1"),
    (np.zeros((0, 2), dtype=int), None, r"x: expected .* with T, B >= 1, got .*\(0, 2\)"),
    (np.array([[[0, np.nan, 0, 0]]]), None, r"x: expected finite values, got nan at index \(0, 0, 1\)"),
    (np.array(["a", "b"]), None, r"x: expected token ids"),
    (X, np.zeros((2, 4)), r"h0: expected a float array of shape \(B, H\) = \(2, 3\), got a float64 array of shape \(2, 4\)"),
    (X, np.zeros((3,)), r"h0: expected a float array of shape \(B, H\) = \(2, 3\)"),
    (X, np.full((2, 3), np.inf), r"h0: expected finite values, got inf"),
])
def test_bad_forward_input(x, h0, match):
    with pytest.raises(ValueError, match=match):
        MODEL.forward(x, h0)


@pytest.mark.parametrize("y,mask,match", [
    (np.zeros((6, 2)), None, r"y: expected class ids as an int array of shape \(T, B\) = \(6, 2\) for the "
                             r"softmax output, got a float64 array of shape \(6, 2\)"),
    (np.zeros((5, 2), dtype=int), None, r"y: expected class ids .* got a int64 array of shape \(5, 2\)"),
    (np.full((6, 2), 5), None, r"y: expected class ids in \[0, 4\], got 5"),
    (np.zeros((6, 2), dtype=int), np.ones((6, 3)), r"mask: expected an array of shape \(T, B\) = \(6, 2\)"),
    (np.zeros((6, 2), dtype=int), np.full((6, 2), np.nan), r"mask: expected finite values"),
])
def test_bad_targets(y, mask, match):
    trace = MODEL.forward(X)
    with pytest.raises(ValueError, match=match):
        MODEL.backward(trace, y, mask=mask)


def test_identity_output_wants_float_targets_of_shape_TBO():
    model = SimpleRNN(4, 3, 5, output="identity")
    trace = model.forward(X)
    with pytest.raises(ValueError, match=r"y: expected a float array of shape \(T, B, O\) = \(6, 2, 5\) "
                                         r"for the identity output, got a int64 array of shape \(6, 2\)"):
        model.backward(trace, np.zeros((6, 2), dtype=int))


def test_set_params_validates():
    model = SimpleRNN(2, 3, 2)
    good = {k: v.copy() for k, v in model.params.items()}
    with pytest.raises(ValueError, match=r"params\['W'\]: expected a float array of shape \(3, 3\), got .*\(3, 2\)"):
        model.set_params({**good, "W": np.zeros((3, 2))})
    with pytest.raises(ValueError, match=r"params: expected the keys U, W, b, V, c, got U, V, W, b"):
        model.set_params({k: good[k] for k in "UWbV"})
    with pytest.raises(ValueError, match=r"params\['b'\]: expected finite values, got nan"):
        model.set_params({**good, "b": np.array([0.0, np.nan, 0.0])})
