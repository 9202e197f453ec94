"""A bidirectional network's lag profile, per direction (Goodfellow et al. 10.3).

The forward direction's loss at t reaches h_forward(t - lag); the reverse direction's chain runs
from later steps to earlier ones, so the loss at t reaches h_reverse(t + lag). Proven two ways,
for every cell of tests/cells.py: against each step's loss back-propagated alone through the
model's own ``backward_directions`` (one and two layers, a mask with holes and weights), and, for
one layer, against the unidirectional profile (itself proven against PyTorch autograd in
test_diagnose.py) of the reverse direction's weights run forward over the inputs reversed in
time. Both checks are shown to fail on a profile read the wrong way round in time.
"""

import numpy as np
import pytest

import bptt
from bptt import lag_profile
from bptt.diagnose import analysis, spectral_radius
from bptt.nn.stages import backward_directions, param_name
from cells import CELLS

I, H, O = 4, 5, 4


def problem(cell, layers=1, T=7, B=3, seed=0):
    rng = np.random.default_rng(seed)
    model = bptt.Network.create(cell, I, H, O, layers=layers, seed=seed, bidirectional=True)
    for k in model.params:                         # chains that neither vanish nor explode in 7 steps
        if k.startswith("W"):
            model.params[k] *= 2.0
    x = rng.integers(0, I, size=(T, B))
    y = rng.integers(0, O, size=(T, B))
    state0 = {f"{name}0": rng.uniform(-0.5, 0.5, size=(2 * layers, B, H)) for name in model.cell.states}
    mask = np.ones((T, B))
    mask[1] = 0                                    # a step with no loss at all, near the start:
    mask[5, 0] = 0                                 # reading the mask the wrong way round in time moves it
    mask[3, 2] = 0.5                               # weights scale the element's l(t)
    return model, x, y, state0, mask


def one_step_oracle(model, x, y, state0, mask, reverse):
    """(T, T, B) ||dl_b(t)/dh_b(k)|| of the top layer's direction, NaN where b has no loss at t:
    each l_b(t) back-propagated alone through ``backward_directions``; the reverse direction's
    errors (its own step i is time T-1-i) put back in time order here, by hand. Also asserts that
    nothing reaches the other side of t: h_forward(k > t) and h_reverse(k < t) do not feed o(t)."""
    trace = model.forward(x, **state0)
    result = model.backward(trace, y, mask=mask)
    T, B = x.shape
    do = result.errors["o"] * B                    # (T, B, O): dl_b(t)/do(t), the batch mean undone
    top = 2 * (model.layers - 1) + reverse
    norms = np.full((T, T, B), np.nan)
    for t in range(T):
        for b in range(B):
            if mask[t, b] == 0:
                continue
            one = np.zeros_like(do)
            one[t, b] = do[t, b]
            _, errors, _ = backward_directions(model, trace.x, trace.layers, trace.outputs, one @ model.params["V"])
            dh = errors[top]["h"][:, b]            # (T, H) in the direction's own step order
            if reverse:
                dh = dh[::-1]
            n = np.linalg.norm(dh, axis=-1)
            other_side = np.arange(T) < t if reverse else np.arange(T) > t
            assert not n[other_side].any()
            norms[t, :, b] = n
    return norms


def check_against_the_oracle(profile, per_element, mask, reverse):
    T = mask.shape[0]
    t, k = np.meshgrid(np.arange(T), np.arange(T), indexing="ij")
    reached = (k >= t) if reverse else (k <= t)
    has = mask != 0
    with np.errstate(invalid="ignore"):
        expected = np.where(reached & has.any(axis=1)[:, None],
                            np.nansum(per_element, axis=2) / has.sum(axis=1)[:, None], np.nan)
    assert np.array_equal(np.isnan(profile.norms), np.isnan(expected)), "which (t, k) the direction reaches"
    ok = ~np.isnan(expected)
    np.testing.assert_allclose(profile.norms[ok], expected[ok], rtol=1e-10, atol=0)
    for lag in range(T):                             # the mean over (t, b) of each element's own ratio
        pairs = [(s, b) for s in range(T) for b in range(mask.shape[1])
                 if has[s, b] and 0 <= s + (lag if reverse else -lag) < T]
        k_of = (lambda s: s + lag) if reverse else (lambda s: s - lag)
        want = np.mean([per_element[s, k_of(s), b] / per_element[s, s, b] for s, b in pairs])
        np.testing.assert_allclose(profile.ratio[lag], want, rtol=1e-10, err_msg=f"ratio at lag {lag}")


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_each_direction_equals_one_steps_loss_through_backward_directions(cell, layers, direction):
    model, x, y, state0, mask = problem(cell, layers)
    reverse = direction == "reverse"
    profile = lag_profile(model, x, y, mask=mask, **state0, direction=direction)
    assert profile.direction == direction and profile.cell == cell
    check_against_the_oracle(profile, one_step_oracle(model, x, y, state0, mask, reverse), mask, reverse)
    # step k's copy of W (of W_reverse: the one that makes h_reverse(k) from h_reverse(k+1)), as the
    # per-step gradients give it, which hold the reverse direction's steps in its own order
    steps = model.backward(model.forward(x, **state0), y, mask=mask, per_step=True).per_step
    dW = steps[param_name("W", layers - 1, reverse)]                                  # (T, G*H, H)
    expected = np.linalg.norm(dW[::-1] if reverse else dW, axis=(1, 2))
    np.testing.assert_allclose(profile.contribution, expected, rtol=1e-10, atol=1e-300)
    if cell == "rnn":
        W = model.params[param_name("W", layers - 1, reverse)]
        assert profile.radius == pytest.approx(spectral_radius(W), rel=1e-12)


