"""bptt networks <-> torch.nn.RNN / LSTM / GRU + torch.nn.Linear. torch is imported here only, on demand.

The parameters are in PyTorch's layout and gate order already (U = weight_ih_l<k>, W =
weight_hh_l<k>), so the bridge copies them verbatim; each cell maps PyTorch's two biases onto
its own (``from_torch_biases``/``to_torch_biases``: b = bias_ih + bias_hh for RNN and LSTM).
"""

from __future__ import annotations

import numpy as np

from ..nn.cells import CELLS
from ..nn.network import Network
from ..nn.seq2seq import Seq2Seq
from ..nn.stages import layer_params, param_name


def _torch():
    try:
        import torch
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("the PyTorch bridge needs torch (pip install 'bptt[test]')") from err
    return torch


def from_torch(module, readout, *more, output="softmax", cell=None):
    """A network holding the weights of a ``torch.nn.RNN``/``LSTM``/``GRU`` and ``torch.nn.Linear``;
    or, given three modules (encoder, decoder, readout), a ``Seq2Seq`` (``seq2seq_from_torch``).

    U = weight_ih_l0, W = weight_hh_l0, b = bias_ih_l0 + bias_hh_l0 (the GRU keeps the n
    block's bias_hh apart as b_hn), layer l's as U_l<l>..., V = readout.weight,
    c = readout.bias. The dtype follows the torch weights (float32 or float64). ``cell``
    ("rnn", "lstm", "gru"), when given, is the kind of module expected. A ``bidirectional=True``
    module gives a bidirectional network (weight_ih_l0_reverse -> U_reverse, ...), whose
    readout reads [h_forward; h_reverse] (in_features = 2 * hidden_size).

        >>> model = bptt.from_torch(torch.nn.LSTM(5, 8, num_layers=2), torch.nn.Linear(8, 5))
        >>> s2s = bptt.from_torch(*bptt.to_torch(bptt.Seq2Seq(5, 8, 7)))   # bit for bit
    """
    if more:
        if len(more) != 1:
            raise ValueError(f"from_torch: expected (module, readout) or (encoder, decoder, readout), "
                             f"got {2 + len(more)} modules")
        return seq2seq_from_torch(module, readout, more[0], cell=cell)
    expect = cell
    torch = _torch()
    arg = expect or "module"          # from_torch(rnn, ..., cell="rnn") names the kind it expected
    cell_name = _kind(torch, module, arg, expect, bidirectional=True)
    if not isinstance(readout, torch.nn.Linear):
        raise ValueError(f"readout: expected a torch.nn.Linear, got {type(readout).__name__}")
    D = 2 if module.bidirectional else 1
    if readout.in_features != D * module.hidden_size:
        what = "2 * hidden_size" if D == 2 else "hidden_size"
        raise ValueError(f"readout: expected in_features = {what} = {D * module.hidden_size}, "
                         f"got {readout.in_features}")
    dtype = _dtype(torch, module, arg)
    # The cell's options that the module holds, under the names the module's constructor takes.
    options = {k: getattr(module, k) for k in CELLS[cell_name]().torch_options()}
    model = Network.create(cell_name, module.input_size, module.hidden_size, readout.out_features,
                           cell_options=options, layers=module.num_layers, output=output, dtype=dtype,
                           bidirectional=bool(module.bidirectional))
    params = _layers_from(module, model.cell, dtype)
    params.update(_readout_from(readout, dtype))
    model.set_params(params)
    return model


