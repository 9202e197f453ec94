"""The CLI reference, written from ``bptt.cli.build_parser()``: every command and option.

``.. bptt-cli::`` makes one section per command (``bptt train``, ...), in the parser's order,
labelled ``cli-<command>`` (``cli-bptt`` for the command itself), with its usage line, its description and one ``.. option::`` per argument holding the help
that ``bptt COMMAND --help`` prints, the default included (the project's HelpFormatter appends
it). Options can then be linked from the guides: ``{option}`bptt train --resume```.

argparse has no public way to list a parser's arguments; like every tool that documents
argparse parsers, this reads ``parser._actions`` (in the docs only, never in the package).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles


@dataclass
class Option:
    signature: str      # "--cell {rnn,lstm,gru}", "-h, --help" or "FILE"
    help: str           # as --help prints it, with its default


@dataclass
class Command:
    name: str           # "train"
    summary: str        # the one line `bptt --help` gives it
    usage: str
    description: str
    options: list


def _help(parser, action) -> str:
    # What --help prints for this argument: the formatter adds the default and fills %(default)s.
    formatter = parser.formatter_class(prog=parser.prog)
    return " ".join(formatter._expand_help(action).split()) if action.help else ""


def _signature(parser, action) -> str:
    if not action.option_strings:
        return action.metavar or action.dest
    if action.nargs == 0:
        return ", ".join(action.option_strings)
    formatter = parser.formatter_class(prog=parser.prog)
    args = formatter._format_args(action, action.dest.upper())
    return ", ".join(f"{s} {args}" for s in action.option_strings)


def _options(parser) -> list[Option]:
    return [Option(_signature(parser, a), _help(parser, a)) for a in parser._actions
            if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))]


def commands() -> tuple[Command, list[Command]]:
    """The ``bptt`` command itself and each of its subcommands, in the parser's order."""
    from bptt.cli import build_parser
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "72"      # argparse wraps usage lines to the terminal: the same page everywhere
    try:
        return _commands(build_parser())
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns


def _commands(top):
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    summaries = {a.dest: a.help or "" for a in sub._choices_actions}
    main = Command("bptt", top.description or "", top.format_usage().strip(), "", _options(top))
    return main, [Command(name, summaries.get(name, ""), p.format_usage().strip(), p.description or "",
                          _options(p)) for name, p in sub.choices.items()]


def reference_text() -> str:
    """Everything the page shows, as text: for tests/test_docs.py."""
    main, subs = commands()
    return "\n".join(f"{c.name}\n{c.summary}\n{c.usage}\n{c.description}\n"
                     + "\n".join(f"{o.signature}\n{o.help}" for o in c.options) for c in [main, *subs])


class BpttCli(SphinxDirective):
    has_content = False

    def run(self):
        main, subs = commands()
        texts: list[str] = []            # free text goes in as text nodes, never parsed as reST

        def text(s):
            texts.append(s)
            return f"BPTTCLITEXT{len(texts) - 1}"

        rst = []
        for c in [main, *subs]:
            program = "bptt" if c is main else f"bptt {c.name}"
            title = program
            rst += [f".. _cli-{c.name}:", "", title, "-" * len(title), "", f".. program:: {program}", ""]
            rst += [text(c.summary[:1].upper() + c.summary[1:].rstrip(".") + "."), ""]
            rst += ["::", "", *("   " + line for line in c.usage.splitlines()), ""]
            if c.description:
                rst += [text(c.description), ""]
            for o in c.options:
                rst += [f".. option:: {o.signature}", "", f"   {text(o.help or '-')}", ""]
        box = nodes.container()
        nested_parse_with_titles(self.state, StringList(rst, "<bptt-cli>"), box)
        for para in list(box.findall(nodes.paragraph)):
            marker = para.astext()
            if marker.startswith("BPTTCLITEXT"):
                para.clear()
                para += nodes.Text(texts[int(marker[len("BPTTCLITEXT"):])])
        return box.children


def setup(app):
    app.add_directive("bptt-cli", BpttCli)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
