"""What a trainer tells whoever watches it run: the ``Progress`` protocol.

Text training (``Trainer.run``) and task training (``task.train``) call all three methods; a
watcher shows what it wants of them (the command line: a live bar on a terminal, whole lines in
a pipe) and leaves the others empty. ``SILENT`` watches nothing; it is what a trainer given no
watcher reports to.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def update(self, step: int, stats: dict) -> None:
        """After every update: the updates done so far and the latest numbers (``loss``, and
        ``val_loss``, ``tokens_per_s`` for text; ``metric`` for a task: None before the first score)."""

    def evaluated(self, step: int, record: dict) -> None:
        """After every held-out score: the record just written to metrics.jsonl (``val_loss``;
        ``epochs_completed`` at an epoch's end; a task's ``metric`` and ``solved``)."""

    def sampled(self, step: int, text: str) -> None:
        """After text training drew a sample (its prime included)."""


class _Silent:
    def update(self, step: int, stats: dict) -> None:
        pass

    def evaluated(self, step: int, record: dict) -> None:
        pass

    def sampled(self, step: int, text: str) -> None:
        pass


SILENT: Progress = _Silent()
