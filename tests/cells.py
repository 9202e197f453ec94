"""The cells every proof runs on. A new cell adds its name here and is checked by all of them."""

CELLS = ["rnn", "lstm", "gru", "leaky"]
