"""The unfolded network written with torch autograd, for the oracle tests.

``run_module`` and ``run_module_stepwise``: torch.nn.RNN / LSTM / GRU (via ``bptt.to_torch``) +
nn.Linear on the model's weights, fused or one step and one layer at a time, for every cell.
``run_loop``: the simple RNN as an explicit loop whose a(t), h(t) and o(t) are retained, so that
autograd's dL/da(t) can be compared for every nonlinearity (linear included, which nn.RNN lacks).
"""

import numpy as np
import bptt
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


# ------------------------------------------------------------- cells torch.nn has no module for
class LeakyRNN(torch.nn.Module):
    """Leaky units (Goodfellow et al. 10.9.2) in torch, laid out as nn.RNN (time first), for the
    oracle: h(t) = (1 - alpha) h(t-1) + alpha tanh(x W_ih^T + b_ih + h(t-1) W_hh^T + b_hh), per layer,
    alpha (H,) = sigmoid(alpha_logit_l<k>) when learned, else the geometric spread of time scales
    alpha_i = alpha_max (alpha_min / alpha_max)^(i / (H - 1)), written here from the equations."""

    def __init__(self, input_size, hidden_size, num_layers=1, *, dtype=torch.float64, alpha_min=0.01,
                 alpha_max=0.9, learn_alpha=True):
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.learn_alpha = learn_alpha
        H = hidden_size
        for k in range(num_layers):
            n = input_size if k == 0 else H
            for name, shape in (("weight_ih", (H, n)), ("weight_hh", (H, H)), ("bias_ih", (H,)), ("bias_hh", (H,))):
                setattr(self, f"{name}_l{k}", torch.nn.Parameter(torch.zeros(shape, dtype=dtype)))
            if learn_alpha:
                setattr(self, f"alpha_logit_l{k}", torch.nn.Parameter(torch.zeros(H, dtype=dtype)))
        i = torch.arange(H, dtype=dtype) / max(H - 1, 1)
        self.fixed_alpha = alpha_max * (alpha_min / alpha_max) ** i

    def alpha(self, k):
        return torch.sigmoid(getattr(self, f"alpha_logit_l{k}")) if self.learn_alpha else self.fixed_alpha

    def forward(self, x, h0):
        """x (T, B, I), h0 (L, B, H) -> (top layer's h (T, B, H), last states (L, B, H))."""
        below, last = x, []
        for k in range(self.num_layers):
            p = {n: getattr(self, f"{n}_l{k}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
            alpha, h, hs = self.alpha(k), h0[k], []
            for t in range(below.shape[0]):
                g = torch.tanh(below[t] @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"])
                h = (1 - alpha) * h + alpha * g
                hs.append(h)
            below = torch.stack(hs)
            last.append(h)
        return below, torch.stack(last)


# The tests' torch module for each cell whose ``torch`` is None.
TORCH_MODULES = {"leaky": LeakyRNN}


def torch_modules(model):
    """(torch module, nn.Linear) on the model's weights: ``bptt.to_torch`` where torch.nn has the
    cell, else the tests' module (``TORCH_MODULES``), its biases mapped as the cell maps torch's
    and each extra parameter the cell does not keep in them copied to <name>_l<k>."""
    cell = model.cell
    if cell.torch is not None:
        return bptt.to_torch(model)
    tdtype = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[model.dtype]
    module = TORCH_MODULES[cell.name](model.n_in, model.n_hidden, model.layers, dtype=tdtype,
                                      **cell.torch_options())
    readout = torch.nn.Linear(model.n_hidden, model.n_out, dtype=tdtype)
    with torch.no_grad():
        for layer in range(model.layers):
            s, k = ("" if layer == 0 else f"_l{layer}"), f"_l{layer}"
            b_ih, b_hh = cell.to_torch_biases({n: model.params[n + s] for n in ("U", "W", "b", *cell.extra_params(1))})
            for name, v in (("weight_ih", model.params["U" + s]), ("weight_hh", model.params["W" + s]),
                            ("bias_ih", b_ih), ("bias_hh", b_hh)):
                getattr(module, name + k).copy_(torch.from_numpy(np.array(v)))
            for name in own_extras(model, module):
                getattr(module, name + k).copy_(torch.from_numpy(np.array(model.params[name + s])))
        readout.weight.copy_(torch.from_numpy(np.array(model.params["V"])))
        readout.bias.copy_(torch.from_numpy(np.array(model.params["c"])))
    return module, readout


def own_extras(model, module):
    """The cell's extra parameters the torch module holds as parameters of their own (<name>_l0)."""
    return [n for n in model.cell.extra_params(1) if hasattr(module, f"{n}_l0")]


# ---------------------------------------------------------------------------- any cell, any stack
def _states_to_torch(model, state0):
    """bptt's initial states ((B, H) or (L, B, H)) as the torch module takes them."""
    out = {}
    for name, v in state0.items():
        t = torch.tensor(v if model.layers > 1 else v[None], requires_grad=True)
        out[name] = t
    return out


def _call(module, model, xt, st):
    if model.cell.name == "lstm":
        return module(xt, (st["h0"], st["s0"]))
    return module(xt, st["h0"])


def torch_grads(model, module, readout):
    """The torch modules' gradients under bptt's parameter names."""
    grads = {}
    for layer in range(model.layers):
        for rev in ("", "_reverse")[:getattr(model, "directions", 1)]:
            s, k = ("" if layer == 0 else f"_l{layer}") + rev, f"_l{layer}" + rev
            grads["U" + s] = getattr(module, "weight_ih" + k).grad
            grads["W" + s] = getattr(module, "weight_hh" + k).grad
            g_ih, g_hh = getattr(module, "bias_ih" + k).grad, getattr(module, "bias_hh" + k).grad
            # where bias_hh enters the pre-activation exactly as bias_ih does, both receive dL/db
            # (every row but the GRU's n block, which r multiplies)
            merged = slice(0, 2 * model.n_hidden) if model.cell.name == "gru" else slice(None)
            assert torch.allclose(g_ih[merged], g_hh[merged])
            grads.update({n + s: v for n, v in model.cell.torch_bias_grads(g_ih, g_hh).items()})
            grads.update({n + s: getattr(module, n + k).grad for n in own_extras(model, module)})
    grads["V"], grads["c"] = readout.weight.grad, readout.bias.grad
    return {k: v.detach().numpy() for k, v in grads.items()}


def run_module(model, x, y, state0, mask):
    """torch.nn.RNN/LSTM/GRU (num_layers = model.layers) + nn.Linear on the model's weights:
    h (top layer), yhat, loss, every gradient and the initial states' gradients."""
    module, readout = torch_modules(model)
    xt = torch_inputs(x, model.n_in).to(module.weight_ih_l0.dtype)
    st = _states_to_torch(model, state0)
    h, _ = _call(module, model, xt, st)
    o = readout(h)
    yhat = torch.softmax(o, -1) if model.output == "softmax" else o
    mt = None if mask is None else torch.from_numpy(np.asarray(mask, dtype=np.float64)).to(o.dtype)
    loss = loss_fn(o, torch.from_numpy(np.asarray(y)), model.output, mt)
    loss.backward()
    d0 = {name: (t.grad.numpy() if model.layers > 1 else t.grad.numpy()[0]) for name, t in st.items()}
    return {"h": h.detach().numpy(), "yhat": yhat.detach().numpy(), "loss": loss.item(),
            "grads": torch_grads(model, module, readout), "d0": d0}


def run_module_stepwise(model, x, y, state0, mask):
    """The model's torch module split into one-layer modules and called one step and one layer
    at a time, every h(t) retained as a tensor of its own: autograd's dL/dh(t) of every layer at
    every step, (L, T, B, H). For the LSTM also the gradient of each step's returned cell
    state, which is what the next step sends back to s(t) (the fused op computes h(t) from s(t)
    inside itself, so that path does not pass through the returned tensor)."""
    module, readout = torch_modules(model)
    xt = torch_inputs(x, model.n_in).to(module.weight_ih_l0.dtype)
    st = _states_to_torch(model, state0)
    lstm = model.cell.name == "lstm"
    layers = []
    for layer in range(model.layers):
        one = type(module)(module.input_size if layer == 0 else module.hidden_size, module.hidden_size,
                           dtype=module.weight_ih_l0.dtype, **model.cell.torch_options())
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", *own_extras(model, module)):
                getattr(one, name + "_l0").copy_(getattr(module, f"{name}_l{layer}"))
        layers.append(one)
    state = [(st["h0"][l:l + 1], st["s0"][l:l + 1]) if lstm else st["h0"][l:l + 1] for l in range(model.layers)]
    kept, tops = [], []
    for t in range(xt.shape[0]):
        below = xt[t:t + 1]
        now = []
        for layer, one in enumerate(layers):
            _, state[layer] = one(below, state[layer])
            for v in (state[layer] if lstm else (state[layer],)):
                v.retain_grad()
            now.append(state[layer])
            below = state[layer][0] if lstm else state[layer]
        kept.append(now)
        tops.append(below[0])
    o = readout(torch.stack(tops))
    mt = None if mask is None else torch.from_numpy(np.asarray(mask, dtype=np.float64)).to(o.dtype)
    loss = loss_fn(o, torch.from_numpy(np.asarray(y)), model.output, mt)
    loss.backward()

    def grad(v):       # a state nothing reads (the last step's s) has no gradient: zero
        return np.zeros(tuple(v.shape[1:])) if v.grad is None else v.grad.numpy()[0]

    errors = {}
    for i, name in enumerate(model.cell.states):
        errors[name] = np.array([[grad(step[l][i] if lstm else step[l]) for step in kept]
                                 for l in range(model.layers)])                       # (L, T, B, H)
    return {"errors": errors, "loss": loss.item()}


def run_packed(model, x, y, state0, mask, lengths):
    """The model's torch module (bidirectional or not) on a padded batch of sequences of their
    own lengths: pack_padded_sequence(enforce_sorted=False), the module, pad_packed_sequence
    (zeros on padded steps), nn.Linear, the loss. h (T, B, D*H), yhat, loss, every gradient,
    the initial states' gradients (as bptt shapes them) and the final states (h_n, c_n)."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    module, readout = bptt.to_torch(model)
    xt = torch_inputs(x, model.n_in).to(module.weight_ih_l0.dtype)
    T = xt.shape[0]
    n = model.layers * model.directions
    st = {name: torch.tensor(v if n > 1 else v[None], requires_grad=True) for name, v in state0.items()}
    lengths_t = torch.as_tensor(np.asarray(lengths), dtype=torch.int64)
    packed = pack_padded_sequence(xt, lengths_t, enforce_sorted=False)
    out, final = _call(module, model, packed, st)
    h, _ = pad_packed_sequence(out, total_length=T)
    o = readout(h)
    yhat = torch.softmax(o, -1) if model.output == "softmax" else o
    mt = None if mask is None else torch.from_numpy(np.asarray(mask, dtype=np.float64)).to(o.dtype)
    loss = loss_fn(o, torch.from_numpy(np.asarray(y)), model.output, mt)
    loss.backward()
    d0 = {name: (t.grad.numpy() if n > 1 else t.grad.numpy()[0]) for name, t in st.items()}
    finals = final if model.cell.name == "lstm" else (final,)
    final = {name: (v.detach().numpy() if n > 1 else v.detach().numpy()[0])
             for name, v in zip(model.cell.states, finals)}
    return {"h": h.detach().numpy(), "yhat": yhat.detach().numpy(), "loss": loss.item(),
            "grads": torch_grads(model, module, readout), "d0": d0, "final": final}


def one_layer_modules(model):
    """The model's torch module split into one one-layer module per layer (nn.RNN/LSTM/GRU of
    num_layers=1, or the tests' module), each holding that layer's weights, and the readout."""
    module, readout = torch_modules(model)
    layers = []
    for layer in range(model.layers):
        one = type(module)(module.input_size if layer == 0 else module.hidden_size, module.hidden_size,
                           dtype=module.weight_ih_l0.dtype, **model.cell.torch_options())
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", *own_extras(model, module)):
                getattr(one, name + "_l0").copy_(getattr(module, f"{name}_l{layer}"))
        layers.append(one)
    return layers, readout


def run_modules_with_dropout(model, x, y, state0, mask, dropout):
    """Dropout as Zaremba et al. (2014) place it, built by hand: one one-layer torch module per
    layer, what each sends up (to the next module or the readout) multiplied by its mask
    ``dropout[layer]`` (T, B, H), the recurrent connections inside each module left whole.
    Returns the loss, every gradient under bptt's names and the initial states' gradients."""
    layers, readout = one_layer_modules(model)
    dt = layers[0].weight_ih_l0.dtype
    below = torch_inputs(x, model.n_in).to(dt)
    st = _states_to_torch(model, state0)
    lstm = model.cell.name == "lstm"
    for layer, one in enumerate(layers):
        h0 = st["h0"][layer:layer + 1]
        out, _ = one(below, (h0, st["s0"][layer:layer + 1]) if lstm else h0)
        below = out * torch.from_numpy(np.asarray(dropout[layer])).to(dt)
    o = readout(below)
    mt = None if mask is None else torch.from_numpy(np.asarray(mask, dtype=np.float64)).to(o.dtype)
    loss = loss_fn(o, torch.from_numpy(np.asarray(y)), model.output, mt)
    loss.backward()
    grads = {}
    for layer, one in enumerate(layers):
        s = "" if layer == 0 else f"_l{layer}"
        grads["U" + s], grads["W" + s] = one.weight_ih_l0.grad, one.weight_hh_l0.grad
        grads.update({n + s: v for n, v in model.cell.torch_bias_grads(one.bias_ih_l0.grad, one.bias_hh_l0.grad).items()})
        grads.update({n + s: getattr(one, n + "_l0").grad for n in own_extras(model, one)})
    grads["V"], grads["c"] = readout.weight.grad, readout.bias.grad
    d0 = {name: (t.grad.numpy() if model.layers > 1 else t.grad.numpy()[0]) for name, t in st.items()}
    return {"loss": loss.item(), "grads": {k: v.detach().numpy() for k, v in grads.items()}, "d0": d0}