def seq2seq_from_torch(encoder, decoder, readout, *, cell=None):
    """A ``Seq2Seq`` holding the weights of an encoder and a decoder (two ``torch.nn.RNN``/``LSTM``/
    ``GRU`` of one kind, sizes and layers; the decoder reads the readout's n_out symbols) and a
    ``torch.nn.Linear`` readout: enc_U = encoder.weight_ih_l0, ..., dec_U = decoder.weight_ih_l0,
    ..., V = readout.weight, c = readout.bias. ``from_torch(*seq2seq.to_torch())`` calls it."""
    torch = _torch()
    kind = _kind(torch, encoder, "encoder", cell)
    if _kind(torch, decoder, "decoder", kind) != kind:      # pragma: no cover - _kind raises
        raise AssertionError
    if kind == "rnn" and decoder.nonlinearity != encoder.nonlinearity:
        raise ValueError(f"decoder: expected nonlinearity = the encoder's {encoder.nonlinearity!r}, "
                         f"got {decoder.nonlinearity!r}")
    if kind == "rnn" and encoder.nonlinearity != "tanh":
        raise ValueError(f"encoder: expected nonlinearity='tanh' (Seq2Seq's rnn cell), got {encoder.nonlinearity!r}")
    for option in ("hidden_size", "num_layers"):
        if getattr(decoder, option) != getattr(encoder, option):
            raise ValueError(f"decoder: expected {option} = the encoder's {getattr(encoder, option)}, "
                             f"got {getattr(decoder, option)}")
    if not isinstance(readout, torch.nn.Linear):
        raise ValueError(f"readout: expected a torch.nn.Linear, got {type(readout).__name__}")
    if readout.in_features != encoder.hidden_size:
        raise ValueError(f"readout: expected in_features = hidden_size = {encoder.hidden_size}, "
                         f"got {readout.in_features}")
    if decoder.input_size != readout.out_features:
        raise ValueError(f"decoder: expected input_size = the readout's out_features = {readout.out_features} "
                         f"(the decoder reads the output symbols), got {decoder.input_size}")
    dtype = _dtype(torch, encoder, "encoder")
    if _dtype(torch, decoder, "decoder") != dtype:
        raise ValueError(f"decoder: expected the encoder's dtype {np.dtype(dtype).name}, "
                         f"got {decoder.weight_ih_l0.dtype}")
    model = Seq2Seq(encoder.input_size, encoder.hidden_size, readout.out_features, cell=kind,
                    layers=encoder.num_layers, dtype=dtype)
    params = {"enc_" + k: v for k, v in _layers_from(encoder, model.cell, dtype).items()}
    params.update({"dec_" + k: v for k, v in _layers_from(decoder, model.cell, dtype).items()})
    params.update(_readout_from(readout, dtype))
    model.set_params(params)
    return model


def _kind(torch, module, arg, expect, bidirectional=False):
    """The cell name of a torch recurrent module ("rnn", "lstm", "gru"), checked for what bptt runs
    (a network reads bidirectional modules, an encoder-decoder's halves run one direction)."""
    mapped = {name: cls for name, cls in CELLS.items() if cls.torch is not None}   # cells torch.nn has
    if expect in CELLS and expect not in mapped:
        raise ValueError(f"cell: torch.nn has no module for the {expect} cell; expected one of {', '.join(mapped)}")
    kinds = {getattr(torch.nn, cls.torch): name for name, cls in mapped.items()}
    cell_name = next((name for kind, name in kinds.items() if type(module) is kind), None)
    wanted = " or ".join(f"torch.nn.{mapped[n].torch}" for n in ([expect] if expect else mapped))
    if cell_name is None or (expect is not None and cell_name != expect):
        raise ValueError(f"{arg}: expected a {wanted}, got {type(module).__name__}")
    for option, bad in (("bidirectional", module.bidirectional and not bidirectional),
                        ("proj_size", getattr(module, "proj_size", 0)), ("batch_first", module.batch_first)):
        if bad:
            raise ValueError(f"{arg}: expected {option}={False if option != 'proj_size' else 0} "
                             f"(bptt runs one direction, time first, no projection), got {option}={bad!r}")
    return cell_name


def _dtype(torch, module, arg):
    weight = module.weight_ih_l0
    dtype = {torch.float32: np.float32, torch.float64: np.float64}.get(weight.dtype)
    if dtype is None:
        raise ValueError(f"{arg}: expected float32 or float64 weights, got {weight.dtype}")
    return dtype


