"""Reading a learner's file or notebook as they hand it in: definitions first, top-level code noted.

A ``.py`` file or an ``.ipynb`` notebook (read as plain JSON: the code cells in order, IPython's
``%magics`` and ``!commands`` left out) is run one top-level statement at a time, in one
namespace, as Jupyter runs cells. A statement that fails (a test cell calling an unfinished
function, ``from rnn_utils import *`` with no ``rnn_utils.py`` beside it, ``google.colab``) is
a note with its line, and the statements after it still run, so every function definition is
there to be checked. Modules that are not there are remembered with the names their import
would have defined, so that a checked function that needs one can say so in one line.

Python 2 files (cs231n's 2016 template) are converted where that is mechanical
(``python2.py``), with a note; otherwise refused in one line that names ``2to3 -w FILE``.

Where a notebook's line is reported, its place is ``NOTEBOOK.ipynb, cell N`` (N counts every
cell from the top, Markdown cells too) and the line within that cell.
"""

from __future__ import annotations

import __future__ as future_module
import ast
import contextlib
import io
import itertools
import json
import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

from .python2 import convert, python2_signs

_counter = itertools.count()
_MAGIC = re.compile(r"^(\s*)([%!].*|[\w.]+\s*\?\??\s*|[\w.,\s]+=\s*[%!].*)$")
_EXPORTED_CELL = re.compile(r"^# In\[[ \d]*\]:\s*$")
_TRANSPARENT_CELL_MAGICS = ("%%time", "%%timeit", "%%capture", "%%prun")


class CheckInputError(ValueError):
    """Something that cannot be checked at all (a file that is not there, not Python, defines
    none of the functions); the message is one line, ``notes`` what the file's own code said."""

    def __init__(self, message, notes=()):
        super().__init__(message)
        self.notes = list(notes)


@dataclass
class Learner:
    """What was read: the namespace, and where the learner's code lives, for reports."""

    namespace: dict
    label: str = ""                                   # the path as given, or "" for objects
    places: dict = field(default_factory=dict)        # code filename -> (shown place, original lines)
    folders: set = field(default_factory=set)         # helpers in these folders are the learner's too
    notes: list = field(default_factory=list)         # one line each
    missing: dict = field(default_factory=dict)       # module -> (where, names it would define; "*": all)
    trees: dict = field(default_factory=dict)         # code filename -> ast.Module of the code as run
    unbound: set = field(default_factory=set)         # names a failed top-level statement did not bind
    exported: bool = False                            # a notebook downloaded as .py ("# In[3]:" lines)
    ipython_noted: bool = False

    def lines_of(self, filename):
        if filename in self.places:
            return self.places[filename][1]
        import linecache
        return linecache.getlines(filename)

    def place(self, filename):
        """How a code filename is shown: the path, ``NOTEBOOK.ipynb, cell N``, or inside Jupyter
        ``Cell In[N]`` as IPython's own tracebacks say it."""
        if filename in self.places:
            return self.places[filename][0]
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
        number = getattr(getattr(shell, "compile", None), "_filename_map", {}).get(filename)
        return f"Cell In[{number}]" if number is not None else filename

    def is_learners(self, filename):
        if filename in self.places:
            return True
        return bool(filename) and not filename.startswith("<") and str(Path(filename).parent) in self.folders

    def tree(self, filename):
        if filename not in self.trees:
            try:
                self.trees[filename] = ast.parse("".join(self.lines_of(filename)))
            except (SyntaxError, ValueError):
                self.trees[filename] = None
        return self.trees[filename]


def read(path) -> Learner:
    """Run a learner's ``.py`` file or ``.ipynb`` notebook; CheckInputError (one line) if nothing can run."""
    path = Path(path)
    if not path.exists():
        raise CheckInputError(f"{path}: no such file; expected a Python file or a Jupyter notebook defining the "
                      f"functions to check")
    if path.is_dir():
        raise CheckInputError(f"{path}: is a directory; expected a Python file or a Jupyter notebook defining the "
                      f"functions to check")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CheckInputError(f"{path}: not Python (not UTF-8 text); expected a Python file or a Jupyter notebook") from None
    except OSError as err:
        raise CheckInputError(f"{path}: could not be read ({err.strerror}); expected a readable file") from None
    if path.suffix == ".ipynb" or (text.lstrip().startswith("{") and '"cells"' in text[:2000]):
        cells = _notebook_cells(path, text)
    else:
        cells = [(str(path), str(path), text)]
    module = types.ModuleType(f"_bptt_learner_{next(_counter)}")
    module.__file__ = str(path)
    learner = Learner(vars(module), str(path), folders={str(path.resolve().parent), str(path.parent)})
    prepared = [_prepare(path, filename, shown, source, learner) for filename, shown, source in cells]
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)          # a learner's file may import its own helpers beside it
    before = set(sys.modules)
    try:
        for filename, shown, code_text, tree in prepared:
            if tree is not None:
                _run(tree, filename, shown, learner)
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)
        # The helpers it imported from its folder are its own: the next file checked imports its own
        # (another folder's rnn_utils.py, or none), not these from the module cache.
        for name in set(sys.modules) - before:
            file = getattr(sys.modules[name], "__file__", None)
            if file and str(Path(file).resolve().parent) == folder:
                del sys.modules[name]
    return learner


