"""The documentation: every Python example on its pages runs, and the reference covers the code.

Each ```python (or ```{code-block} python) block of docs/*.md and README.md runs, the blocks of a
page in order in one namespace, in a temporary folder. A MyST comment on the line before a block
marks what it needs: ``% test: needs torch`` (skipped without torch), ``% test: skip (why)``
(never run here: a GPU, a trained run). docs/tutorial.md is the notebook's export, which
tests/test_tutorial.py executes.

The reference pages are written at build time from ``bptt.__all__`` and ``bptt.cli.build_parser()``
(docs/_ext); the tests read what those extensions write, so a name or a flag the reference would
miss fails here without building the site.
"""

from __future__ import annotations

import argparse
import importlib.util
import linecache
import re
import sys
from pathlib import Path

import pytest

import bptt

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.glob("*.md") if p.name != "tutorial.md") + [ROOT / "README.md"]

FENCE = re.compile(r"^(`{3,})\s*(?:python|\{code-block\}\s+python)\s*$")
MARK = re.compile(r"^%\s*test:\s*(.*)$")


def examples(page: Path) -> list[tuple[int, str, str]]:
    """(line, marker, code) of each Python block of a Markdown page, in order."""
    lines = page.read_text().splitlines()
    found, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i].strip())
        if not m:
            i += 1
            continue
        mark = MARK.match(lines[i - 1].strip()) if i else None
        start, body = i + 1, []
        i += 1
        while i < len(lines) and lines[i].strip() != m[1]:
            body.append(lines[i])
            i += 1
        while body and body[0].startswith(":"):          # {code-block} options
            body.pop(0)
        found.append((start, mark[1].strip() if mark else "", "\n".join(body) + "\n"))
        i += 1
    return found


def has_torch() -> bool:
    return importlib.util.find_spec("torch") is not None


@pytest.mark.parametrize("page", [p for p in PAGES if examples(p)], ids=lambda p: p.name)
def test_the_examples_on_a_page_run(page, tmp_path, monkeypatch):
    blocks = examples(page)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    ran = 0
    for line, mark, code in blocks:
        if mark.startswith("skip"):
            continue
        if mark == "needs torch" and not has_torch():
            continue
        assert mark in ("", "needs torch"), f"{page.name}:{line}: unknown marker '% test: {mark}'"
        name = f"<{page.relative_to(ROOT)}, the block at line {line}>"
        linecache.cache[name] = (len(code), None, code.splitlines(True), name)   # tracebacks show the code
        exec(compile(code, name, "exec"), namespace)
        ran += 1
    if not ran:
        pytest.skip("every example on the page needs something absent here")


def test_the_markers_are_read():
    # A marker the runner does not know would silently run or skip a block: say what was found.
    marks = {mark for page in PAGES for _, mark, _ in examples(page)}
    assert marks <= {"", "needs torch"} | {m for m in marks if m.startswith("skip")}
    assert any(examples(page) for page in PAGES)


def load_extension(name):
    spec = importlib.util.spec_from_file_location(name, DOCS / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


def test_the_api_reference_documents_every_public_name_under_bptt():
    text = load_extension("bptt_api").reference_text()
    documented = re.findall(r"^\.\. auto\w+:: (\S+)$", text, flags=re.M)
    assert documented == [f"bptt.{name}" for name in bptt.__all__]


def test_the_api_page_takes_every_name_it_lists_from_bptt_all():
    # The page's groups name names; the last directive takes the rest. A group may only name
    # names of bptt.__all__ (the directive raises otherwise); here, without building: the names
    # on the page are all public, and the catch-all directive is there.
    page = (DOCS / "api.rst").read_text()
    groups = re.findall(r"^\.\. bptt-api::(.*)$", page, flags=re.M)
    named = [n for g in groups for n in g.split()]
    assert set(named) <= set(bptt.__all__)
    assert len(named) == len(set(named))
    assert groups[-1].strip() == "", "the last bptt-api directive documents what no group took"


def test_the_cli_reference_has_every_command_and_option_with_its_help():
    from bptt.cli import build_parser
    main, commands = load_extension("bptt_cli").commands()
    top = build_parser()
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    assert [c.name for c in commands] == list(sub.choices) and commands
    for command in commands:
        parser = sub.choices[command.name]
        shown = {o.signature.split()[0].rstrip(","): o for o in command.options}
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            key = action.option_strings[0] if action.option_strings else (action.metavar or action.dest)
            assert key in shown, f"bptt {command.name} {key} is missing from the CLI reference"
            if action.help:
                help_shown = shown[key].help
                assert " ".join(action.help.split()[:3]).split("%")[0] in help_shown, (command.name, key)
                assert "default" in help_shown or action.nargs == 0 or action.required or \
                    action.default is None or not action.option_strings, (command.name, key, help_shown)
    train = {o.signature.split()[0]: o.help for o in commands[0].options}
    assert train["--hidden"].endswith("(default 128)") and train["--quiet"].endswith("(default: off)")
