"""Each optimiser and clip against torch.optim / clip_grad_norm_ on the same gradients."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bptt.train.optim import OPTIMIZERS, clip_global_norm, clip_value, learning_rate  # noqa: E402

TORCH = {
    "sgd": lambda ps, lr: torch.optim.SGD(ps, lr=lr, momentum=0.9),
    "adagrad": lambda ps, lr: torch.optim.Adagrad(ps, lr=lr),
    "rmsprop": lambda ps, lr: torch.optim.RMSprop(ps, lr=lr),
    "adam": lambda ps, lr: torch.optim.Adam(ps, lr=lr),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_matches_torch(name):
    rng = np.random.default_rng(0)
    params = {"W": rng.normal(size=(4, 4)), "b": rng.normal(size=4)}
    tparams = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    opt = OPTIMIZERS[name](params, 0.01, **({"momentum": 0.9} if name == "sgd" else {}))
    topt = TORCH[name](list(tparams.values()), 0.01)
    for _ in range(30):
        grads = {k: rng.normal(size=v.shape) for k, v in params.items()}
        opt.step(params, grads)
        for k, t in tparams.items():
            t.grad = torch.tensor(grads[k])
        topt.step()
    for k in params:
        np.testing.assert_allclose(params[k], tparams[k].detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_state_round_trips(name):
    rng = np.random.default_rng(1)
    a = {"W": rng.normal(size=(3, 3))}
    b = {"W": a["W"].copy()}
    oa = OPTIMIZERS[name](a, 0.1)
    for _ in range(3):
        oa.step(a, {"W": rng.normal(size=(3, 3))})
    ob = OPTIMIZERS[name](b, 0.1)
    ob.restore({k: np.copy(v) for k, v in oa.state().items()})
    b["W"][...] = a["W"]
    g = {"W": rng.normal(size=(3, 3))}
    oa.step(a, {"W": g["W"].copy()})
    ob.step(b, {"W": g["W"].copy()})
    np.testing.assert_array_equal(a["W"], b["W"])


def test_clip_global_norm_matches_torch():
    rng = np.random.default_rng(2)
    grads = {"W": rng.normal(size=(5, 5)) * 3, "b": rng.normal(size=5)}
    ts = [torch.tensor(g.copy(), requires_grad=True) for g in grads.values()]
    for t, g in zip(ts, grads.values()):
        t.grad = torch.tensor(g.copy())
    tnorm = torch.nn.utils.clip_grad_norm_(ts, 1.0)
    norm, clipped = clip_global_norm(grads, 1.0)
    assert clipped and norm == pytest.approx(tnorm.item(), rel=1e-12)
    for g, t in zip(grads.values(), ts):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12)
    assert clip_global_norm({"W": np.ones(2) * 0.1}, 1.0)[1] is False


def test_clip_value_and_decay():
    g = {"W": np.array([-10.0, 0.5, 7.0])}
    assert clip_value(g, 5.0)
    np.testing.assert_array_equal(g["W"], [-5.0, 0.5, 5.0])
    assert learning_rate(1.0, 2500, 0.5, 1000) == 0.25
