"""The cells every proof runs on. A new cell adds its name here and is checked by all of them."""

import bptt.nn.cells

CELLS = ["rnn", "lstm", "gru", "leaky"]

# Derived, never edited: the cells torch.nn has a module for, which the tests that hand a model to
# bptt.to_torch (packed bidirectional modules, the encoder-decoder's halves) run on. The others
# (torch = None) are checked against tests/torch_reference.py's TORCH_MODULES where a test builds one.
TORCH_CELLS = [c for c in CELLS if bptt.nn.cells.CELLS[c].torch is not None]
