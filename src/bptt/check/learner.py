"""Finding a learner's functions: in a module, a dict, a list of functions, or a Python file.

Every way a file can fail to be checkable is one line naming the file and what was expected
(``CheckInputError``, a ValueError): it does not exist, is not Python, raises on import,
defines none of the recognised functions, or defines one with the wrong number of arguments.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import itertools
import sys
import types
from pathlib import Path

from .conventions import CONVENTIONS, arity, recognised

_counter = itertools.count()


class CheckInputError(ValueError):
    """Something that cannot be checked; the message is one line."""


def namespace_of(target) -> tuple[dict, str]:
    """(name -> object, a label for reports) for a module, dict, path or iterable of functions."""
    if isinstance(target, (str, Path)):
        return load_file(target), str(target)
    if isinstance(target, types.ModuleType):
        return vars(target), getattr(target, "__file__", None) or target.__name__
    if isinstance(target, dict):
        return dict(target), ""
    if callable(target):
        target = [target]
    try:
        fns = list(target)
    except TypeError:
        raise CheckInputError(f"bptt.check: expected a module, a dict of functions, a list of functions "
                              f"or a path to a .py file, got {type(target).__name__}") from None
    bad = [f for f in fns if not callable(f)]
    if bad:
        raise CheckInputError(f"bptt.check: expected functions, got {type(bad[0]).__name__}")
    return {f.__name__: f for f in fns}, ""


def load_file(path) -> dict:
    path = Path(path)
    if not path.exists():
        raise CheckInputError(f"{path}: no such file; expected a Python file defining the functions to check")
    if path.is_dir():
        raise CheckInputError(f"{path}: is a directory; expected a Python file defining the functions to check")
    try:
        source = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise CheckInputError(f"{path}: not Python (not UTF-8 text); expected a Python file") from None
    except OSError as err:
        raise CheckInputError(f"{path}: could not be read ({err.strerror}); expected a readable Python file") from None
    try:
        code = compile(source, str(path), "exec")
    except (SyntaxError, ValueError) as err:
        where = f" at line {err.lineno}" if getattr(err, "lineno", None) else ""
        msg = getattr(err, "msg", None) or str(err)
        raise CheckInputError(f"{path}: not Python ({type(err).__name__}{where}: {msg}); expected a Python file") from None
    name = f"_bptt_learner_{next(_counter)}"
    module = types.ModuleType(name)
    module.__file__ = str(path)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)          # a learner's file may import its own helpers beside it
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, module.__dict__)
    except BaseException as err:  # the learner's import failure is reported, never raised
        if isinstance(err, KeyboardInterrupt):
            raise
        tb = err.__traceback__
        line = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == str(path):
                line = tb.tb_lineno
            tb = tb.tb_next
        where = f" at line {line}" if line else ""
        msg = str(err).splitlines()[0] if str(err) else ""
        raise CheckInputError(f"{path}: raised {type(err).__name__}{where} on import: {msg}; "
                              f"expected a file that imports cleanly") from None
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)
    return vars(module)


def functions_of(namespace, label="", convention=None):
    """(convention, {name: function}) of the recognised functions, arity checked."""
    if convention is not None and convention not in CONVENTIONS:
        raise CheckInputError(f"convention: expected one of {', '.join(map(repr, CONVENTIONS))}, got {convention!r}")
    conv, fns = recognised(namespace, convention)
    who = f"{label}: " if label else ""
    if not fns:
        examples = "; ".join(f"{c.name}: {', '.join(f.name for f in c.functions if f.cell == 'rnn')}"
                             for c in CONVENTIONS.values())
        raise CheckInputError(f"{who}defines none of the recognised functions; expected at least one of ({examples}), "
                              f"or their LSTM and dense-layer companions")
    for name, fn in fns.items():
        spec = conv.fn(name)
        a = arity(fn)
        if a is not None and not a[0] <= len(spec.args) <= a[1]:
            takes = f"{a[0]}" if a[0] == a[1] else f"{a[0]} to {a[1] if a[1] < 10 ** 6 else 'any number of'}"
            raise CheckInputError(f"{who}{name} takes {takes} positional argument{'s' * (a[0] != 1)}; expected "
                                  f"{len(spec.args)}: {spec.signature} ({conv.label})")
    return conv, fns
