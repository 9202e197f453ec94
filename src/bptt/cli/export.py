"""`bptt export`: a run's model for PyTorch, to continue training on a GPU or across machines."""

from __future__ import annotations

from pathlib import Path

from ._output import Output


def add(sub):
    p = sub.add_parser("export", help="write a run's model as a PyTorch state_dict",
                       description="Write the model of a run (or checkpoint) as a PyTorch state_dict of its "
                                   "torch modules (for the simple RNN: torch.nn.RNN + torch.nn.Linear, inputs "
                                   "one-hot), with its vocabulary beside it as JSON, and print the Python that "
                                   "loads it. Needs PyTorch, imported only here.")
    p.add_argument("checkpoint", metavar="RUN", help="a run folder or a checkpoint file (required)")
    p.add_argument("--torch", required=True, type=Path, metavar="FILE.pt",
                   help="the state_dict file to write (required); the vocabulary goes to FILE.vocab.json")
    p.set_defaults(run=run)


def run(args):
    import json
    import os

    from .. import checkpoint

    out = args.torch
    if out.is_dir():
        raise IsADirectoryError(f"--torch: expected a file path, got {str(out)!r}, which is a directory")
    ck = checkpoint.load(args.checkpoint, name="RUN")
    try:
        import torch
    except ImportError:
        raise ValueError("--torch: expected PyTorch to be installed (pip install torch), got no module "
                         "named torch") from None
    try:
        rnn, readout = ck.model.to_torch()
    except ValueError as err:   # a model torch has no module for (a linear nonlinearity)
        raise ValueError(f"RUN {str(ck.path)!r}: {err}") from None
    state = torch.nn.ModuleDict({"rnn": rnn, "readout": readout}).state_dict()
    vocab_path = out.with_suffix(".vocab.json")
    # Written whole or not at all, like a checkpoint: a temporary file renamed over the target.
    for path, write in ((out, lambda f: torch.save(state, f)),
                        (vocab_path, lambda f: f.write(json.dumps(
                            {"vocab": ck.vocab.chars if ck.vocab else None,
                             "inputs": "one-hot: character vocab[i] is input i"}).encode("utf-8")))):
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            with open(tmp, "wb") as f:
                write(f)
            os.replace(tmp, path)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            raise OSError(f"--torch: could not write {str(path)!r} ({err.strerror or err})") from None
    output = Output()
    output.line(f"wrote {out} (state_dict of {_constructor(rnn)} + {_constructor(readout)}) and {vocab_path}")
    output.line("load it in PyTorch with:")
    for line in load_lines(rnn, readout, out):
        output.line(f"    {line}")
    return 0


def load_lines(rnn, readout, path) -> list[str]:
    """The three lines of Python that rebuild the modules and load the state_dict at ``path``."""
    return ["import torch",
            f"rnn, readout = {_constructor(rnn)}, {_constructor(readout)}",
            f'torch.nn.ModuleDict({{"rnn": rnn, "readout": readout}}).load_state_dict(torch.load({str(path)!r}))']


def _constructor(module) -> str:
    """The call that makes an empty module of this one's kind, sizes and dtype."""
    import torch
    dtype = next(module.parameters()).dtype
    extra = "" if dtype == torch.float32 else f", dtype=torch.{str(dtype).split('.')[-1]}"
    if isinstance(module, torch.nn.Linear):
        return f"torch.nn.Linear({module.in_features}, {module.out_features}{extra})"
    options = ""
    if getattr(module, "num_layers", 1) != 1:
        options += f", num_layers={module.num_layers}"
    if isinstance(module, torch.nn.RNN) and module.nonlinearity != "tanh":
        options += f", nonlinearity={module.nonlinearity!r}"
    return f"torch.nn.{type(module).__name__}({module.input_size}, {module.hidden_size}{options}{extra})"
