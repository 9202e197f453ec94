"""What only the leaky cell has (the proofs every cell shares run it from tests/cells.py):
its time scales, alpha = 1 as the simple RNN, alpha fixed or learned, forward in time."""

import numpy as np
import pytest

import bptt
from bptt.nn.cells.leaky import spread
from bptt.nn.network import Network


def data(T=7, B=3, I=4, O=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(T, B, I)), rng.integers(0, O, size=(T, B)), rng.uniform(-0.5, 0.5, size=(B, 5))


def test_alphas_spread_geometrically_over_the_time_scales():
    alpha = spread(0.01, 0.9, 5, "float64")
    np.testing.assert_allclose(alpha, 0.9 * (0.01 / 0.9) ** (np.arange(5) / 4), rtol=1e-15)
    assert alpha[0] == 0.9 and alpha[-1] == pytest.approx(0.01, rel=1e-14)
    m = Network.create("leaky", 4, 5, 3, seed=0)
    np.testing.assert_allclose(1 / (1 + np.exp(-m.params["alpha_logit"])), alpha, rtol=1e-12)


def test_alpha_one_is_the_simple_rnn():
    leaky = Network.create("leaky", 4, 5, 3, seed=2, cell_options={"learn_alpha": False, "alpha_min": 1.0,
                                                                    "alpha_max": 1.0})
    rnn = bptt.SimpleRNN(4, 5, 3, seed=2)
    rnn.set_params(leaky.params)
    x, y, h0 = data()
    a, b = leaky.gradients(x, y, h0), rnn.gradients(x, y, h0)
    assert a.loss == pytest.approx(b.loss, rel=1e-14)
    for k in rnn.params:                                  # the leak's (1 - alpha) terms add zeros: rounding only
        np.testing.assert_allclose(a.grads[k], b.grads[k], rtol=1e-13, atol=1e-16, err_msg=k)


def test_a_unit_with_small_alpha_keeps_its_state():
    """h(t) = (1 - alpha) h(t-1) + alpha g: the slowest unit (alpha 0.01) moves at most 0.02 a step."""
    m = Network.create("leaky", 4, 5, 3, seed=0, cell_options={"learn_alpha": False})
    x, _, h0 = data(T=20)
    h = m.forward(x, h0).hs                                   # (T+1, B, H)
    steps = np.abs(np.diff(h, axis=0))
    assert steps[..., -1].max() <= 0.02 + 1e-12
    assert steps[..., 0].max() > 0.1                          # the fastest (alpha 0.9) does move


@pytest.mark.parametrize("learn", [True, False])
def test_fixed_and_learned_alpha_pass_gradcheck_and_rtrl_equals_bptt(learn):
    m = Network.create("leaky", 4, 5, 3, seed=3, cell_options={"learn_alpha": learn})
    assert ("alpha_logit" in m.params) == learn
    x, y, h0 = data(seed=3)
    assert bptt.gradcheck(m, x, y, h0).passed
    ref = m.backward(m.forward(x, h0), y)
    got = bptt.rtrl(m, x, y, h0=h0)
    for k in m.params:
        np.testing.assert_allclose(got.grads[k], ref.grads[k], rtol=1e-10, atol=1e-13, err_msg=k)


def test_a_wrong_alpha_gradient_fails_gradcheck(monkeypatch):
    cls = bptt.nn.cells.CELLS["leaky"]
    real = cls.extra_grads

    def sign_flipped(self, *args, **kwargs):
        return {k: -v for k, v in real(self, *args, **kwargs).items()}

    monkeypatch.setattr(cls, "extra_grads", sign_flipped)
    m = Network.create("leaky", 4, 5, 3, seed=3)
    x, y, h0 = data(seed=3)
    report = bptt.gradcheck(m, x, y, h0)
    assert not report.passed and not report["alpha_logit"].passed and report["W"].passed


@pytest.mark.parametrize("options,message", [
    ({"alpha_max": 1.0}, r"^alpha_max: expected a finite number in \(0, 1\) \(below 1 with learn_alpha\), got 1"),
    ({"alpha_min": 0.95}, r"^alpha_min: expected a finite number in \(0, 0.9\] \(at most alpha_max\), got 0.95"),
    ({"learn_alpha": "yes"}, r"^learn_alpha: expected True or False, got 'yes'"),
])
def test_bad_options_are_one_line(options, message):
    with pytest.raises(ValueError, match=message):
        Network.create("leaky", 4, 5, 3, cell_options=options)
