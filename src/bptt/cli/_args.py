"""Argument types shared by the commands: each bad value becomes one line naming it."""

from __future__ import annotations

import argparse
import os
import re
from contextlib import contextmanager

import numpy as np


class UsageError(Exception):
    """A bad argument or file: reported as one line, exit code 2."""


class HelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default (a flag's is "off"), unless the help says it."""

    def _get_help_string(self, action):
        text = action.help or ""
        if ("default" in text or action.required or action.default is argparse.SUPPRESS
                or isinstance(action, (argparse._HelpAction, argparse._VersionAction))):
            return text
        if action.nargs == 0:
            return f"{text} (default: off)"
        if action.default is None:   # None means nothing to a reader: such a help says its default itself
            return text
        return f"{text} (default %(default)s)"


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):  # one line, no usage dump, in the words "expected ..., got ..."
        message = _reword(message)
        m = re.fullmatch(r"argument ([^:]+): (.*)", message)
        if m:   # "--lr: ..." as the library says it, so the CLI and the API give the same line
            raise UsageError(f"{m[1]}: {m[2]}")
        prefix = "" if " " not in self.prog else f"{self.prog}: "   # "bptt: error: bptt:" says it twice
        raise UsageError(f"{prefix}{message}")


# argparse's own messages, said the way every other error here is: "expected ..., got ..."
_REWORDS = [
    (r"(argument [^:]+): invalid choice: (.*) \(choose from (.*)\)", "{0}: expected one of {2}, got {1}"),
    (r"(argument [^:]+): expected (one|at least one) argument", "{0}: expected {1} value, got none"),
    (r"unrecognized arguments: (.*)", "expected only the arguments that --help lists, got unrecognized arguments: {0}"),
    (r"the following arguments are required: (.*)", "expected the argument {0}, got none"),
]


def _reword(message: str) -> str:
    for pattern, template in _REWORDS:
        m = re.fullmatch(pattern, message)
        if m:
            return template.format(*m.groups())
    return message


def integer(text):
    """An int; its range is checked where it is used, so the API and the CLI say the same."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def number(text):
    """A float (nan and inf included: the range check that refuses them names the flag)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def int_at_least(lo, expected):
    """An argparse type: an int >= lo, else "expected <expected>, got '<text>'"."""
    def convert(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < lo:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value
    return convert


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text!r}")
    return value


positive_int = int_at_least(1, "a positive integer")


def random_model_flags(args, defaults: dict) -> dict:
    """Flags that shape the random model a command uses when no CHECKPOINT is given.

    Fills in ``defaults`` ({dest: value}) for the ones not given and returns the given ones,
    for ``refuse_beside_checkpoint`` once the checkpoint itself has been checked.
    """
    given = {}
    for dest, default in defaults.items():
        if getattr(args, dest) is None:
            setattr(args, dest, default)
        else:
            given[dest] = getattr(args, dest)
    return given


def refuse_beside_checkpoint(args, given: dict) -> None:
    """Beside a checkpoint a random model's flag would change nothing: refused, not silently dropped."""
    if args.checkpoint is not None and given:
        dest, value = next(iter(given.items()))
        flag = "--" + dest.replace("_", "-")
        raise ValueError(f"{flag}: expected no {flag} with CHECKPOINT (it shapes the random model used "
                         f"without one; the checkpoint's model is its own), got {value}")


def check_writable(out, flag="--out"):
    """Make the folder ``out`` if needed and prove it can be written, or name the flag in one line."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise PermissionError(f"{flag}: expected a writable folder, got {str(out)!r} ({err.strerror})") from None


def check_file_path(path, flag, what="a file"):
    """A path a command will write: not a folder, in a folder that exists and can be written,
    checked before any work is done, or the flag named in one line."""
    if path.is_dir():
        raise IsADirectoryError(f"{flag}: expected {what} path, got {str(path)!r}, which is a directory")
    folder = path.parent
    if not folder.is_dir():
        why = "is a file" if folder.exists() else "does not exist"
        raise FileNotFoundError(f"{flag}: expected {what} path in an existing folder, got {str(path)!r}, "
                                f"whose folder {str(folder)!r} {why}")
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"{flag}: expected {what} path in a writable folder, got {str(path)!r}, "
                              f"whose folder {str(folder)!r} is not writable")


@contextmanager
def writing(flag, path):
    """Errors while writing ``path`` as one line naming the flag: a path the user can fix exits 2
    (missing folder, no permission), a failing disk 1; never a temporary file's name."""
    try:
        yield
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError) as err:
        raise type(err)(f"{flag}: expected a writable file path, got {str(path)!r} ({err.strerror or err})") from None
    except OSError as err:
        raise OSError(f"{flag}: could not write {str(path)!r} ({err.strerror or err})") from None
