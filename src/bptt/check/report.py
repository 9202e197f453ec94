"""What ``bptt.check`` returns: every function found, with its status, the first departure, the notes.

Shown as a rich table in a terminal, as plain whole lines in a pipe or log, as HTML in Jupyter
(``_repr_html_``), and as one JSON object (``to_json``, the same for a refusal) of this shape::

    {"passed":     true | false,
     "convention": "bptt" | "cs231n" | "dlai" | null,
     "functions":  [{"function":  the learner's function name,
                     "status":    "ok" | "departs" | "not written" | "skipped",
                     "direction": "forward" | "backward" | null,
                     "quantity":  the learner's name of what departs ("dprev_h", "exception", ...) | null,
                     "step":      the step as the learner's loop counts it, from 0 | null,
                     "B":         the batch size of the case that showed it | null,
                     "T":         its number of steps (null for a one-step function) | null,
                     "reason":    what is wrong, in one line | null,
                     "hint":      how to put it right, the book's equation beside | null,
                     "file":      the learner's file, or "NOTEBOOK.ipynb, cell N" | null,
                     "line":      the line: where it raised, computes the quantity, or is defined | null,
                     "source":    that line's text | null}, ...],
     "first":      the first entry whose status is "departs", in the convention's order | null,
     "notes":      ["cell 3, line 1: module rnn_utils is not there (from rnn_utils import *)", ...],
     "error":      null, or for a refusal the one line that says why (then "functions" is [])}

``passed`` is true when every function found is "ok". The command exits 0 when passed, 1 when
something departs or is not written or skipped, 2 for a refusal.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

STATUSES = ("ok", "departs", "not written", "skipped")
FIELDS = ("function", "status", "direction", "quantity", "step", "B", "T", "reason", "hint", "file", "line", "source")


@dataclass(frozen=True)
class Finding:
    """One function's verdict; for "departs", where it first departs and why.

    step: the learner's 0-based step (the book's step is step + 1), None where the departure
    is not tied to a step (a one-step function, a whole-sequence sum); B, T: the case that showed
    it (T None for a one-step function); max_abs_error: the largest absolute difference in
    ``quantity`` (None when the function raised or returned the wrong kind of value).
    """

    function: str
    status: str
    direction: str | None = None
    quantity: str | None = None
    step: int | None = None
    B: int | None = None
    T: int | None = None
    reason: str | None = None
    hint: str | None = None
    file: str | None = None
    line: int | None = None
    source: str | None = None
    max_abs_error: float | None = None

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in FIELDS}

    def where(self) -> str:
        """``rnn_backward (backward): dx at t = 4 (book: step 5) off by 0.31 (T=5, B=3)``."""
        step = f" at t = {self.step} (book: step {self.step + 1})" if self.step is not None else ""
        err = "" if self.max_abs_error is None else f" off by {self.max_abs_error:.3g}"
        case = ", ".join(f"{k}={v}" for k, v in (("T", self.T), ("B", self.B)) if v is not None)
        return f"{self.function} ({self.direction}): {self.quantity}{step}{err}{f' ({case})' if case else ''}"

    def line_words(self, label="") -> str:
        """``line 12: dx = ...``; in a notebook ``cell 4, line 2: ...``, the notebook being ``label``."""
        if self.line is None:
            return ""
        file = self.file or ""
        if label and file.startswith(label + ", "):
            file = file[len(label) + 2:]
        where = f"line {self.line}" if file == label else f"{file}, line {self.line}"
        return f"{where}: {self.source}" if self.source else where


@dataclass(frozen=True)
class CheckReport:
    passed: bool
    convention: str | None
    functions: list = field(default_factory=list)
    first: Finding | None = None
    notes: list = field(default_factory=list)
    error: str | None = None
    source: str = ""              # the file or notebook checked, "" for objects

    @property
    def checked(self) -> list:
        """The functions that were run to a verdict (all but the skipped ones)."""
        return [f.function for f in self.functions if f.status != "skipped"]

    def status(self, function) -> str | None:
        return next((f.status for f in self.functions if f.function == function), None)

    def finding(self, function) -> Finding | None:
        return next((f for f in self.functions if f.function == function), None)

    def to_dict(self) -> dict:
        return {"passed": self.passed, "convention": self.convention,
                "functions": [f.to_dict() for f in self.functions],
                "first": None if self.first is None else self.first.to_dict(),
                "notes": list(self.notes), "error": self.error}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    # ------------------------------------------------------------------------------ views
    def _summary(self) -> str:
        if self.error is not None:
            return f"nothing checked: {self.error}"
        counts = {s: sum(f.status == s for f in self.functions) for s in STATUSES}
        n = len(self.functions)
        if self.passed:
            return f"passed: {n} function{'s' * (n != 1)} agree{'s' * (n == 1)} with the reference"
        parts = [f"{counts[s]} {s if s != 'not written' else 'not written yet'}" for s in STATUSES if counts[s]]
        return f"not passed: {', '.join(parts)}"

    def _detail(self, f: Finding) -> list:
        """The lines of a function's entry: where (for a departure), why, its line in the file, the hint."""
        out = []
        if f.status == "departs":
            step = f" at t = {f.step} (book: step {f.step + 1})" if f.step is not None else ""
            case = ", ".join(f"{k}={v}" for k, v in (("T", f.T), ("B", f.B)) if v is not None)
            out.append(f"{f.direction}, {f.quantity}{step}{', ' + case if case else ''}")
        if f.reason:
            out.append(f.reason)
        loc = f.line_words(self.source)
        if loc and f.status in ("departs", "not written"):
            out.append(loc)
        if f.hint and f.status == "departs":
            out.append(f"hint: {f.hint}")
        return out

    def lines(self) -> list:
        """Plain whole lines, for a pipe, a log or CI."""
        if self.error is not None:
            return [f"bptt check: {self.error}"]
        head = f"bptt check{' ' + self.source if self.source else ''}: convention {self.convention}"
        out = [head]
        for f in self.functions:
            detail = self._detail(f)
            if f.status == "departs":
                out.append(f"  {f.function}: departs ({detail[0]})")
                detail = detail[1:]
            else:
                out.append(f"  {f.function}: {f.status}" + (f" - {detail[0]}" if detail else ""))
                detail = detail[1:]
            out.extend(f"      {d}" for d in detail)
        out.extend(f"note: {n}" for n in self.notes)
        if self.first is not None:
            out.append(f"FIRST DEPARTURE: {self.first.where()}")
            loc = self.first.line_words(self.source)
            if loc:
                out.append(f"at {loc}")
            out.append(f"hint: {self.first.hint}")
        out.append(self._summary())
        return out

    def __str__(self):
        return "\n".join(self.lines())

    def __rich__(self):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text
        if self.error is not None:
            return Text(f"bptt check: {self.error}", style="red")
        table = Table(title=Text(f"bptt check{' ' + self.source if self.source else ''} ({self.convention})"))
        for col in ("function", "status", "where and why"):
            table.add_column(col, overflow="fold")
        colour = {"ok": "green", "departs": "red", "skipped": "yellow", "not written": "cyan"}
        for f in self.functions:
            # Text, not markup: the learner's code ("dW[x] = dout") is shown as it is.
            table.add_row(Text(f.function), Text(f.status, style=colour.get(f.status, "white")),
                          Text("\n".join(self._detail(f))))
        parts = [table]
        parts.extend(Text(f"note: {n}", style="dim") for n in self.notes)
        if self.first is not None:
            parts.append(Text.assemble(("first departure: ", "bold red"), self.first.where(), "\n",
                                       ("hint: ", "bold"), self.first.hint or ""))
        parts.append(Text(self._summary(), style="green" if self.passed else "bold"))
        return Group(*parts)

    def _repr_html_(self):
        esc = html.escape
        if self.error is not None:
            return f"<div class='bptt-check'><p style='color:#c00'><b>bptt check</b>: {esc(self.error)}</p></div>"
        colour = {"ok": "green", "departs": "#c00", "skipped": "#a60", "not written": "#06a"}
        rows = "".join(f"<tr><td><code>{esc(f.function)}</code></td><td style='color:"
                       f"{colour.get(f.status, 'black')}'>{esc(f.status)}</td><td>"
                       f"{'<br>'.join(map(esc, self._detail(f)))}</td></tr>" for f in self.functions)
        notes = "".join(f"<p style='color:#666'>note: {esc(n)}</p>" for n in self.notes)
        if self.first is None:
            tail = f"<p style='color:{'green' if self.passed else 'black'}'><b>{esc(self._summary())}</b></p>"
        else:
            f = self.first
            tail = (f"<p style='color:#c00'><b>first departure</b>: {esc(f.where())}</p>"
                    f"<p><b>hint</b>: {esc(f.hint or '')}</p><p>{esc(self._summary())}</p>")
        return (f"<div class='bptt-check'><p><b>bptt check</b> ({esc(self.convention or '')})</p>"
                f"<table><tr><th>function</th><th>status</th><th>where and why</th></tr>{rows}</table>"
                f"{notes}{tail}</div>")
