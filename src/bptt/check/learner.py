"""Finding a learner's functions: in a file or notebook, a module, a dict (``globals()``) or a list.

Every way a target can fail to be checkable is one line naming it and what was expected
(``CheckInputError``, a ValueError): a file that does not exist, is not Python or a notebook,
is Python 2 beyond a mechanical conversion, or defines none of the recognised functions (or only
ones with the wrong number of arguments). A file whose top-level code fails is still read
(``reading.py``): what failed is a note.
"""

from __future__ import annotations

import types
from pathlib import Path

from .conventions import CONVENTIONS, arity, recognised
from .reading import CheckInputError, Learner, read

__all__ = ["CheckInputError", "Learner", "learner_of", "functions_of", "signature_problem"]


def learner_of(target) -> Learner:
    """A Learner for a path (.py or .ipynb), a module, a dict {name: object} or functions."""
    if isinstance(target, (str, Path)):
        return read(target)
    if isinstance(target, types.ModuleType):
        return Learner(dict(vars(target)), getattr(target, "__file__", None) or target.__name__)
    if isinstance(target, dict):
        return Learner(dict(target), "")
    if callable(target):
        target = [target]
    try:
        fns = list(target)
    except TypeError:
        raise CheckInputError(f"bptt.check: expected a path to a .py file or .ipynb notebook, a module, a dict of "
                              f"functions (globals()) or a list of functions, got {type(target).__name__}") from None
    bad = [f for f in fns if not callable(f)]
    if bad:
        raise CheckInputError(f"bptt.check: expected functions, got {type(bad[0]).__name__}")
    return Learner({f.__name__: f for f in fns}, "")


def functions_of(learner: Learner, convention=None):
    """(convention, {name: function}) of the recognised functions; the folders of their files
    join the learner's (a helper beside them is theirs too)."""
    if convention is not None and convention not in CONVENTIONS:
        raise CheckInputError(f"convention: expected one of {', '.join(map(repr, CONVENTIONS))}, got {convention!r}")
    conv, fns = recognised(learner.namespace, convention)
    who = f"{learner.label}: " if learner.label else ""
    if not fns:
        examples = "; ".join(f"{c.name}: {', '.join(f.name for f in c.functions if f.cell == 'rnn')}"
                             for c in CONVENTIONS.values())
        said = "".join(f"; note: {n}" for n in learner.notes[:2])
        raise CheckInputError(f"{who}defines none of the recognised functions; expected at least one of ({examples}), "
                              f"or their LSTM and dense-layer companions{said}", learner.notes)
    problems = {name: signature_problem(conv, name, fn) for name, fn in fns.items()}
    if all(problems.values()):
        raise CheckInputError(f"{who}{next(iter(problems.values()))}")
    for fn in fns.values():
        code = getattr(fn, "__code__", None)
        if code is not None and not code.co_filename.startswith("<"):
            learner.folders.add(str(Path(code.co_filename).parent))
    return conv, fns


def signature_problem(conv, name, fn) -> str:
    """"" or one line saying how ``fn``'s positional arguments differ from the convention's."""
    spec = conv.fn(name)
    a = arity(fn)
    if a is None or a[0] <= len(spec.args) <= a[1]:
        return ""
    takes = f"{a[0]}" if a[0] == a[1] else f"{a[0]} to {a[1] if a[1] < 10 ** 6 else 'any number of'}"
    return (f"{name} takes {takes} positional argument{'s' * (a[0] != 1)}; expected {len(spec.args)}: "
            f"{spec.signature} ({conv.label})")
