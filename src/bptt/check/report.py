"""What ``bptt.check`` returns: the first departure from the reference, and every function's verdict.

Shown as a rich table in a terminal, as plain whole lines in a pipe or log, as HTML in Jupyter
(``_repr_html_``), and as one JSON object (``to_json``) whose fields are fixed:
``{"passed", "convention", "checked", "first"}`` with ``first`` null or
``{"function", "direction", "quantity", "step", "T", "max_abs_error", "hint"}``.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Finding:
    """Where a learner's function first departs from the reference.

    step: the book's 1-based time step, or None where the departure is not tied to one step;
    T: the sequence length of the case that showed it; max_abs_error: the largest absolute
    difference in ``quantity`` at that step (None when the function raised or returned the
    wrong kind of value).
    """

    function: str
    direction: str            # "forward" or "backward"
    quantity: str
    step: int | None
    T: int
    max_abs_error: float | None
    hint: str

    def to_dict(self) -> dict:
        err = self.max_abs_error
        return {"function": self.function, "direction": self.direction, "quantity": self.quantity,
                "step": self.step, "T": self.T,
                "max_abs_error": None if err is None or not math.isfinite(err) else float(err),
                "hint": self.hint}

    def where(self) -> str:
        step = f" at step {self.step}" if self.step is not None else ""
        err = "" if self.max_abs_error is None else f" off by {self.max_abs_error:.3g}"
        return f"{self.function} ({self.direction}): {self.quantity}{step}{err} (T={self.T})"


@dataclass(frozen=True)
class Verdict:
    """One checked function: "ok", "wrong", or "skipped" (with the reason)."""

    function: str
    status: str
    note: str = ""


@dataclass(frozen=True)
class CheckReport:
    passed: bool
    convention: str
    checked: list
    first: Finding | None
    verdicts: list = field(default_factory=list)
    source: str = ""

    def to_dict(self) -> dict:
        return {"passed": self.passed, "convention": self.convention, "checked": list(self.checked),
                "first": None if self.first is None else self.first.to_dict()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def lines(self) -> list:
        """Plain whole lines, for a pipe, a log or CI."""
        head = f"bptt check{' ' + self.source if self.source else ''}: convention {self.convention}"
        out = [head]
        for v in self.verdicts:
            out.append(f"  {v.function}: {v.status}{' - ' + v.note if v.note else ''}")
        if self.first is None:
            out.append(f"passed: {len(self.checked)} function{'s' * (len(self.checked) != 1)} "
                       f"agree with the reference")
        else:
            out.append(f"FIRST DEPARTURE: {self.first.where()}")
            out.append(f"hint: {self.first.hint}")
        return out

    def __str__(self):
        return "\n".join(self.lines())

    def __rich__(self):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text
        table = Table(title=f"bptt check{' ' + self.source if self.source else ''} ({self.convention})")
        for col in ("function", "verdict", "note"):
            table.add_column(col, overflow="fold")
        colour = {"ok": "green", "wrong": "red", "skipped": "yellow"}
        for v in self.verdicts:
            table.add_row(v.function, f"[{colour.get(v.status, 'white')}]{v.status}[/]", v.note)
        if self.first is None:
            tail = Text(f"passed: {len(self.checked)} functions agree with the reference", style="green")
        else:
            tail = Text.assemble(("first departure: ", "bold red"), self.first.where(), "\n",
                                 ("hint: ", "bold"), self.first.hint)
        return Group(table, tail)

    def _repr_html_(self):
        esc = html.escape
        rows = "".join(f"<tr><td><code>{esc(v.function)}</code></td><td style='color:"
                       f"{ {'ok': 'green', 'wrong': '#c00', 'skipped': '#a60'}.get(v.status, 'black')}'>"
                       f"{esc(v.status)}</td><td>{esc(v.note)}</td></tr>" for v in self.verdicts)
        if self.first is None:
            tail = f"<p style='color:green'><b>passed</b>: {len(self.checked)} functions agree with the reference</p>"
        else:
            f = self.first
            tail = (f"<p style='color:#c00'><b>first departure</b>: {esc(f.where())}</p>"
                    f"<p><b>hint</b>: {esc(f.hint)}</p>")
        return (f"<div class='bptt-check'><p><b>bptt check</b> ({esc(self.convention)})</p>"
                f"<table><tr><th>function</th><th>verdict</th><th>note</th></tr>{rows}</table>{tail}</div>")