def reversed_in_time(model, x, y, state0, mask):
    """(bi, uni, x, y, h0, mask reversed in time): ``model`` with the forward half's columns of V
    set to zero, so that o(t) reads h_reverse(t) alone, and the unidirectional network of its
    reverse direction's weights and the reverse half of V, which reads the same o(t) running
    forward over the inputs reversed in time."""
    bi = model.copy()
    bi.params["V"][:, :H] = 0.0
    uni = bptt.Network.create(model.cell.name, I, H, O, seed=0)
    p = bi.params
    uni.params = {name: p["V"][:, H:].copy() if name == "V" else p["c"] if name == "c" else p[name + "_reverse"]
                  for name in uni.params}
    h0 = {k: v[1] for k, v in state0.items()}                      # layer 0 reverse: PyTorch's order
    return bi, uni, x[::-1], y[::-1], h0, mask[::-1]


def check_against_the_time_reversed_network(model, x, y, state0, mask):
    T = x.shape[0]
    bi, uni, ux, uy, uh0, umask = reversed_in_time(model, x, y, state0, mask)
    back = lag_profile(bi, x, y, mask=mask, **state0, direction="reverse")
    fwd = lag_profile(uni, ux, uy, mask=umask, **uh0)
    flip = np.arange(T)[::-1]
    np.testing.assert_allclose(back.norms, fwd.norms[np.ix_(flip, flip)], rtol=1e-10, atol=0, equal_nan=True)
    np.testing.assert_allclose(back.ratio, fwd.ratio, rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(back.contribution, fwd.contribution[::-1], rtol=1e-10, atol=1e-300)
    assert back.loss == pytest.approx(fwd.loss, rel=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_the_reverse_direction_is_a_forward_chain_over_the_inputs_reversed_in_time(cell):
    model, x, y, state0, mask = problem(cell)
    check_against_the_time_reversed_network(model, x, y, state0, mask)


def test_a_profile_read_the_wrong_way_round_in_time_fails_both_checks(monkeypatch):
    """A walk whose norms are left in the reverse direction's own step order (not put back in
    time order) is caught by either check."""
    model, x, y, state0, mask = problem("gru")
    oracle = one_step_oracle(model, x, y, state0, mask, True)
    real = analysis.element_norms

    def own_order(model, trace, result, max_lag, reverse=False):
        norms = real(model, trace, result, max_lag, reverse)
        return norms[::-1, ::-1] if reverse else norms              # lag_profile's flip then undoes nothing

    monkeypatch.setattr(analysis, "element_norms", own_order)
    wrong = lag_profile(model, x, y, mask=mask, **state0, direction="reverse")
    with pytest.raises(AssertionError):
        check_against_the_oracle(wrong, oracle, mask, True)
    with pytest.raises(AssertionError):
        check_against_the_time_reversed_network(model, x, y, state0, mask)


def test_directions_and_bad_direction_are_one_line():
    model, x, y, state0, _ = problem("rnn")
    assert analysis.directions(model) == ("forward", "reverse")
    uni = bptt.SimpleRNN(I, H, O, seed=0)
    assert analysis.directions(uni) == ("forward",)
    with pytest.raises(ValueError, match=r"^direction: expected 'forward' for a unidirectional network, "
                                         r"got 'reverse'$"):
        lag_profile(uni, x, y, direction="reverse")
    with pytest.raises(ValueError, match=r"^direction: expected 'forward' or 'reverse' for a bidirectional "
                                         r"network, got 'backward'$"):
        lag_profile(model, x, y, direction="backward")
    with pytest.raises(ValueError, match="model: expected a unidirectional network for the radius sweep"):
        bptt.radius_sweep(model, x, y)