def _arr(t, dtype):
    return t.detach().cpu().numpy().astype(dtype, copy=True)


def _layers_from(module, cell, dtype) -> dict:
    """{U, W, b, extras, U_l1, ...}: a torch recurrent module's layers under the stages' names."""
    params = {}
    for layer, reverse in _layers_and_directions(module.num_layers, 2 if module.bidirectional else 1):
        k = f"_l{layer}" + ("_reverse" if reverse else "")  # torch's names: weight_ih_l0, ..._reverse
        U = params[param_name("U", layer, reverse)] = _arr(getattr(module, "weight_ih" + k), dtype)
        params[param_name("W", layer, reverse)] = _arr(getattr(module, "weight_hh" + k), dtype)
        if module.bias:
            b_ih, b_hh = _arr(getattr(module, "bias_ih" + k), dtype), _arr(getattr(module, "bias_hh" + k), dtype)
        else:
            b_ih = b_hh = np.zeros(U.shape[0], dtype=dtype)
        params.update({param_name(name, layer, reverse): v
                       for name, v in cell.from_torch_biases(b_ih, b_hh).items()})
    return params


def _readout_from(readout, dtype) -> dict:
    return {"V": _arr(readout.weight, dtype),
            "c": _arr(readout.bias, dtype) if readout.bias is not None
            else np.zeros(readout.out_features, dtype=dtype)}


def to_torch(model):
    """(torch module, torch.nn.Linear) holding ``model``'s weights; bias_hh is zero (except the GRU's n block).

    For a ``Seq2Seq``: (encoder module, decoder module, torch.nn.Linear), the decoder reading
    n_out symbols; ``from_torch`` takes the three back. A cell torch.nn has no module for (``torch
    = None``, the leaky unit) is refused in one line.
    """
    cell = model.cell
    if cell.torch is None:
        raise ValueError(f"model: torch.nn has no module for the {cell.name} cell, so it cannot be exported "
                         f"to PyTorch (cells it has: {', '.join(n for n, c in CELLS.items() if c.torch)})")
    torch = _torch()
    tdtype = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[model.dtype]
    readout = torch.nn.Linear(getattr(model, "directions", 1) * model.n_hidden, model.n_out, dtype=tdtype)
    p = model.params
    with torch.no_grad():
        readout.weight.copy_(_tensor(torch, p["V"]))
        readout.bias.copy_(_tensor(torch, p["c"]))
    if isinstance(model, Seq2Seq):
        return _module_of(torch, model.encoder, tdtype), _module_of(torch, model.decoder, tdtype), readout
    return _module_of(torch, model, tdtype), readout


def _tensor(torch, v):
    return torch.from_numpy(np.array(v, copy=True))


def _module_of(torch, model, tdtype):
    """The torch recurrent module holding ``model``'s layers (a Network, or one half of a Seq2Seq)."""
    cell = model.cell
    directions = getattr(model, "directions", 1)
    module = getattr(torch.nn, cell.torch)(model.n_in, model.n_hidden, num_layers=model.layers,
                                            bidirectional=directions == 2, dtype=tdtype, **cell.torch_options())
    with torch.no_grad():
        for layer, reverse in _layers_and_directions(model.layers, directions):
            k = f"_l{layer}" + ("_reverse" if reverse else "")  # torch's names: weight_ih_l0, ...
            lp = layer_params(model, layer, reverse) if reverse else layer_params(model, layer)
            b_ih, b_hh = cell.to_torch_biases(lp)
            getattr(module, "weight_ih" + k).copy_(_tensor(torch, lp["U"]))
            getattr(module, "weight_hh" + k).copy_(_tensor(torch, lp["W"]))
            getattr(module, "bias_ih" + k).copy_(_tensor(torch, b_ih))
            getattr(module, "bias_hh" + k).copy_(_tensor(torch, b_hh))
    return module


