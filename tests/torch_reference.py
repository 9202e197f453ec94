"""The same unfolded RNN written with torch autograd, step by step, for the oracle tests.

Built from torch.nn.RNN's own weights (via SimpleRNN.to_torch), and run two ways: the fused
nn.RNN module, and an explicit loop whose h(t) and a(t) are retained so that autograd's
dL/dh(t) and dL/da(t) can be compared with the errors bptt returns.
"""

import numpy as np
import torch


def torch_inputs(x, n_in):
    x = torch.from_numpy(np.asarray(x))
    if x.dtype in (torch.int64, torch.int32):
        return torch.nn.functional.one_hot(x.long(), n_in).double()
    return x


def loss_fn(o, y, output, mask):
    """The bptt convention: sum over t, mean over the batch."""
    B = o.shape[1]
    if output == "softmax":
        l = torch.nn.functional.cross_entropy(o.reshape(-1, o.shape[-1]), y.reshape(-1).long(),
                                              reduction="none").reshape(y.shape)
    else:
        l = 0.5 * ((o - y) ** 2).sum(-1)
    if mask is not None:
        l = l * mask
    return l.sum() / B


def run_fused(model, x, y, h0, mask):
    """nn.RNN + nn.Linear: h, yhat, loss, grads (bptt names) and dL/dh0."""
    rnn, readout = model.to_torch()
    xt = torch_inputs(x, model.n_in).to(rnn.weight_ih_l0.dtype)
    h0t = torch.tensor(h0, requires_grad=True)
    h, _ = rnn(xt, h0t[None])
    o = readout(h)
    yhat = torch.softmax(o, -1) if model.output == "softmax" else o
    yt = torch.from_numpy(np.asarray(y))
    mt = None if mask is None else torch.from_numpy(np.asarray(mask, dtype=np.float64)).to(o.dtype)
    loss = loss_fn(o, yt, model.output, mt)
    loss.backward()
    grads = {
        "U": rnn.weight_ih_l0.grad, "W": rnn.weight_hh_l0.grad,
        "b": rnn.bias_ih_l0.grad, "V": readout.weight.grad, "c": readout.bias.grad,
    }
    # bias_hh enters a(t) exactly as bias_ih does, so both receive dL/db.
    assert torch.allclose(rnn.bias_ih_l0.grad, rnn.bias_hh_l0.grad)
    as_np = lambda t: t.detach().numpy()
    return {"h": as_np(h), "yhat": as_np(yhat), "loss": loss.item(),
            "grads": {k: as_np(v) for k, v in grads.items()}, "dh0": as_np(h0t.grad)}


def run_loop(model, x, y, h0, mask):
    """An explicit loop over t with retained a(t), h(t), o: autograd's errors per step."""
    p = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    f = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda a: a}[model.nonlinearity]
    xt = torch_inputs(x, model.n_in)
    h = torch.tensor(h0, requires_grad=True)
    h_start = h
    hs, as_ = [], []
    for t in range(xt.shape[0]):
        a = p["b"] + h @ p["W"].T + xt[t] @ p["U"].T
        a.retain_grad()
        h = f(a)
        h.retain_grad()
        as_.append(a)
        hs.append(h)
    H = torch.stack(hs)
    o = H @ p["V"].T + p["c"]
    o.retain_grad()
    mt = None if mask is None else torch.from_numpy(np.asarray(mask, dtype=np.float64))
    loss = loss_fn(o, torch.from_numpy(np.asarray(y)), model.output, mt)
    loss.backward()
    as_np = lambda t: t.detach().numpy()
    return {"errors": {"o": as_np(o.grad), "h": np.stack([as_np(h.grad) for h in hs]),
                       "a": np.stack([as_np(a.grad) for a in as_])},
            "grads": {k: as_np(v.grad) for k, v in p.items()}, "dh0": as_np(h_start.grad),
            "loss": loss.item()}
