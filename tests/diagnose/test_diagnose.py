"""Lag diagnostics: exact on a linear model, equal to PyTorch autograd, masks, bounds, bad input."""

import json

import numpy as np
import pytest

import bptt
from bptt import SimpleRNN, lag_profile, radius_sweep
from bptt.diagnose import (LAGS, load_metrics, ratio_key, spectral_radius, training_metrics)
from bptt.proof.random_cases import random_problem


def linear_model(lam, H=3, I=4, O=4, output="identity", seed=0):
    model = SimpleRNN(I, H, O, nonlinearity="linear", output=output, seed=seed)
    model.params["W"] = lam * np.eye(H)
    return model


@pytest.mark.parametrize("lam", [0.3, 0.9, 1.0, 1.1, 1.7])
@pytest.mark.parametrize("kind", ["tokens", "vectors"])
def test_linear_scaled_identity_gives_lambda_to_the_lag(lam, kind):
    # dl(t)/dh(k) = (W^T)^(t-k) dl(t)/dh(t) = lam^(t-k) dl(t)/dh(t), whatever the data.
    _, x, y, h0, _ = random_problem(kind, "identity", "linear", I=4, H=3, O=4, T=15, B=3, seed=1)
    model = linear_model(lam)
    profile = lag_profile(model, x, y, h0)
    lags = np.arange(15)
    np.testing.assert_allclose(profile.ratio, lam ** lags, rtol=1e-10, atol=0)
    # the same in every row of norms: norms[t, t - lag] = lam^lag norms[t, t]
    for t in range(15):
        np.testing.assert_allclose(profile.norms[t, : t + 1][::-1], lam ** lags[: t + 1] * profile.norms[t, t],
                                   rtol=1e-10, atol=0)
    assert np.isnan(profile.norms[np.triu_indices(15, k=1)]).all()
    assert profile.radius == pytest.approx(lam, rel=1e-12) and profile.sigma_max == pytest.approx(lam, rel=1e-12)


def test_linear_ratio_also_exact_under_a_mask_and_softmax():
    rng = np.random.default_rng(3)
    _, x, y, h0, _ = random_problem("tokens", "softmax", "linear", I=5, H=4, O=5, T=10, B=4, seed=3)
    mask = (rng.random((10, 4)) < 0.5).astype(float)
    mask[-1] = 1
    model = linear_model(0.8, H=4, I=5, O=5, output="softmax")
    np.testing.assert_allclose(lag_profile(model, x, y, h0, mask).ratio, 0.8 ** np.arange(10), rtol=1e-10)


# ------------------------------------------------------------------------------ the oracle
def torch_element_norms(model, x, y, h0, mask):
    """mean over b with a loss of ||d l_b(t) / d h_b(k)||, from autograd on retained h(k)."""
    torch = pytest.importorskip("torch")
    from torch_reference import torch_inputs

    p = {k: torch.tensor(v) for k, v in model.params.items()}
    f = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda a: a}[model.nonlinearity]
    xt = torch_inputs(x, model.n_in)
    h = torch.tensor(h0, requires_grad=True)                   # so every h(k) is in the graph
    hs = []
    for t in range(xt.shape[0]):
        h = f(p["b"] + h @ p["W"].T + xt[t] @ p["U"].T)
        h.retain_grad()
        hs.append(h)
    o = torch.stack(hs) @ p["V"].T + p["c"]                      # (T, B, O)
    if model.output == "softmax":
        l = -torch.log_softmax(o, -1).gather(-1, torch.from_numpy(y)[..., None])[..., 0]
    else:
        l = 0.5 * ((o - torch.from_numpy(y)) ** 2).sum(-1)       # (T, B)
    T, B = l.shape
    m = np.ones((T, B)) if mask is None else mask
    l = l * torch.from_numpy(m)
    norms = np.full((T, T), np.nan)
    for t in range(T):
        rows = [b for b in range(B) if m[t, b] != 0]
        if not rows:
            continue
        per_k = np.zeros((t + 1, len(rows)))
        for j, b in enumerate(rows):
            grads = torch.autograd.grad(l[t, b], hs[: t + 1], retain_graph=True)
            per_k[:, j] = [g[b].norm().item() for g in grads]
        norms[t, : t + 1] = per_k.mean(axis=1)
    return norms


