"""A command's flags generated from a config dataclass (``TrainConfig``, ``TaskConfig``): one flag per
field that has help (``train.config.option``), named after it (seq_length: --seq-length), typed by
its annotation (int, float) or offered its choices, with its help and its default said.

Every generated flag defaults to None, "not given", so that a command can tell what the user
asked for (a resumed run changes only those); ``given`` maps the flags given back onto fields.
"""

from __future__ import annotations

import dataclasses
import typing

from ..train.config import flag
from ._args import integer, number


def add_config_flags(parser, config_cls) -> None:
    """Add the flags of ``config_cls``'s fields to ``parser``, in the fields' order."""
    hints = typing.get_type_hints(config_cls)
    cell_options = getattr(config_cls, "CELL_OPTIONS", {})
    for f in dataclasses.fields(config_cls):
        meta = f.metadata
        if not meta.get("help"):
            continue
        help = meta["help"]
        cells = [cell for cell, names in cell_options.items() if f.name in names]
        if cells and len(cells) < len(cell_options):      # an option of some cells only
            help = f"{' or '.join(f'--cell {c}' for c in cells)} only: {help}"
        kwargs = {}
        if _kind(hints[f.name]) is bool:           # a switch: given means True, absent None
            parser.add_argument(flag(f.name), action="store_const", const=True, default=None, help=help)
            continue
        if meta["choices"] is not None:
            kwargs["choices"] = meta["choices"]
        else:
            kind = _kind(hints[f.name])
            kwargs["type"] = integer if kind is int else number if kind is float else str
        if meta["positional"]:
            parser.add_argument(f.name, metavar=meta["positional"],
                                help=f"{help}: {', '.join(meta['choices'] or ())} (required)", **kwargs)
            continue
        said = meta["says_default"] or _say(f.default)
        parser.add_argument(flag(f.name), default=None, help=f"{help} (default {said})", **kwargs)


def given(args, config_cls) -> dict:
    """{field: value} of the config flags given on the command line (a flag's 0 is None where the
    field says so: --clip 0 turns clipping off)."""
    out = {}
    for f in dataclasses.fields(config_cls):
        value = getattr(args, f.name, None) if f.metadata.get("help") else None
        if value is not None:
            out[f.name] = None if f.metadata["zero_is_none"] and value == 0 else value
    return out


def _kind(hint):
    """int, float or str from an annotation such as ``float | None``."""
    options = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    return options[0]


def _say(value) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)
