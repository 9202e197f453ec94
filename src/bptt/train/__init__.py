"""Training and what it writes: optimisers, checkpoints, text training (``text``), long-lag task
training (``task``), fine-tuning, sampling and the loss pictures."""