# ----------------------------------------------------------------------------------- notebooks
def _notebook_cells(path, text):
    """[(code filename, shown place, source)] of the code cells, IPython syntax left out."""
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as err:
        raise CheckInputError(f"{path}: not a notebook (invalid JSON at line {err.lineno}: {err.msg}); expected a "
                      f"Jupyter notebook (.ipynb) or a Python file") from None
    if not isinstance(nb, dict):
        raise CheckInputError(f"{path}: not a notebook (JSON without cells); expected a Jupyter notebook (.ipynb)")
    if "cells" in nb:
        cells, key = nb["cells"], "source"
    elif nb.get("worksheets"):                         # nbformat 3
        cells, key = nb["worksheets"][0].get("cells", []), "input"
    else:
        raise CheckInputError(f"{path}: not a notebook (JSON without cells); expected a Jupyter notebook (.ipynb)")
    out = []
    for n, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get(key, "")
        source = "".join(source) if isinstance(source, list) else str(source)
        shown = f"{path}, cell {n}"
        out.append((shown, shown, source))
    return out


def _without_ipython(source):
    """(Python source, a note or None): magics and shell lines become ``pass``, lines kept in place."""
    try:
        ast.parse(source)
        return source, None                    # plain Python: nothing to leave out
    except (SyntaxError, ValueError):
        pass
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].split()[0]
        if magic not in _TRANSPARENT_CELL_MAGICS:
            return None, f"a {magic} cell, not Python: not run"
        lines[0] = ""
    for k, line in enumerate(lines):
        m = _MAGIC.match(line)
        if m and line.strip() and not line.lstrip().startswith("#"):
            lines[k] = m.group(1) + "pass"
    return "\n".join(lines) + "\n", None


# ------------------------------------------------------------------------------- preparation
def _prepare(path, filename, shown, source, learner):
    """(filename, shown, code text, tree of the code to run or None), Python 2 converted."""
    original = source.splitlines(keepends=True)
    learner.places[filename] = (shown, original)
    is_cell = filename != str(path)
    if is_cell:
        source, skipped = _without_ipython(source)
        if source is None:
            learner.notes.append(f"{_cell_prefix(learner, shown)}{skipped}")
            return filename, shown, "", None
    try:
        tree = ast.parse(source, filename)
    except (SyntaxError, ValueError) as err:
        tree = _python2(path, filename, shown, source, err, learner, is_cell)
        if tree is None:
            return filename, shown, source, None
    else:
        if any(isinstance(n, ast.Name) and n.id == "xrange" for n in ast.walk(tree)) and \
                "xrange" not in learner.namespace:
            converted, _ = convert(source)
            tree = ast.parse(converted, filename)
            learner.notes.append(f"{_cell_prefix(learner, shown)}Python 2's xrange read as range to run it; `2to3 -w {path}` "
                                 f"converts the file itself")
    learner.trees[filename] = tree          # the code as run: its lines are the learner's lines
    return filename, shown, source, tree


def _python2(path, filename, shown, source, err, learner, is_cell):
    """The tree of the converted source, or None (a cell's error is a note); else CheckInputError."""
    where = f" at line {err.lineno}" if getattr(err, "lineno", None) else ""
    msg = getattr(err, "msg", None) or str(err)
    signs = python2_signs(source)
    if signs:
        try:
            converted, changed = convert(source)
            tree = ast.parse(converted, filename)
        except (SyntaxError, ValueError, Exception):   # tokenize errors too: not mechanical
            tree = None
        if tree is not None:
            learner.notes.append(f"{_cell_prefix(learner, shown)}Python 2 ({', '.join(changed)}) converted to run it; "
                                 f"`2to3 -w {path}` converts the file itself")
            learner.trees[filename] = tree
            return tree
        raise CheckInputError(f"{path}: Python 2 ({', '.join(signs)}; {type(err).__name__}{where}: {msg}); "
                      f"expected Python 3: convert it with `2to3 -w {path}`, then check it again")
    if is_cell:
        learner.notes.append(f"{_cell_prefix(learner, shown)}not run ({type(err).__name__}{where}: {msg})")
        return None
    raise CheckInputError(f"{path}: not Python ({type(err).__name__}{where}: {msg}); expected a Python file")


