"""What the training configs (``text.TrainConfig``, ``task.TaskConfig``) share: fields described
once, the cells' own options checked against the cell, and the network a config describes.

A field made with ``option(default, help, ...)`` carries its help and its flag's form (choices,
what 0 means, how to say its default) in the field's metadata: the command line's flags and
their help are generated from the dataclass (``bptt.cli._config``), and ``check_fields``
validates choices from the same metadata, so no second list of them exists. A field without
help has no flag.

A cell's options are the fields of its dataclass in ``nn.cells.CELLS`` (``nonlinearity`` for the
RNN, ``forget_bias`` for the LSTM). A config field of the same name sets it, and setting it for
a cell that has no such option is refused with the cells it applies to.
"""

from __future__ import annotations

import dataclasses

from .. import _validate as check
from ..nn.cells import CELLS
from ..nn.network import Network

DTYPES = ("float32", "float64")     # float32 for speed; float64 to compare with references


def option(default, help: str, *, choices=None, zero_is_none: bool = False, says_default: str | None = None,
           positional: str | None = None):
    """A config field with what its flag needs.

    help: what the field means, as ``--help`` says it (the default is added).
    choices: the allowed values (a registry's names: ``tuple(OPTIMIZERS)``); checked by
        ``check_fields`` and offered by the flag.
    zero_is_none: the flag's 0 means the field's None ("off").
    says_default: how ``--help`` says the default, where the value alone would not ("k1", "off").
    positional: the field is the command's argument of this name (``TASK``), not a flag.
    """
    return dataclasses.field(default=default, metadata={
        "help": help, "choices": None if choices is None else tuple(choices), "zero_is_none": zero_is_none,
        "says_default": says_default, "positional": positional})


def flag(name: str) -> str:
    """The command-line flag that sets the field ``name``: --seq-length for seq_length."""
    return "--" + name.replace("_", "-")


def check_fields(config) -> None:
    """Every field with choices holds one of them (None: not set); each error names the flag."""
    for f in dataclasses.fields(config):
        choices, value = f.metadata.get("choices"), getattr(config, f.name)
        if choices is not None and value is not None:
            check.choice(f.metadata.get("positional") or flag(f.name), value, choices)


def options_of(cells=CELLS) -> dict:
    """{cell name: the names of its options}, from the cells' dataclass fields."""
    return {name: frozenset(f.name for f in dataclasses.fields(cls)) for name, cls in cells.items()}


def foreign_options(config, cell_options: dict) -> dict:
    """{field: its default} for each cell option that ``config`` sets for a cell that lacks it."""
    known = set().union(*cell_options.values())
    return {f.name: f.default for f in dataclasses.fields(config)
            if f.name in known and f.name not in cell_options.get(config.cell, ())
            and getattr(config, f.name) is not None and getattr(config, f.name) != f.default}


def check_cell_options(config, cell_options: dict) -> None:
    """Refuse a cell option set (to other than its field's default) for a cell that lacks it.

    cell_options: {cell name: the option names it takes}, for every cell the config may name.
    """
    for name in foreign_options(config, cell_options):
        value = getattr(config, name)
        cells = [cell for cell, names in cell_options.items() if name in names]
        raise ValueError(f"{flag(name)}: expected only with {' or '.join(f'--cell {c}' for c in cells)}, "
                         f"got {value!r} with --cell {config.cell}")


# Fields that a run's files (checkpoint meta, result.json) hold only when set away from their default:
# runs that do not use them write what they wrote before the field existed.
WRITTEN_WHEN_SET = ("dropout",)

DROPOUT_HELP = ("p, the probability of dropping each unit of what a layer sends up, to the layer above or "
                "the readout (Zaremba et al. 2014; with --layers 1, before the readout only); the recurrent "
                "connections are never dropped; off at evaluation and sampling; 0: off")


def written(config) -> dict:
    """The config as a run's files hold it: its fields, less those of ``WRITTEN_WHEN_SET`` at their default."""
    defaults = {f.name: f.default for f in dataclasses.fields(config)}
    return {k: v for k, v in dataclasses.asdict(config).items()
            if k not in WRITTEN_WHEN_SET or v != defaults[k]}


def build_network(config, n_in: int, n_out: int, *, output: str = "softmax", **more) -> Network:
    """The network ``config`` describes (its cell, hidden, layers, bidirectional, seed and dtype), from n_in inputs
    to n_out outputs; its cell's options are the config's fields of the same names (None: the cell's
    default), and ``more`` (options the config derives rather than holds: chrono's T_max)."""
    cell = CELLS[config.cell]
    options = {f.name: getattr(config, f.name) for f in dataclasses.fields(cell)
               if getattr(config, f.name, None) is not None}
    options.update(more)
    return Network.create(config.cell, n_in, config.hidden, n_out, cell_options=options, layers=config.layers,
                          output=output, seed=config.seed, dtype=config.dtype,
                          bidirectional=getattr(config, "bidirectional", False))