@pytest.mark.parametrize("kind,output,f,with_mask", [
    ("tokens", "softmax", "tanh", False),
    ("vectors", "identity", "relu", True),
    ("tokens", "softmax", "linear", True),
])
def test_norms_agree_with_torch_autograd(kind, output, f, with_mask):
    model, x, y, h0, _ = random_problem(kind, output, f, I=4, H=5, O=3, T=7, B=3, seed=11)
    model.params["W"] *= 3.0                                    # chains neither vanish nor explode fast
    mask = None
    if with_mask:
        mask = np.ones((7, 3))
        mask[2] = 0                                              # a step with no loss at all
        mask[4, 1] = 0
        mask[5, 0] = 0.5                                         # weights scale the element's l(t)
    profile = lag_profile(model, x, y, h0, mask)
    expected = torch_element_norms(model, x, y, h0, mask)
    assert np.array_equal(np.isnan(profile.norms), np.isnan(expected))
    ok = ~np.isnan(expected)
    np.testing.assert_allclose(profile.norms[ok], expected[ok], rtol=1e-10, atol=0)


# ---------------------------------------------------------------------------------- masks
def test_elements_without_a_loss_are_left_out():
    model, x, y, h0, _ = random_problem("tokens", "softmax", "tanh", I=5, H=4, O=5, T=8, B=2, seed=2)
    mask = np.ones((8, 2))
    mask[:, 0] = 0
    mask[5, 0] = 1                                               # element 0: a loss at step 5 only
    mask[3] = 0                                                  # step 3: no loss anywhere
    both = lag_profile(model, x, y, h0, mask)
    alone = lag_profile(model, x[:, 1:], y[:, 1:], h0[1:])       # element 1 on its own
    rows = [t for t in range(8) if t not in (3, 5)]
    np.testing.assert_allclose(both.norms[rows], alone.norms[rows], rtol=1e-12)
    assert np.isnan(both.norms[3]).all()
    # row 5 is the mean of both elements; the batch size does not scale the numbers
    pair = lag_profile(model, x, y, h0)
    np.testing.assert_allclose(both.norms[5], pair.norms[5], rtol=1e-12)


def test_many_to_one_mask_and_mask_weights():
    model, x, y, h0, _ = random_problem("tokens", "softmax", "tanh", mask=True, I=5, H=4, O=5, T=6, B=3, seed=4)
    last = np.zeros((6, 3))
    last[-1] = 1
    one = lag_profile(model, x, y, h0, last)
    assert np.isnan(one.norms[:-1]).all() and np.isfinite(one.norms[-1]).all()
    assert np.isfinite(one.ratio).all()                         # the last step reaches every lag
    half = lag_profile(model, x, y, h0, 0.5 * last)
    np.testing.assert_allclose(half.norms[-1], 0.5 * one.norms[-1], rtol=1e-12)
    np.testing.assert_allclose(half.ratio, one.ratio, rtol=1e-12)
    first = np.zeros((6, 3))
    first[0] = 1                                                 # no loss reaches back any lag > 0
    p = lag_profile(model, x, y, h0, first)
    assert p.ratio[0] == 1.0 and np.isnan(p.ratio[1:]).all()


# --------------------------------------------------------------------- bound, sweep, misc
@pytest.mark.parametrize("sigma,holds", [(0.9, True), (1.1, False)])
def test_pascanu_bound(sigma, holds):
    model, x, y, h0, _ = random_problem("tokens", "softmax", "tanh", I=5, H=6, O=5, T=12, B=3, seed=5)
    W = model.params["W"]
    model.params["W"] = W * (sigma / np.linalg.norm(W, 2))
    profile = lag_profile(model, x, y, h0)
    assert profile.sigma_max == pytest.approx(sigma, rel=1e-12)
    assert profile.vanishing_bound is holds and profile.gamma == 1.0
    if holds:  # and what the bound promises: every element's chain shrinks by sigma per step
        assert np.all(profile.ratio <= sigma ** np.arange(12) * (1 + 1e-12))


def test_a_stacks_profile_and_bound_are_its_top_layers():
    # The errors followed reach the top layer's h(k), and h(k) feeds only the top layer's later steps:
    # dl(t)/dh(k) = (W_l1^T)^(t-k) dl(t)/dh(t), whatever layer 0's W. So the ratio is lam^lag for a
    # linear top layer W_l1 = lam I beside a layer 0 that would explode, and radius, sigma_max and
    # Pascanu's bound, which the CLI reports as W_l1's, are what bounds the measured chain.
    rng = np.random.default_rng(2)
    model = SimpleRNN(4, 3, 4, layers=2, nonlinearity="linear", output="identity", seed=0)
    model.params["W"] = 3.0 * np.eye(3)
    model.params["W_l1"] = 0.7 * np.eye(3)
    x, y = rng.standard_normal((10, 2, 4)), rng.standard_normal((10, 2, 4))
    profile = lag_profile(model, x, y)
    np.testing.assert_allclose(profile.ratio, 0.7 ** np.arange(10), rtol=1e-10, atol=0)
    assert profile.radius == pytest.approx(0.7) and profile.sigma_max == pytest.approx(0.7)
    assert profile.vanishing_bound is True
    with pytest.raises(ValueError, match="radius sweep is not applicable"):
        radius_sweep(model, x, y)                              # it rescales a one-layer model's W


