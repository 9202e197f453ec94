"""What every command prints, made to survive where it is read.

On a terminal: rich tables, panels and a live progress bar. Anywhere else (a pipe, a log file,
CI): plain whole lines, never wrapped, cut or shortened with "…", no live bar, only an
occasional progress line; a path or a number is never broken. A reader that goes away early
(``| head -1``, quitting ``less``, a closed terminal) does not stop the command: what is left to
print is dropped and the work goes on.
"""

from __future__ import annotations

import errno
import os
import sys
import time
from datetime import timedelta

# A write that fails with one of these means nobody is reading any more (a closed pipe, a hung-up
# terminal): the command goes on without its reader, silently. Any other failure is said once.
_GONE = (errno.EPIPE, errno.EIO, errno.ENXIO)


class Output:
    """One command's standard output. ``terminal=None``: decided by ``stream.isatty()``."""

    def __init__(self, stream=None, *, terminal: bool | None = None):
        self.stream = sys.stdout if stream is None else stream
        if terminal is None:
            try:
                terminal = self.stream.isatty()
            except (AttributeError, ValueError, OSError):
                terminal = False
        self.terminal = terminal
        self.gone = False
        self.console = _rich_console(self) if terminal else None

    # ---- writing -------------------------------------------------------------------------
    def line(self, text: str = ""):
        """One line as it is: a terminal may wrap it on screen, nothing inserts a newline into it."""
        if self.console is not None:
            self._rich(text, markup=False, highlight=False, soft_wrap=True)
        else:
            self._write(f"{text}\n")

    def show(self, obj):
        """An object with both faces (``__rich__`` for a terminal, ``__str__`` in whole lines elsewhere)."""
        if self.console is not None:
            self._rich(obj)
        else:
            for text in str(obj).splitlines():
                self.line(text)

    def panel(self, title: str, text: str):
        """A block of text (a generated sample): boxed on a terminal, between marker lines elsewhere."""
        if self.console is not None:
            from rich.panel import Panel
            from rich.text import Text
            self._rich(Panel(Text(text), title=title, expand=False))
        else:
            self._write(f"--- {title}\n{text}\n---\n")

    def fields(self, title: str, pairs):
        """Named values (a summary): a two-column table on a terminal, ``name: value`` lines elsewhere."""
        pairs = [(str(k), str(v)) for k, v in pairs]
        if self.console is not None and self._fits([[k, v] for k, v in pairs], 2):
            from rich.table import Table
            table = Table(title=title)
            table.add_column("", no_wrap=True)
            table.add_column("value", justify="right", no_wrap=True)
            for k, v in pairs:
                table.add_row(k, v)
            self._rich(table)
        else:
            self.line(title)
            for k, v in pairs:
                self.line(f"  {k}: {v}")

    def table(self, title: str, columns, rows, *, right=(), styles=None):
        """A table of strings. right: the columns justified right. styles: a rich style per row.

        A terminal too narrow for every cell whole gets the plain layout too, never a cut cell.
        """
        rows = [[str(c) for c in r] for r in rows]
        if self.console is not None and self._fits([list(columns)] + rows, len(columns)):
            from rich.table import Table
            table = Table(title=title)
            for col in columns:
                table.add_column(col, justify="right" if col in right else "left", no_wrap=True)
            for i, r in enumerate(rows):
                table.add_row(*r, style=(styles[i] if styles else None))
            self._rich(table)
            return
        widths = [max(len(str(r[j])) for r in [columns] + rows) for j in range(len(columns))]

        def fmt(r):
            cells = [str(c).rjust(w) if col in right else str(c).ljust(w)
                     for c, w, col in zip(r, widths, columns)]
            return "  ".join(cells).rstrip()
        for text in title.splitlines():
            self.line(text)
        self.line(fmt(columns))
        for r in rows:
            self.line(fmt(r))

    def progress(self, label: str, total: int, start: int = 0, *, every: float | None = 30.0,
                 tenths: bool = True):
        """A live bar on a terminal; elsewhere a plain line at each tenth of the work (unless not
        ``tenths``), every ``every`` seconds between them (None: never), and at each
        ``update(done, stats, line=True)``. ``update(done, stats)``; use as a context manager."""
        if self.console is not None:
            return _LiveBar(self, label, total, start)
        return _PlainProgress(self, label, total, start, every, tenths)

    # ---- the machinery -------------------------------------------------------------------
    def _fits(self, rows, n_cols) -> bool:
        widths = [max(len(r[j]) for r in rows) for j in range(n_cols)]
        return sum(widths) + 3 * n_cols + 1 <= self.console.width

    def _rich(self, *objects, **options):
        if self.gone:
            return
        try:
            self.console.print(*objects, **options)
        except OSError as err:
            self._reader_gone(err)

    def _write(self, text: str):
        if self.gone:
            return
        try:
            self.stream.write(text)
            self.stream.flush()   # a log read with tail -f sees each line when it is made
        except OSError as err:
            self._reader_gone(err)

    def _reader_gone(self, err: OSError | None = None):
        if err is not None and not isinstance(err, BrokenPipeError) and err.errno not in _GONE:
            # A log file on a full disk, say: the work still matters more than its log. Said once.
            error_line(f"bptt: standard output: could not write ({err.strerror or err}); "
                       f"going on without it")
        self.gone = True
        if self.console is not None:
            self.console.quiet = True
        # Python flushes stdout at exit: pointed at /dev/null, that flush cannot fail either.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass


