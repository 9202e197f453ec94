"""The ``bptt`` command line: parse, call the library, print. Bad input exits 2 with one line;
a failing disk (a save that could not be written) exits 1 with one line.

Each command is a module here with ``add(subparsers)``; ``run(args)`` returns the exit code.
"""

from __future__ import annotations

import importlib

from .. import __version__
from ..nn.cells import kernels
from ._args import Parser, UsageError
from ._output import error_line

COMMANDS = ("train", "sample", "gradcheck", "diagnose", "explain", "check", "export", "task")


def build_parser():
    parser = Parser(prog="bptt", description="The simple RNN and back-propagation through time, "
                                             "hand-written in NumPy.")
    parser.add_argument("--version", action="version", version=f"bptt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMANDS:
        importlib.import_module(f".{name}", __name__).add(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        kernels()            # BPTT_KERNELS read before any work: a bad value stops the command before it starts
        return args.run(args)
    except (UsageError, ValueError, FileNotFoundError, IsADirectoryError, NotADirectoryError,
            PermissionError) as err:
        error_line(f"bptt: error: {err}")
        return 2
    except OSError as err:   # disk full, folder gone read-only: not the user's input, still one line
        error_line(f"bptt: error: {err}")
        return 1
    except KeyboardInterrupt:
        error_line("bptt: interrupted")
        return 130
