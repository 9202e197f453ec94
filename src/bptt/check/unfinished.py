"""Telling an unfinished function from a wrong one.

A function is "not written yet" when it is still the starter code as handed out: it raises
NotImplementedError, its body is ``pass`` (it returns None), it returns only Nones (cs231n's
``next_h, cache = None, None`` ... ``return next_h, cache``), or it raises on one of the
template's placeholders (deeplearning.ai's ``n_x, m = None``, ``for t in None:``, a name whose
every assignment is ``= None``). Such a function is listed, never taken for the first departure.
"""

from __future__ import annotations

import ast

from .where import _own_nodes, _targets, function_node, place, statement_at


def _is_none(expr):
    return isinstance(expr, ast.Constant) and expr.value is None


def _all_none(expr):
    return _is_none(expr) or (isinstance(expr, (ast.Tuple, ast.List)) and expr.elts and all(map(_is_none, expr.elts)))


def placeholder_names(node) -> set:
    """Names the function assigns only ``None`` (the template's ``a_next = None`` left as it is)."""
    assigned, other = set(), set()
    for sub in _own_nodes(node):
        if isinstance(sub, (ast.For, ast.AsyncFor, ast.With)) or isinstance(sub, ast.comprehension):
            for n in ast.walk(getattr(sub, "target", sub)):
                if isinstance(n, ast.Name):
                    other.add(n.id)
        for target in _targets(sub):
            names = [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
            direct = isinstance(target, ast.Name)
            if isinstance(sub, ast.Assign) and direct and _all_none(sub.value):
                assigned.update(names)
            elif direct or isinstance(target, ast.Starred):
                other.update(names)
    return assigned - other


def is_placeholder(stmt) -> bool:
    """``x = None``, ``n_x, m = None``, ``(caches, x) = None``, ``for t in None:``, ``range(None)``."""
    if isinstance(stmt, ast.Assign) and _is_none(stmt.value):
        return True
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        it = stmt.iter
        return _is_none(it) or (isinstance(it, ast.Call) and any(map(_is_none, it.args)))
    return False


def not_written_reason(learner, err, code, line):
    """Why an exception raised at ``code``/``line`` means the function is not written yet, or None."""
    if isinstance(err, NotImplementedError):
        msg = str(err).splitlines()[0] if str(err) else ""
        return f"raises NotImplementedError{f' ({msg})' if msg else ''}"
    if not isinstance(err, (TypeError, AttributeError, ValueError)) or "NoneType" not in str(err):
        return None
    node = function_node(learner, code)
    if node is None:
        return None
    stmt = statement_at(node, line)
    p = place(learner, code.co_filename, line)
    if stmt is not None and is_placeholder(stmt) and stmt.lineno == line:
        return f"it still has the starter code's placeholder {p.source}"
    names = placeholder_names(node)
    used = sorted({n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and n.id in names}) if stmt else []
    if used:
        return f"{used[0]} is still None (the starter code's placeholder)"
    return None


def none_outputs_reason(spec, outs, cache_names=("cache", "caches")):
    """Why outputs that are all None (but the cache) mean not written yet, or None."""
    values = {k: v for k, v in outs.items() if k not in cache_names}
    if values and all(v is None for v in values.values()):
        names = list(values)
        if len(names) == 1:
            return f"{names[0]} is still None"
        return f"{', '.join(names[:-1])} and {names[-1]} are still None"
    return None


def stub_reason(learner, fn):
    """"its body is only pass" and the like, for a function that returned None, or a plain "returns None"."""
    code = getattr(fn, "__code__", None)
    node = function_node(learner, code) if code is not None else None
    if node is not None:
        body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        if all(isinstance(s, ast.Pass) for s in body):
            return "its body is only pass"
    return "returns None"


def static_reason(learner, fn, spec):
    """(why ``fn``'s code, read without running it, is still the starter code, the Place to show), or None.

    Only what cannot be finished work: a body of ``pass``, a first statement raising
    NotImplementedError, a placeholder that always raises (``n_x, m = None``, ``for t in None:``),
    or a return whose every value (but the cache) is a name assigned nothing but None.
    """
    code = getattr(fn, "__code__", None)
    node = function_node(learner, code) if code is not None else None
    if node is None:
        return None
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    at = lambda line: place(learner, code.co_filename, line)      # noqa: E731
    if all(isinstance(s, ast.Pass) for s in body):
        return "its body is only pass", at(body[0].lineno if body else node.lineno)
    first = body[0]
    if isinstance(first, ast.Raise) and first.exc is not None:
        exc = first.exc.func if isinstance(first.exc, ast.Call) else first.exc
        if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
            return "raises NotImplementedError", at(first.lineno)
    for sub in sorted(_own_nodes(node), key=lambda s: getattr(s, "lineno", 0)):
        always_raises = ((isinstance(sub, ast.Assign) and _is_none(sub.value)
                          and any(isinstance(t, (ast.Tuple, ast.List)) for t in sub.targets))
                         or (isinstance(sub, (ast.For, ast.AsyncFor)) and is_placeholder(sub)))
        if always_raises:
            return "it still has the starter code's placeholders, which raise", at(sub.lineno)
    returns = [s for s in _own_nodes(node) if isinstance(s, ast.Return) and s.value is not None]
    if not returns:
        return None
    value = max(returns, key=lambda s: s.lineno).value
    names = placeholder_names(node)
    if isinstance(value, ast.Name) and spec.returns_dict:
        assigned = [s for s in _own_nodes(node) if isinstance(s, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == value.id for t in s.targets)]
        if len(assigned) == 1 and isinstance(assigned[0].value, ast.Dict):
            value = assigned[0].value
    if isinstance(value, ast.Dict):
        items = [v for k, v in zip(value.keys, value.values)]
    elif isinstance(value, (ast.Tuple, ast.List)):
        items = [v for k, v in zip(spec.outputs, value.elts) if k not in ("cache", "caches")]
    else:
        items = [value]
    if items and all((isinstance(v, ast.Name) and v.id in names) or _is_none(v) for v in items):
        shown = [v.id for v in items if isinstance(v, ast.Name)]
        if not shown:
            return "returns None", at(value.lineno)
        first_none = min((s.lineno for s in _own_nodes(node) for t in _targets(s)
                          if isinstance(t, ast.Name) and t.id == shown[0]), default=value.lineno)
        return (f"{shown[0]} is still None" if len(shown) == 1
                else f"{', '.join(shown[:-1])} and {shown[-1]} are still None"), at(first_none)
    return None
