"""The README's continuation in PyTorch on several processes, run: a text run exported with
`bptt export`, trained on with DistributedDataParallel over gloo on CPU by 2 processes
(torch.multiprocessing, loopback only, bounded in time). Both processes must end with the same
weights, those weights must have moved, and the held-out loss must fall from the one bptt's own
model has on the same batch."""

import json
import os
import socket
import time

import numpy as np
import pytest

from bptt import checkpoint
from bptt.cli import main

torch = pytest.importorskip("torch")
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402

TEXT = "the quick brown fox jumps over the lazy dog. " * 40
WORLD, STEPS, T, B = 2, 40, 16, 4
DEADLINE_S = 240             # the whole spawn, start-up included; a hung rendezvous fails the test


def windows(ids, starts):
    """(T, B) inputs and next-character targets of the windows starting at ``starts``."""
    x = np.stack([ids[s:s + T] for s in starts], axis=1)
    y = np.stack([ids[s + 1:s + T + 1] for s in starts], axis=1)
    return torch.from_numpy(x), torch.from_numpy(y)


def continue_training(rank, lines, ids, port, out):
    """One process: the printed lines make the modules; DDP averages the gradients of the ranks."""
    import torch.nn.functional as F
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), GLOO_SOCKET_IFNAME="lo")
    dist.init_process_group("gloo", rank=rank, world_size=WORLD,
                            timeout=__import__("datetime").timedelta(seconds=60))
    scope = {}
    exec("\n".join(lines), scope)                       # exactly what `bptt export` printed
    rnn, readout = scope["rnn"], scope["readout"]
    V = rnn.input_size

    class CharRNN(torch.nn.Module):                     # the README's one module around the two
        def __init__(self):
            super().__init__()
            self.rnn, self.readout = rnn, readout

        def forward(self, x):
            return self.readout(self.rnn(F.one_hot(x, V).to(self.readout.weight.dtype))[0])

    model = torch.nn.parallel.DistributedDataParallel(CharRNN())
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    held_x, held_y = windows(ids, range(len(ids) - T - 1 - 8 * B, len(ids) - T - 1, 8))   # the same on both

    def held_out():
        with torch.no_grad():
            return F.cross_entropy(model(held_x).flatten(0, 1), held_y.flatten()).item()

    first = held_out()
    rng = np.random.default_rng(rank)                   # each rank its own share of the text
    for _ in range(STEPS):
        x, y = windows(ids, rng.integers(0, len(ids) // 2, B))
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()                                  # DDP's all-reduce: the mean of both ranks' gradients
        opt.step()
    torch.save(model.module.state_dict(), os.path.join(out, f"rank{rank}.pt"))
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump({"first": first, "last": held_out()}, f)
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_an_exported_run_trains_on_with_ddp_in_two_processes(tmp_path, capsys):
    corpus, run, pt = tmp_path / "corpus.txt", tmp_path / "run", tmp_path / "model.pt"
    corpus.write_text(TEXT)
    assert main(["train", str(corpus), "--hidden", "16", "--seq-length", "8", "--batch-size", "4", "--steps", "20",
                 "--eval-every", "10", "--sample-every", "0", "--quiet", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["export", str(run), "--torch", str(pt)]) == 0
    lines = [line[4:] for line in capsys.readouterr().out.splitlines() if line.startswith("    ")]
    ck = checkpoint.load(run)
    ids = ck.vocab.encode(TEXT)

    context = mp.start_processes(continue_training, args=(lines, ids, free_port(), str(tmp_path)), nprocs=WORLD,
                                 join=False, start_method="spawn")
    deadline = time.monotonic() + DEADLINE_S
    try:
        while not context.join(timeout=1):
            assert time.monotonic() < deadline, f"the 2 processes did not finish within {DEADLINE_S} s"
    finally:
        for p in context.processes:
            if p.is_alive():
                p.kill()

    states = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD)]
    scores = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(WORLD)]
    exported = torch.load(pt)
    assert set(states[0]) == set(exported)
    for name in states[0]:
        assert torch.equal(states[0][name], states[1][name]), f"{name}: the ranks' weights differ"
    assert any(not torch.equal(states[0][n], exported[n]) for n in exported), "training did not move the weights"
    # the held-out batch starts where bptt's model stands on it: the same modules, the same weights
    x, y = windows(ids, range(len(ids) - T - 1 - 8 * B, len(ids) - T - 1, 8))
    ours = ck.model.loss(x.numpy(), y.numpy()) / T                  # bptt sums over T, averages over B
    assert scores[0]["first"] == pytest.approx(ours, rel=1e-5) and scores[0]["first"] == scores[1]["first"]
    assert scores[0]["last"] == scores[1]["last"] < 0.8 * scores[0]["first"], scores
