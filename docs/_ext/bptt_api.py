"""The API reference, written from ``bptt.__all__``: every public name under ``bptt.``.

``.. bptt-api:: NAME NAME ...`` documents those names of ``bptt.__all__`` (as ``bptt.NAME``,
the way users import them, never under the module that defines them); ``.. bptt-api::`` with no
names documents every name of ``bptt.__all__`` that no earlier directive on the page took, so a
name added to ``__all__`` later appears in the reference without anyone editing it. A name that
is not in ``bptt.__all__`` is an error.

Event handlers make the reference read as the public API does: a class's bases and the types
in signatures are shown by their public names (``bptt.Network``, not ``bptt.network.Network``);
a reference to a type that bptt keeps private (the internal class of a field) is shown unlinked
instead of warning; and an indented block in a docstring (bptt's docstrings set equations off
that way) is shown as written.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import types

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles


def public_names() -> list[str]:
    import bptt
    return list(bptt.__all__)


def module_members(module: types.ModuleType) -> list[str]:
    """The public functions and classes of a module listed in ``bptt.__all__``: its ``__all__``,
    or else the names it defines (in its own module or a submodule of it), less those that
    ``bptt`` itself exports (``bptt.data.Vocab`` is documented once, as ``bptt.Vocab``)."""
    import bptt
    top = {id(getattr(bptt, n)) for n in bptt.__all__}
    if hasattr(module, "__all__"):
        names = list(module.__all__)
    else:
        names = [name for name, obj in vars(module).items()
                 if not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
                 and (obj.__module__ or "").startswith(module.__name__)]
    return [n for n in names if id(getattr(module, n)) not in top]


def directives_for(name: str) -> list[str]:
    """The reStructuredText of the autodoc directives that document ``bptt.<name>``."""
    import bptt
    obj = getattr(bptt, name)
    full = f"bptt.{name}"
    if isinstance(obj, types.ModuleType):
        # Documented as bptt.<name>, whatever file holds it. A module re-exported from a
        # subpackage is not importable under that name: give autodoc the object it means.
        try:
            importlib.import_module(full)
        except ImportError:
            sys.modules[full] = obj
        members = module_members(obj)
        lines = [f".. automodule:: {full}"]
        if members:
            lines.append(f"   :members: {', '.join(members)}")
        return lines + [""]
    if inspect.isclass(obj):
        bases = [b for b in obj.__bases__ if b is not object]
        return [f".. autoclass:: {full}", "   :members:", *(["   :show-inheritance:"] if bases else []), ""]
    if callable(obj):
        return [f".. autofunction:: {full}", ""]
    return [f".. autodata:: {full}", ""]


class BpttApi(SphinxDirective):
    optional_arguments = 1
    final_argument_whitespace = True
    has_content = False

    def run(self):
        names = public_names()
        taken = self.env.temp_data.setdefault("bptt_api_taken", set())
        if self.arguments:
            wanted = self.arguments[0].split()
            unknown = [n for n in wanted if n not in names]
            if unknown:
                raise self.error(f"bptt-api: expected names of bptt.__all__, got {', '.join(unknown)}")
        else:
            wanted = [n for n in names if n not in taken]
        taken.update(wanted)
        rst = StringList()
        for name in wanted:
            for line in directives_for(name):
                rst.append(line, "<bptt-api>")
        box = nodes.container()
        nested_parse_with_titles(self.state, rst, box)
        return box.children


def reference_text() -> str:
    """What the reference page documents, in order: for tests/test_docs.py."""
    return "\n".join(line for name in public_names() for line in directives_for(name))


def _public_name(obj) -> str | None:
    import bptt
    for name in bptt.__all__:
        if getattr(bptt, name, None) is obj:
            return f"bptt.{name}"
    return None


def _resolve(target: str):
    """The object a Python reference target names, looked up in bptt's modules; None if none."""
    parts = target.split(".")
    if parts[0] == "bptt":
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            try:
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                return None
            return obj
        return None
    if len(parts) == 1:   # a bare name from a string annotation: "Finding | None"
        for modname, module in list(sys.modules.items()):
            if (modname == "bptt" or modname.startswith("bptt.")) and hasattr(module, target):
                obj = getattr(module, target)
                if inspect.isclass(obj):
                    return obj
    return None


def missing_reference(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    obj = _resolve(target)
    if obj is None:
        return None                       # a reference to nothing: Sphinx warns, the build fails
    public = _public_name(obj)
    if public and public != target:
        node["reftarget"] = public
        py = env.get_domain("py")
        return py.resolve_xref(env, node["refdoc"], app.builder, node.get("reftype", "class"),
                               public, node, contnode)
    if public is None:
        return contnode                   # a type bptt keeps private: shown, not linked
    return None


def process_bases(app, name, obj, options, bases):
    for i, base in enumerate(bases):
        public = _public_name(base)
        if public:
            bases[i] = f":py:class:`{public}`"      # a string is used as written


def keep_indented_blocks(app, what, name, obj, options, lines):
    """An indented block after a paragraph (equations, a table of names) is shown as written.

    bptt's docstrings set equations off by indenting them, as plain text reads; reStructuredText
    would join their lines into one quoted paragraph. A lone ``::`` before such a block (which
    renders as nothing) makes it a literal block. Field lists, directives, lists and doctests,
    whose bodies are indented too, are left alone.
    """
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if (line.strip() == "" and out and i + 1 < len(lines) and _indent(lines[i + 1]) > _indent(_last(out))
                and lines[i + 1].strip() and not lines[i + 1].lstrip().startswith(">>>")
                and not _last(out).rstrip().endswith("::")
                and not re.match(r"\s*(:|\.\. |[-*+] |\d+\. )", _block_head(out))):
            out += ["", "::"]
        out.append(line)
        i += 1
    lines[:] = out


def _indent(line):
    return len(line) - len(line.lstrip())


def _last(out):
    return next((l for l in reversed(out) if l.strip()), "")


def _block_head(out):
    """The first line of the paragraph (or field, directive, list item) that ``out`` ends in."""
    head = ""
    for line in reversed(out):
        if not line.strip():
            break
        head = line
    return head


def setup(app):
    app.add_directive("bptt-api", BpttApi)
    app.connect("missing-reference", missing_reference)
    app.connect("autodoc-process-bases", process_bases)
    app.connect("autodoc-process-docstring", keep_indented_blocks, priority=600)   # after napoleon
    return {"parallel_read_safe": True, "parallel_write_safe": True}
