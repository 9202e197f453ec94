"""`bptt export`: a run's model for PyTorch, to continue training on a GPU or across machines."""

from __future__ import annotations

from pathlib import Path

from ._args import check_file_path, writing
from ._output import Output

LOSS = {"softmax": "cross-entropy", "identity": "squared error, 1/2 ||o(t) - y(t)||^2"}


def add(sub):
    p = sub.add_parser("export", help="write a run's model as a PyTorch state_dict",
                       description="Write the model of a run (or checkpoint) as a PyTorch state_dict of its "
                                   "torch modules (torch.nn.RNN, LSTM or GRU + torch.nn.Linear), with what "
                                   "the model reads and predicts beside it as JSON (a text run's vocabulary, "
                                   "a task run's inputs, output and loss), and print the Python that loads "
                                   "it. An encoder-decoder (bptt task reverse or sort) is written as its "
                                   "encoder, decoder and readout modules. Needs PyTorch, imported only here.")
    p.add_argument("checkpoint", metavar="RUN", help="a run folder or a checkpoint file (required)")
    p.add_argument("--torch", required=True, type=Path, metavar="FILE.pt",
                   help="the state_dict file to write (required); beside it FILE.vocab.json (a text run's "
                        "vocabulary) or FILE.model.json (a task run's inputs, output, loss and task)")
    p.set_defaults(run=run)


def describe(ck) -> dict:
    """What the checkpoint's model reads and predicts, as the JSON beside the state_dict holds it.

    A text run (a vocabulary): one-hot characters in, the next character's softmax out. A task
    run: the task's own inputs (real vectors of I features, or token ids) and output. Any other
    checkpoint: the model's sizes and output; its inputs may be either kind.
    """
    from ..data import tasks
    m = ck.model
    about = {"n_in": m.n_in, "n_out": m.n_out, "output": m.output, "loss": LOSS[m.output],
             "dtype": m.dtype.name}
    if ck.vocab is not None and m.n_in == len(ck.vocab):
        return {"vocab": ck.vocab.chars, "inputs": "one-hot: character vocab[i] is input i",
                "input_kind": "token ids", **about}
    result = ck.meta.get("task_result")
    name = result.get("task") if isinstance(result, dict) else None
    task = tasks.TASKS.get(name) if isinstance(name, str) else None
    if task is None or (task.n_in, task.n_out, task.output) != (m.n_in, m.n_out, m.output):
        return {"task": None, "inputs": f"token ids in [0, {m.n_in}) (one-hot) or real vectors of {m.n_in} "
                                        f"features", "input_kind": "token ids or vectors", **about}
    import numpy as np
    tokens = task.generate(task.min_length, 1, np.random.default_rng(0)).x.dtype.kind in "iu"
    inputs = (f"token ids in [0, {m.n_in}), (T, B) int64, read as one-hot rows" if tokens
              else f"real vectors of {m.n_in} features, (T, B, {m.n_in}) {m.dtype.name}")
    length = result.get("length")
    return {"task": task.name, "paper": task.paper, "length": length if isinstance(length, int) else None,
            "criterion": task.criterion, "inputs": inputs, "input_kind": "token ids" if tokens else "vectors",
            **about}