def test_radius_sweep_rescales_only_W_and_leaves_the_model_alone():
    model, x, y, h0, _ = random_problem("tokens", "softmax", "tanh", I=5, H=6, O=5, T=10, B=2, seed=6)
    before = {k: v.copy() for k, v in model.params.items()}
    sweep = radius_sweep(model, x, y, radii=(0.5, 1.0, 2.0), h0=h0)
    assert list(sweep) == [0.5, 1.0, 2.0]
    for r, p in sweep.items():
        assert p.radius == pytest.approx(r, rel=1e-10)
        assert p.norms.shape == (10, 10) and p.ratio.shape == (10,) and p.contribution.shape == (10,)
    for k in before:
        np.testing.assert_array_equal(model.params[k], before[k])
    # rescaling W by 2 / radius and profiling directly gives the same numbers
    direct = model.copy()
    direct.params["W"] = direct.params["W"] * (2.0 / spectral_radius(model.params["W"]))
    np.testing.assert_allclose(lag_profile(direct, x, y, h0).ratio, sweep[2.0].ratio, rtol=1e-10)
    # linear, W = 0.5 I swept to 2: the ratio becomes 2^lag
    lin = linear_model(0.5)
    _, xv, yv, _, _ = random_problem("vectors", "identity", "linear", I=4, H=3, O=4, T=9, B=2, seed=7)
    np.testing.assert_allclose(radius_sweep(lin, xv, yv, radii=[2.0])[2.0].ratio, 2.0 ** np.arange(9), rtol=1e-10)


def test_contribution_is_the_norm_of_each_steps_dW_and_json_has_no_nan():
    model, x, y, h0, _ = random_problem("tokens", "softmax", "tanh", I=5, H=4, O=5, T=6, B=3, seed=8)
    profile = lag_profile(model, x, y, h0)
    per_step = model.gradients(x, y, h0, per_step=True).per_step["W"]
    np.testing.assert_allclose(profile.contribution, np.linalg.norm(per_step, axis=(1, 2)), rtol=1e-12)
    assert profile.ratio[0] == 1.0
    d = json.loads(json.dumps(profile.to_dict(), allow_nan=False))
    assert d["norms"][0][1] is None and d["norms"][1][0] == pytest.approx(profile.norms[1, 0])
    assert isinstance(d["vanishing_bound"], bool) and len(d["ratio"]) == 6


def test_float32_model_is_measured_in_float64():
    model, x, y, h0, _ = random_problem("tokens", "softmax", "tanh", I=5, H=4, O=5, T=6, B=2, seed=9)
    p64 = lag_profile(model, x, y, h0)
    p32 = lag_profile(model.copy(dtype=np.float32), x, y, h0.astype(np.float32))
    assert p32.norms.dtype == np.float64
    np.testing.assert_allclose(p32.ratio, p64.ratio, rtol=1e-5)


@pytest.mark.parametrize("call,match", [
    (lambda m, x, y: lag_profile(m, x[:1], y[:1]), r"x: expected at least 2 time steps .* got T=1"),
    (lambda m, x, y: lag_profile(m, x, y, mask=np.ones((3, 3))), r"mask: expected an array of shape \(T, B\) = \(6, 2\)"),
    (lambda m, x, y: lag_profile(m, x, y[:, :1]), r"y: expected class ids"),
    (lambda m, x, y: radius_sweep(m, x, y, radii=(1.0, -2.0)), r"radii: .*positive finite numbers, got -2.0"),
    (lambda m, x, y: radius_sweep(m, x, y, radii=()), r"radii: expected a non-empty"),
    (lambda m, x, y: radius_sweep(m, x, y, radii="big"), r"radii: expected a sequence"),
    (lambda m, x, y: training_metrics(m, x, y, None, {"W": 1}), r"grads: expected a dict of arrays for U, W, b, V, c"),
    (lambda m, x, y: training_metrics(m, x, y, None, m.params, clipped=2), r"clipped: expected a bool or a fraction in \[0, 1\], got 2"),
    (lambda m, x, y: training_metrics(m, x, y, None, m.params, lags=(0, 5)), r"lags: expected a non-empty sequence of positive integers"),
])
def test_bad_input_is_one_line_naming_the_argument(call, match):
    model, x, y, _, _ = random_problem("tokens", "softmax", "tanh", I=5, H=4, O=5, T=6, B=2, seed=10)
    with pytest.raises(ValueError, match=match) as info:
        call(model, x, y)
    assert "\n" not in str(info.value)


def test_zero_W_cannot_be_rescaled():
    model, x, y, _, _ = random_problem("tokens", "softmax", "tanh", I=5, H=4, O=5, T=6, B=2, seed=10)
    model.params["W"][:] = 0
    with pytest.raises(ValueError, match=r"model.params\['W'\]: expected a nonzero spectral radius"):
        radius_sweep(model, x, y)


