"""bptt networks <-> torch.nn.RNN / LSTM / GRU + torch.nn.Linear. torch is imported here only, on demand.

The parameters are in PyTorch's layout and gate order already (U = weight_ih_l<k>, W =
weight_hh_l<k>), so the bridge copies them verbatim; each cell maps PyTorch's two biases onto
its own (``from_torch_biases``/``to_torch_biases``: b = bias_ih + bias_hh for RNN and LSTM).
"""

from __future__ import annotations

import numpy as np

from ..nn.cells import CELLS
from ..nn.network import Network
from ..nn.stages import layer_params, param_name


def _torch():
    try:
        import torch
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("the PyTorch bridge needs torch (pip install 'bptt[test]')") from err
    return torch


def from_torch(module, readout, *, output="softmax", cell=None):
    """A network holding the weights of a ``torch.nn.RNN``/``LSTM``/``GRU`` and ``torch.nn.Linear``.

    U = weight_ih_l0, W = weight_hh_l0, b = bias_ih_l0 + bias_hh_l0 (the GRU keeps the n
    block's bias_hh apart as b_hn), layer l's as U_l<l>..., V = readout.weight,
    c = readout.bias. The dtype follows the torch weights (float32 or float64). ``cell``
    ("rnn", "lstm", "gru"), when given, is the kind of module expected.

        >>> model = bptt.from_torch(torch.nn.LSTM(5, 8, num_layers=2), torch.nn.Linear(8, 5))
    """
    expect = cell
    torch = _torch()
    mapped = {name: cls for name, cls in CELLS.items() if cls.torch is not None}   # cells torch.nn has
    if expect in CELLS and expect not in mapped:
        raise ValueError(f"cell: torch.nn has no module for the {expect} cell; expected one of {', '.join(mapped)}")
    kinds = {getattr(torch.nn, cls.torch): name for name, cls in mapped.items()}
    cell_name = next((name for kind, name in kinds.items() if type(module) is kind), None)
    arg = expect or "module"          # from_torch(rnn, ..., cell="rnn") names the kind it expected
    wanted = " or ".join(f"torch.nn.{mapped[n].torch}" for n in ([expect] if expect else mapped))
    if cell_name is None or (expect is not None and cell_name != expect):
        raise ValueError(f"{arg}: expected a {wanted}, got {type(module).__name__}")
    if not isinstance(readout, torch.nn.Linear):
        raise ValueError(f"readout: expected a torch.nn.Linear, got {type(readout).__name__}")
    for option, bad in (("bidirectional", module.bidirectional), ("proj_size", getattr(module, "proj_size", 0)),
                        ("batch_first", module.batch_first)):
        if bad:
            raise ValueError(f"{arg}: expected {option}={False if option != 'proj_size' else 0} "
                             f"(bptt runs one direction, time first, no projection), got {option}={bad!r}")
    if readout.in_features != module.hidden_size:
        raise ValueError(f"readout: expected in_features = hidden_size = {module.hidden_size}, "
                         f"got {readout.in_features}")
    weight = module.weight_ih_l0
    dtype = {torch.float32: np.float32, torch.float64: np.float64}.get(weight.dtype)
    if dtype is None:
        raise ValueError(f"{arg}: expected float32 or float64 weights, got {weight.dtype}")

    def arr(t):
        return t.detach().cpu().numpy().astype(dtype, copy=True)

    # The cell's options that the module holds, under the names the module's constructor takes.
    options = {k: getattr(module, k) for k in CELLS[cell_name]().torch_options()}
    model = Network.create(cell_name, module.input_size, module.hidden_size, readout.out_features,
                           cell_options=options, layers=module.num_layers, output=output, dtype=dtype)
    cell = model.cell
    params = {}
    for layer in range(module.num_layers):
        k = f"_l{layer}"                                  # torch's names: weight_ih_l0, ...
        U = params[param_name("U", layer)] = arr(getattr(module, "weight_ih" + k))
        params[param_name("W", layer)] = arr(getattr(module, "weight_hh" + k))
        if module.bias:
            b_ih, b_hh = arr(getattr(module, "bias_ih" + k)), arr(getattr(module, "bias_hh" + k))
        else:
            b_ih = b_hh = np.zeros(U.shape[0], dtype=dtype)
        params.update({param_name(name, layer): v for name, v in cell.from_torch_biases(b_ih, b_hh).items()})
    params["V"] = arr(readout.weight)
    params["c"] = arr(readout.bias) if readout.bias is not None else np.zeros(readout.out_features, dtype=dtype)
    model.set_params(params)
    return model


def to_torch(model):
    """(torch module, torch.nn.Linear) holding ``model``'s weights; bias_hh is zero (except the GRU's n block)."""
    cell = model.cell
    if cell.torch is None:
        raise ValueError(f"model: torch.nn has no module for the {cell.name} cell, so it cannot be exported "
                         f"to PyTorch (cells it has: {', '.join(n for n, c in CELLS.items() if c.torch)})")
    torch = _torch()
    tdtype = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[model.dtype]
    module = getattr(torch.nn, cell.torch)(model.n_in, model.n_hidden, num_layers=model.layers,
                                            dtype=tdtype, **cell.torch_options())
    readout = torch.nn.Linear(model.n_hidden, model.n_out, dtype=tdtype)

    def t(v):
        return torch.from_numpy(np.array(v, copy=True))

    p = model.params
    with torch.no_grad():
        for layer in range(model.layers):
            k, lp = f"_l{layer}", layer_params(model, layer)   # torch's names: weight_ih_l0, ...
            b_ih, b_hh = cell.to_torch_biases(lp)
            getattr(module, "weight_ih" + k).copy_(t(lp["U"]))
            getattr(module, "weight_hh" + k).copy_(t(lp["W"]))
            getattr(module, "bias_ih" + k).copy_(t(b_ih))
            getattr(module, "bias_hh" + k).copy_(t(b_hh))
        readout.weight.copy_(t(p["V"]))
        readout.bias.copy_(t(p["c"]))
    return module, readout


def save_state_dict(model, path) -> list:
    """Write ``model`` as the ``state_dict`` of its torch modules (keys ``rnn.*``, ``readout.*``)
    at ``path``, atomically; returns the three lines of Python that rebuild the modules and load it."""
    import os
    from pathlib import Path
    torch = _torch()
    module, readout = to_torch(model)
    state = torch.nn.ModuleDict({"rnn": module, "readout": readout}).state_dict()
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return ["import torch",
            f"rnn, readout = {_constructor(torch, module)}, {_constructor(torch, readout)}",
            f'torch.nn.ModuleDict({{"rnn": rnn, "readout": readout}}).load_state_dict(torch.load({str(path)!r}))']


def _constructor(torch, module) -> str:
    """The call that makes an empty module of this one's kind, sizes and dtype."""
    dtype = next(module.parameters()).dtype
    extra = "" if dtype == torch.float32 else f", dtype=torch.{str(dtype).split('.')[-1]}"
    if isinstance(module, torch.nn.Linear):
        return f"torch.nn.Linear({module.in_features}, {module.out_features}{extra})"
    options = f", num_layers={module.num_layers}" if module.num_layers != 1 else ""
    if isinstance(module, torch.nn.RNN) and module.nonlinearity != "tanh":
        options += f", nonlinearity={module.nonlinearity!r}"
    return f"torch.nn.{type(module).__name__}({module.input_size}, {module.hidden_size}{options}{extra})"
