"""Scoring on held-out data, in chunks: the network's forward and loss, written once for every trainer.

A held-out set is long (the last tenth of a book: (L, B) streams) or wide (a thousand task
sequences: (T, 1000)); either way the whole forward's (T, B, O) arrays would be large, so it is
run a chunk at a time. Along time each chunk starts from the states the one before ended in, so
the result is the same as one forward over the whole stream; across sequences each chunk starts
from zero states, as every sequence does. The trainers reduce the chunks' losses their own way:
text averages the loss per character (``text.evaluate``), a task per target step and scores
the outputs by its metric (``task.evaluate``).

Shape legend: T time, B batch, O outputs.
"""

from __future__ import annotations

from typing import Iterator

from ..nn.stages import last_states, readout_loss, stack_states


def scored_chunks(model, x, y, mask=None, *, chunk: int, along: str = "time") -> Iterator[tuple]:
    """Yield ``(trace, loss, l)`` for each chunk of x, y (and mask) (T, B, ...): the chunk's
    forward Trace, its loss L (summed over steps, averaged over its sequences) and its per-step
    losses l (T_chunk, B_chunk), as the model's loss (``nn.losses``) returns them.

    along="time": chunks of ``chunk`` steps, the states carried from one to the next;
    along="sequences": chunks of ``chunk`` sequences (columns), each from zero states.
    x and y may be anything that slices into arrays (``data.Streams`` gather only the chunk).
    """
    T, B = x.shape[:2]
    state0 = {}
    for start in range(0, T if along == "time" else B, chunk):
        part = slice(start, start + chunk)
        rows = (part,) if along == "time" else (slice(None), part)
        trace = model.forward(x[rows], **state0)
        loss, _, l = readout_loss(model, trace.o, trace.yhat, y[rows], None if mask is None else mask[rows])
        if along == "time":
            state0 = stack_states(last_states(trace.layers))
        yield trace, loss, l