# ------------------------------------------------------------------------- training metrics
def test_training_metrics_record():
    model, x, y, h0, _ = random_problem("tokens", "softmax", "tanh", I=5, H=6, O=5, T=30, B=6, seed=12)
    grads = model.gradients(x, y, h0).grads
    before = {k: v.copy() for k, v in model.params.items()}
    for k in model.params:
        model.params[k] = model.params[k] - 0.1 * grads[k]
    record = training_metrics(model, x, y, h0, grads, before, clipped=True, max_batch=4)
    assert json.loads(json.dumps(record, allow_nan=False)) == record
    expected_keys = {"grad_norm", "param_norm", "grad_param_ratio", "update_param_ratio", "radius_W",
                     "sigma_max_W", "vanishing_bound", "clipped_fraction", *(ratio_key(lag) for lag in LAGS)}
    assert set(record) == expected_keys
    flat = lambda d: np.concatenate([np.ravel(v) for v in d.values()])
    assert record["grad_norm"] == pytest.approx(np.linalg.norm(flat(grads)), rel=1e-12)
    assert record["param_norm"] == pytest.approx(np.linalg.norm(flat(before)), rel=1e-12)
    assert record["update_param_ratio"] == pytest.approx(0.1 * record["grad_param_ratio"], rel=1e-10)
    assert record["radius_W"] == pytest.approx(spectral_radius(model.params["W"]))
    assert record["clipped_fraction"] == 1.0
    full = lag_profile(model, x[:, :4], y[:, :4], h0[:4])        # the first max_batch elements
    for lag in (1, 5, 10, 25):
        assert record[ratio_key(lag)] == pytest.approx(full.ratio[lag], rel=1e-10)
    assert record["ratio_lag_50"] is None                        # T = 30: no such lag
    short = training_metrics(model, x, y, h0, grads, lags=(1, 5))  # chains cut after 5 steps back
    assert short["ratio_lag_5"] == pytest.approx(full.ratio[5], rel=1e-10)
    plain = training_metrics(model, x, y, None, grads, clipped=0.25, lags=[2])
    assert plain["update_param_ratio"] is None and plain["clipped_fraction"] == 0.25 and "ratio_lag_2" in plain


def test_load_metrics_keeps_diagnostics_records(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1, "loss": 3.0}\n\n{"step": 2, "grad_norm": 1.5, "ratio_lag_1": 0.5, "radius_W": 0.9}\n')
    assert load_metrics(path) == [{"step": 2, "grad_norm": 1.5, "ratio_lag_1": 0.5, "radius_W": 0.9}]
    path.write_text('{"step": 1, "grad_norm": 1}\nnot json\n')
    with pytest.raises(ValueError, match=r"metrics.jsonl' line 2: expected a JSON object"):
        load_metrics(path)
    path.write_text('{"grad_norm": 1}\n')
    with pytest.raises(ValueError, match=r"line 1: expected a JSON object with a numeric 'step'"):
        load_metrics(path)


def test_exported():
    assert bptt.lag_profile is lag_profile and bptt.radius_sweep is radius_sweep


def test_the_bound_and_the_lag_ratios_are_public_for_the_training_metrics():
    """metrics.py builds its records from analysis.py's public functions: the same numbers as lag_profile."""
    from bptt._json import number, numbers
    from bptt.diagnose.analysis import element_norms, lag_ratio, loss_steps, spectral_bound
    assert spectral_bound(None, None) == {"radius": None, "sigma_max": None, "gamma": None, "vanishing_bound": None}
    bound = spectral_bound(0.5 * np.eye(3), 1.0)
    assert bound["radius"] == pytest.approx(0.5) and bound["sigma_max"] == pytest.approx(0.5)
    assert bound["vanishing_bound"] is True and spectral_bound(2.0 * np.eye(3), 1.0)["vanishing_bound"] is False
    model, x, y, h0, mask = random_problem("tokens", "softmax", "tanh", True, T=7, B=3, seed=2)
    trace = model.forward(x, h0)
    result = model.backward(trace, y, mask=mask)
    has_loss = loss_steps(mask, 7, 3)
    assert has_loss.dtype == bool and has_loss.sum() == 3 and loss_steps(None, 7, 3).all()
    ratio = lag_ratio(element_norms(model, trace, result, max_lag=6), has_loss, range(7))
    np.testing.assert_allclose(ratio, lag_profile(model, x, y, h0, mask).ratio, rtol=1e-12, equal_nan=True)
    assert number(float("nan")) is None and number(np.float32(2.5)) == 2.5 and number(None) is None
    assert numbers([[1.0, np.inf], [np.nan, -2.0]]) == [[1.0, None], [None, -2.0]]
