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

    from ..train import checkpoint
    from ..proof.torch_bridge import save_state_dict

    out = args.torch
    if out.is_dir():
        raise IsADirectoryError(f"--torch: expected a file path, got {str(out)!r}, which is a directory")
    ck = checkpoint.load(args.checkpoint, name="RUN")
    try:
        lines = save_state_dict(ck.model, out)
    except ImportError:
        raise ValueError("--torch: expected PyTorch to be installed (pip install torch), got no module "
                         "named torch") from None
    except ValueError as err:   # a model torch has no module for (a linear nonlinearity)
        raise ValueError(f"RUN {str(ck.path)!r}: {err}") from None
    except OSError as err:
        raise OSError(f"--torch: could not write {str(out)!r} ({err.strerror or err})") from None
    vocab_path = out.with_suffix(".vocab.json")
    tmp = vocab_path.with_name(f".{vocab_path.name}.tmp")
    try:
        tmp.write_text(json.dumps({"vocab": ck.vocab.chars if ck.vocab else None,
                                   "inputs": "one-hot: character vocab[i] is input i"}))
        os.replace(tmp, vocab_path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise OSError(f"--torch: could not write {str(vocab_path)!r} ({err.strerror or err})") from None
    output = Output()
    modules = lines[1].split(" = ", 1)[1].replace(", torch.nn.Linear", " + torch.nn.Linear")
    output.line(f"wrote {out} (state_dict of {modules}) and {vocab_path}")
    output.line("load it in PyTorch with:")
    for line in lines:
        output.line(f"    {line}")
    return 0