def describe_seq2seq(ck) -> dict:
    """What an encoder-decoder checkpoint reads and predicts, as FILE.model.json holds it."""
    from ..data import tasks
    m = ck.model
    result = ck.meta.get("task_result")
    run = ck.meta.get("run")
    name = next((d.get("task") for d in (result, (run or {}).get("config") if isinstance(run, dict) else None)
                 if isinstance(d, dict) and isinstance(d.get("task"), str)), None)
    task = tasks.TASKS.get(name) if name else None
    if task is not None and (getattr(task, "model", None) != "seq2seq" or (task.n_in, task.n_out) != (m.n_in, m.n_out)):
        task = None
    about = {"model": "seq2seq", "cell": m.cell.name, "layers": m.layers, "n_in": m.n_in, "n_hidden": m.n_hidden,
             "n_out": m.n_out, "dtype": m.dtype.name, "task": None if task is None else task.name,
             "inputs": f"x: token ids in [0, {m.n_in}), (Tx, B) int64, read as one-hot rows, sequence b "
                       f"x[:x_lengths[b], b]; y_in: token ids in [0, {m.n_out}), (Ty, B) int64, the previous "
                       f"target token after the start token (teacher forcing)",
             "outputs": f"(Ty, B, {m.n_out}) logits of the next token, softmax over them",
             "loss": "cross-entropy, summed over the steps the mask keeps, divided by B",
             "input_kind": "token ids"}
    if task is not None:
        about.update({"paper": task.paper, "start": task.start, "criterion": task.criterion,
                      "what": f"the {task.name} task's encoder-decoder"})
    else:
        about["what"] = "the encoder-decoder"
    return about


def run(args):
    import json
    import os

    from ..train import checkpoint
    from ..proof.torch_bridge import outputs_line, save_state_dict

    out = args.torch
    check_file_path(out, "--torch", "a file")        # before the run is read and torch imported
    ck = checkpoint.load(args.checkpoint, name="RUN")
    seq2seq = not hasattr(ck.model, "output")        # an encoder-decoder (bptt task reverse or sort)
    about = describe_seq2seq(ck) if seq2seq else describe(ck)
    try:
        with writing("--torch", out):
            lines = save_state_dict(ck.model, out)
    except ImportError:
        raise ValueError("--torch: expected PyTorch to be installed (pip install torch), got no module "
                         "named torch") from None
    except ValueError as err:   # a model torch has no module for (a linear nonlinearity)
        raise ValueError(f"RUN {str(ck.path)!r}: {err}") from None
    side = out.with_suffix(".vocab.json" if "vocab" in about else ".model.json")
    tmp = side.with_name(f".{side.name}.tmp")
    try:
        with writing("--torch", side):
            tmp.write_text(json.dumps(about))
            os.replace(tmp, side)
    finally:
        tmp.unlink(missing_ok=True)
    output = Output()
    modules = lines[1].split(" = ", 1)[1].replace(", torch.nn.Linear", " + torch.nn.Linear")
    m = ck.model
    if seq2seq:
        from ..proof.torch_bridge import seq2seq_lines
        encoder, decoder, readout = lines[1].split(" = ", 1)[1].split(", torch.nn.")
        output.line(f"wrote {out} (state_dict of the encoder {encoder}, the decoder torch.nn.{decoder} and the "
                    f"readout torch.nn.{readout}) and {side}")
        output.line(f"{about['what']}: inputs {about['inputs']}; outputs {about['outputs']} ({about['loss']})")
        output.line("load it in PyTorch, and compute its logits and loss, with:")
        for line in lines + seq2seq_lines(m):
            output.line(f"    {line}")
        return 0
    output.line(f"wrote {out} (state_dict of {modules}) and {side}")
    if "vocab" in about:
        output.line(f"inputs: one-hot rows of the {m.n_in} characters of {side.name}; outputs: softmax over "
                    f"them, the next character (cross-entropy)")
        output.line("load it in PyTorch with:")
        for line in lines:
            output.line(f"    {line}")
        return 0
    what = f"the {about['task']} task's model" if about["task"] else "the model"
    tokens = about["input_kind"] == "token ids"
    shape = f"(T, B, {m.n_out})"
    gives = (f"{shape} class probabilities (cross-entropy)" if m.output == "softmax"
             else f"{shape} values (squared error)")
    output.line(f"{what}: inputs {about['inputs']}; outputs {m.output} ({about['loss']})")
    output.line("load it in PyTorch, and compute its outputs, with:")
    for line in lines:
        output.line(f"    {line}")
    x = f"x (T, B) int64 token ids" if tokens else f"x (T, B, {m.n_in}) {m.dtype.name}"
    output.line(f"    {outputs_line(m, tokens)}    # {x} -> {gives}")
    return 0