def _layers_and_directions(layers, directions):
    """(layer, reverse) for every layer and direction, in PyTorch's order."""
    return [(layer, reverse) for layer in range(layers) for reverse in (False, True)[:directions]]


def save_state_dict(model, path) -> list:
    """Write ``model`` as the ``state_dict`` of its torch modules (keys ``rnn.*``, ``readout.*``; a
    ``Seq2Seq``'s ``encoder.*``, ``decoder.*``, ``readout.*``) at ``path``, atomically; returns the
    three lines of Python that rebuild the modules and load it."""
    import os
    from pathlib import Path
    torch = _torch()
    modules = to_torch(model)
    names = ("encoder", "decoder", "readout") if isinstance(model, Seq2Seq) else ("rnn", "readout")
    state = torch.nn.ModuleDict(dict(zip(names, modules))).state_dict()
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:   # opened here: a bad path is Python's OSError, not torch's RuntimeError
            torch.save(state, f)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    held = ", ".join(f'"{n}": {n}' for n in names)
    return ["import torch",
            f"{', '.join(names)} = {', '.join(_constructor(torch, m) for m in modules)}",
            f"torch.nn.ModuleDict({{{held}}}).load_state_dict(torch.load({str(path)!r}))"]


def seq2seq_lines(model) -> list:
    """The lines of Python that compute, with the modules the loading lines make, what a ``Seq2Seq``
    computes: ``logits`` its readout o (Ty, B, O) for token ids x (Tx, B), the teacher-forced y_in
    (Ty, B) and x_lengths (B,) (sequence b is x[:x_lengths[b], b]; the encoder's context is its state
    after that step: a packed sequence), and ``loss`` its L, summed over the steps the mask (Ty, B)
    keeps, divided by B."""
    dtype = "float32" if model.dtype == np.float32 else "float64"
    return [
        "def logits(x, y_in, x_lengths):",
        f"    x = torch.nn.utils.rnn.pack_padded_sequence(torch.nn.functional.one_hot(x, {model.n_in})"
        f".to(torch.{dtype}), x_lengths, enforce_sorted=False)",
        f"    return readout(decoder(torch.nn.functional.one_hot(y_in, {model.n_out}).to(torch.{dtype}), "
        f"encoder(x)[1])[0])",
        "loss = lambda x, y_in, y, mask, x_lengths: -(torch.log_softmax(logits(x, y_in, x_lengths), -1)"
        ".gather(-1, y[..., None])[..., 0] * mask).sum() / y.shape[1]",
    ]


def outputs_line(model, tokens: bool) -> str:
    """The line of Python that computes, with the modules the loading lines make, what
    ``model.forward(x).yhat`` holds: from token ids (one-hot rows of I) or real vectors (T, B, I),
    through the readout, then softmax for the softmax output (identity: the readout itself)."""
    dtype = "float32" if model.dtype == np.float32 else "float64"
    inputs = f"torch.nn.functional.one_hot(x, {model.n_in}).to(torch.{dtype})" if tokens else "x"
    o = f"readout(rnn({inputs})[0])"
    return f"outputs = lambda x: {f'torch.softmax({o}, -1)' if model.output == 'softmax' else o}"


def _constructor(torch, module) -> str:
    """The call that makes an empty module of this one's kind, sizes and dtype."""
    dtype = next(module.parameters()).dtype
    extra = "" if dtype == torch.float32 else f", dtype=torch.{str(dtype).split('.')[-1]}"
    if isinstance(module, torch.nn.Linear):
        return f"torch.nn.Linear({module.in_features}, {module.out_features}{extra})"
    options = f", num_layers={module.num_layers}" if module.num_layers != 1 else ""
    options += ", bidirectional=True" if module.bidirectional else ""
    if isinstance(module, torch.nn.RNN) and module.nonlinearity != "tanh":
        options += f", nonlinearity={module.nonlinearity!r}"
    return f"torch.nn.{type(module).__name__}({module.input_size}, {module.hidden_size}{options}{extra})"