def error_line(text: str):
    """One line on stderr; a stderr nobody reads (a closed terminal) is no reason to fail."""
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _rich_console(output: Output):
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self):   # rich's default exits with 1; the work is worth more than the reader
            output._reader_gone()

    return _Console(file=output.stream)


def _clock(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "-"
    return str(timedelta(seconds=int(round(seconds))))


class _LiveBar:
    def __init__(self, output: Output, label, total, start):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)
        from rich.table import Column
        self.output = output

        def whole(width):   # a count or a time is shown whole or the bar gives way, never "31…"
            return Column(no_wrap=True, min_width=width)
        # Counts and times first, the stats last: a narrow terminal crops the end of the stats only.
        self.bar = Progress(TextColumn(f"[bold]{label}", table_column=whole(len(label))),
                            BarColumn(bar_width=20), MofNCompleteColumn(table_column=whole(2 * len(str(total)) + 1)),
                            TimeElapsedColumn(table_column=whole(7)), TextColumn("left", table_column=whole(4)),
                            TimeRemainingColumn(table_column=whole(7)),
                            TextColumn("{task.fields[stats]}", table_column=Column(no_wrap=True, overflow="crop")),
                            console=output.console, refresh_per_second=4)
        self.task = self.bar.add_task(label, total=total, completed=start, stats="")

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        try:
            self.bar.__exit__(*exc)
        except OSError as err:
            self.output._reader_gone(err)

    def update(self, done, stats=None, *, line=False):
        fields = {} if stats is None else {"stats": stats}
        self.bar.update(self.task, completed=done, **fields)


class _PlainProgress:
    def __init__(self, output: Output, label, total, start, every, tenths=True):
        self.output, self.label, self.total, self.start, self.every = output, label, total, start, every
        self.t0 = time.perf_counter()
        self.last_time = self.t0
        tenth = max(1, (total - start) // 10)
        self.next_mark = start + tenth if tenths else float("inf")
        self.tenth = tenth
        self.stats = ""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def update(self, done, stats=None, *, line=False):
        if stats is not None:
            self.stats = stats
        now = time.perf_counter()
        due = (done >= self.next_mark or (self.every is not None and now - self.last_time >= self.every)
               or (done >= self.total and self.next_mark != float("inf")))
        if not (line or due):
            return
        while self.next_mark <= done:
            self.next_mark += self.tenth
        self.last_time = now
        elapsed = now - self.t0
        rate = (done - self.start) / elapsed if elapsed > 0 else 0.0
        left = (self.total - done) / rate if rate > 0 else float("nan")
        stats = f"  {self.stats}" if self.stats else ""
        self.output.line(f"{self.label} {done}/{self.total}{stats}  elapsed {_clock(elapsed)}  left {_clock(left)}")
