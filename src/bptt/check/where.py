"""Where in the learner's code: the frame that raised, the line that computes a quantity, what calls what.

The learner's frames are those whose code lives in their file or notebook (or in a file beside
it, a helper of their own); the deepest such frame of a traceback is where their code raised,
also when the checked function called a helper that raised. A returned quantity's line is the
last assignment to the name the function returns in that position (``dWh += dWh_t``), found in
the function's syntax tree.
"""

from __future__ import annotations

import ast
import dis
import types
from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    file: str             # the learner's file as shown: a path, or "NOTEBOOK.ipynb, cell N"
    line: int
    source: str           # that line, stripped

    def words(self, label=""):
        where = f"line {self.line}" if self.file == label else f"{self.file}, line {self.line}"
        return f"{where}: {self.source}" if self.source else where


def place(learner, filename, line) -> Place:
    lines = learner.lines_of(filename)
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return Place(learner.place(filename), line, text)


def learner_frames(learner, tb) -> list:
    """[(code, line)] of the traceback's frames in the learner's files, outermost first."""
    out = []
    while tb is not None:
        code = tb.tb_frame.f_code
        if learner.is_learners(code.co_filename):
            out.append((code, tb.tb_lineno))
        tb = tb.tb_next
    return out


def function_node(learner, code):
    """The ast.FunctionDef of a code object (by name and first line), or None."""
    tree = learner.tree(code.co_filename)
    if tree is None:
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == code.co_name:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            if code.co_firstlineno in (node.lineno, first):
                return node
    return None


def def_place(learner, fn):
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    return place(learner, code.co_filename, code.co_firstlineno)


def statement_at(node, line):
    """The innermost statement of ``node`` spanning ``line``."""
    best = None
    for sub in ast.walk(node):
        if isinstance(sub, ast.stmt) and sub is not node and sub.lineno <= line <= (sub.end_lineno or sub.lineno):
            if best is None or (sub.lineno >= best.lineno and (sub.end_lineno or 0) <= (best.end_lineno or 0)):
                best = sub
    return best


def _own_nodes(node):
    """The nodes of a function's body, not those of functions defined inside it."""
    stack = list(node.body)
    while stack:
        sub = stack.pop()
        yield sub
        for child in ast.iter_child_nodes(sub):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                stack.append(child)


def _root(target):
    """(name, first key or None) of ``x``, ``x[...]``, ``x["k"][...]``, ``x.attr``."""
    key = None
    while isinstance(target, (ast.Subscript, ast.Attribute, ast.Starred)):
        if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
            key = target.slice.value
        target = target.value
    return (target.id, key) if isinstance(target, ast.Name) else (None, None)


def _targets(stmt):
    if isinstance(stmt, ast.Assign):
        out = []
        for t in stmt.targets:
            out.extend(t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t])
        return out
    if isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
        return [stmt.target]
    return []


def assignments(node, name, key=None):
    """The statements of ``node`` that assign ``name`` (or ``name[key]...``), in line order."""
    found = []
    for sub in _own_nodes(node):
        for target in _targets(sub):
            root, k = _root(target)
            if root == name and (key is None or k == key):
                found.append(sub)
    return sorted(found, key=lambda s: s.lineno)


def quantity_line(learner, fn, spec, quantity):
    """The line of ``fn`` that computes its output ``quantity`` (the last assignment to it), or None."""
    code = getattr(fn, "__code__", None)
    if code is None or quantity not in spec.outputs:
        return None
    node = function_node(learner, code)
    if node is None:
        return None
    returns = [s for s in _own_nodes(node) if isinstance(s, ast.Return) and s.value is not None]
    if not returns:
        return None
    ret = max(returns, key=lambda s: s.lineno)
    index = spec.outputs.index(quantity)
    expr = ret.value
    if isinstance(expr, (ast.Tuple, ast.List)) and not spec.returns_dict:
        if len(expr.elts) != len(spec.outputs):
            return place(learner, code.co_filename, ret.lineno)
        expr = expr.elts[index]
    for _ in range(4):            # follow names and dict literals back to the line that computes the value
        if spec.returns_dict and isinstance(expr, ast.Dict):
            hit = [v for k, v in zip(expr.keys, expr.values) if isinstance(k, ast.Constant) and k.value == quantity]
            if not hit:
                break
            expr = hit[0]
            continue
        if isinstance(expr, ast.Name):
            key = quantity if spec.returns_dict else None
            found = assignments(node, expr.id, key) if key else []
            found = found or assignments(node, expr.id)
            if not found:
                break
            last = found[-1]
            if spec.returns_dict and isinstance(getattr(last, "value", None), ast.Dict):
                expr = last.value
                continue
            return place(learner, code.co_filename, last.lineno)
        break
    return place(learner, code.co_filename, getattr(expr, "lineno", ret.lineno))


def calls(fn) -> set:
    """The global names ``fn``'s code reads (its nested functions' and comprehensions' too)."""
    code = getattr(fn, "__code__", None)
    out, stack = set(), [code] if code is not None else []
    while stack:
        c = stack.pop()
        out.update(i.argval for i in dis.get_instructions(c) if i.opname in ("LOAD_GLOBAL", "LOAD_NAME"))
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return out


def assignment_of(node, value_name):
    """The first statement of ``node`` storing the name ``value_name`` into a subscript (``h[:, -1] = h0``)."""
    for sub in sorted(_own_nodes(node), key=lambda s: getattr(s, "lineno", 0)):
        if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Name) and sub.value.id == value_name:
            if any(isinstance(t, ast.Subscript) for t in sub.targets):
                return sub
    return None
