"""SimpleRNN <-> torch.nn.RNN + torch.nn.Linear. torch is imported here only, on demand."""

from __future__ import annotations

import numpy as np


def _torch():
    try:
        import torch
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("the PyTorch bridge needs torch (pip install 'bptt[test]')") from err
    return torch


def from_torch(cls, rnn, readout, *, output="softmax"):
    torch = _torch()
    if not isinstance(rnn, torch.nn.RNN):
        raise ValueError(f"rnn: expected a torch.nn.RNN, got {type(rnn).__name__}")
    if not isinstance(readout, torch.nn.Linear):
        raise ValueError(f"readout: expected a torch.nn.Linear, got {type(readout).__name__}")
    if rnn.num_layers != 1 or rnn.bidirectional or getattr(rnn, "proj_size", 0):
        raise ValueError(f"rnn: expected one layer, one direction, no projection; got num_layers="
                         f"{rnn.num_layers}, bidirectional={rnn.bidirectional}")
    if readout.in_features != rnn.hidden_size:
        raise ValueError(f"readout: expected in_features = hidden_size = {rnn.hidden_size}, "
                         f"got {readout.in_features}")
    weight = rnn.weight_ih_l0
    dtype = {torch.float32: np.float32, torch.float64: np.float64}.get(weight.dtype)
    if dtype is None:
        raise ValueError(f"rnn: expected float32 or float64 weights, got {weight.dtype}")

    def arr(t):
        return t.detach().cpu().numpy().astype(dtype, copy=True)

    H = rnn.hidden_size
    b = np.zeros(H, dtype=dtype)
    if rnn.bias:
        b = arr(rnn.bias_ih_l0) + arr(rnn.bias_hh_l0)
    c = arr(readout.bias) if readout.bias is not None else np.zeros(readout.out_features, dtype=dtype)
    model = cls(rnn.input_size, H, readout.out_features, nonlinearity=rnn.nonlinearity,
                output=output, dtype=dtype)
    model.set_params({"U": arr(rnn.weight_ih_l0), "W": arr(rnn.weight_hh_l0), "b": b,
                      "V": arr(readout.weight), "c": c})
    return model


def to_torch(model):
    torch = _torch()
    if model.nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity: torch.nn.RNN supports 'tanh' and 'relu', got {model.nonlinearity!r}")
    tdtype = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[model.dtype]
    rnn = torch.nn.RNN(model.n_in, model.n_hidden, nonlinearity=model.nonlinearity, dtype=tdtype)
    readout = torch.nn.Linear(model.n_hidden, model.n_out, dtype=tdtype)
    p = {k: torch.from_numpy(np.array(v, copy=True)) for k, v in model.params.items()}
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(p["U"])
        rnn.weight_hh_l0.copy_(p["W"])
        rnn.bias_ih_l0.copy_(p["b"])
        rnn.bias_hh_l0.zero_()
        readout.weight.copy_(p["V"])
        readout.bias.copy_(p["c"])
    return rnn, readout