# ---------------------------------------------------------------------------------- running
def _future_flags(tree):
    flags = 0
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                feature = getattr(future_module, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
    return flags


def _defines_only(stmt):
    """A statement that only defines (a def, a class, an import, a name bound to a value computed by
    no call): still run after a failure, as the learner's definitions are what is checked."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
        return True
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
        stack = [stmt.value]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Call):
                return False
            if not isinstance(node, ast.Lambda):
                stack.extend(ast.iter_child_nodes(node))
        return True
    return False


def _bound(stmt):
    """The names a top-level statement binds."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names if a.name != "*"}
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _run(tree, filename, shown, learner):
    """Run a cell (or a file) statement by statement. After a statement fails, the rest of the cell
    runs only its definitions, as Jupyter would stop the cell there and Python the file."""
    flags = _future_flags(tree)
    ns = learner.namespace
    unbound = learner.unbound
    failed = False
    # A notebook downloaded as .py keeps its cells as "# In[3]:" lines: each starts afresh, as a cell does.
    cells = [k + 1 for k, line in enumerate(learner.lines_of(filename)) if _EXPORTED_CELL.match(line)]
    learner.exported = learner.exported or bool(cells)
    for stmt in tree.body:
        if cells and cells[0] < stmt.lineno:
            while cells and cells[0] < stmt.lineno:
                cells.pop(0)
            failed = False
        if failed and not _defines_only(stmt):
            continue
        code = compile(ast.Module(body=[stmt], type_ignores=[]), filename, "exec", flags=flags, dont_inherit=True)
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                exec(code, ns)
        except KeyboardInterrupt:
            raise
        except BaseException as err:  # the learner's top-level failure is a note, never the end
            note = _note(stmt, err, filename, shown, learner)
            is_import = isinstance(stmt, (ast.Import, ast.ImportFrom))
            ipython = isinstance(err, NameError) and getattr(err, "name", None) == "get_ipython"
            end = cells[0] if cells else float("inf")
            rest = [s for s in tree.body if stmt.lineno < s.lineno < end and not _defines_only(s)]
            if rest and not failed and not is_import and not ipython:
                block = "cell" if filename != learner.label or learner.exported else "file"
                note += f"; the rest of the {block} was not run, its definitions apart"
            # A NameError for a name an earlier failure did not bind is that failure again: no second note;
            # IPython's lines are said once.
            again = isinstance(err, NameError) and getattr(err, "name", None) in unbound
            if not again and not (ipython and learner.ipython_noted):
                learner.notes.append(note)
            learner.ipython_noted = learner.ipython_noted or ipython
            unbound.update(_bound(stmt))
            failed = failed or not (is_import or ipython)
        else:
            unbound.difference_update(_bound(stmt))


def _note(stmt, err, filename, shown, learner):
    lines = learner.lines_of(filename)
    where = _line_place(learner, filename, stmt.lineno)
    text = lines[stmt.lineno - 1].strip() if stmt.lineno <= len(lines) else ""
    if isinstance(err, ImportError) and isinstance(stmt, (ast.Import, ast.ImportFrom)):
        module = _failed_module(stmt, err)
        if isinstance(stmt, ast.ImportFrom) and isinstance(err, ModuleNotFoundError):
            names = tuple(a.asname or a.name for a in stmt.names)
        elif isinstance(stmt, ast.Import):
            names = tuple((a.asname or a.name).split(".")[0] for a in stmt.names)
        else:
            names = ()
        if isinstance(err, ModuleNotFoundError):
            learner.missing[module] = (where, names, text)
            return f"{where}: module {module} is not there ({text})"
        return f"{where}: {text} failed: {_message(err)}"
    if isinstance(err, NameError) and getattr(err, "name", None) == "get_ipython":
        return f"{where}: IPython's get_ipython() exists only inside Jupyter: its lines were not run ({text})"
    if isinstance(err, SystemExit):
        return f"{where}: the file called exit ({text}): the statements after it ran all the same"
    if isinstance(err, NameError) and getattr(err, "name", None):
        star = [m for m, (_, names, _) in learner.missing.items() if "*" in names]
        if star and err.name not in learner.namespace:
            return f"{where}: {text} raised {_message(err)} ({star[0]}, which is not there, probably defines it)"
    inner = ""
    tb = err.__traceback__
    deepest = None
    while tb is not None:
        if learner.is_learners(tb.tb_frame.f_code.co_filename):
            deepest = tb
        tb = tb.tb_next
    if deepest is not None and deepest.tb_frame.f_code.co_name != "<module>":
        f = deepest.tb_frame.f_code
        inner = f" (in {f.co_name}, {_line_place(learner, f.co_filename, deepest.tb_lineno)})"
    return f"{where}: {text} raised {_message(err)}{inner}"


def _cell_prefix(learner, shown):
    """"" for the file itself, "cell 4: " for a notebook's cell."""
    if shown == learner.label:
        return ""
    return (shown[len(learner.label) + 2:] if shown.startswith(learner.label + ", ") else shown) + ": "


def _line_place(learner, filename, line):
    """``line 12``; in a notebook ``cell 4, line 2``; in another file ``helpers.py, line 3``."""
    shown = learner.place(filename)
    if shown == learner.label:
        return f"line {line}"
    if learner.label and shown.startswith(learner.label + ", "):
        shown = shown[len(learner.label) + 2:]
    return f"{shown}, line {line}"


def _failed_module(stmt, err):
    if isinstance(stmt, ast.ImportFrom):
        return "." * stmt.level + (stmt.module or "")
    wanted = [a.name for a in stmt.names]
    name = getattr(err, "name", None)
    return next((w for w in wanted if name and (w == name or w.startswith(name + "."))), wanted[0])


def _message(err):
    msg = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {msg}" if msg else type(err).__name__
