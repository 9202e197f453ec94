"""Stopping a run from outside: Ctrl-C (SIGINT), SIGTERM, and SIGHUP (a closed terminal, a dropped
ssh session), handled the same way by every trainer and command.

Inside a trainer's loop a stop signal is noted (``noted``) and the loop ends after the update
in flight, so what it then saves is whole. Outside it (reading a large file, plotting) a command
stops at once (``stopping_at_once`` raises ``Stopped``). A signal the caller ignores (nohup's
SIGHUP, a background job's SIGINT) stays ignored. Handlers can be set in the main thread only.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager

STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


def signal_name(signum: int) -> str:
    """"SIGTERM" for 15."""
    return signal.Signals(signum).name


class Stopped(BaseException):
    """A stop signal arrived outside a trainer's loop; ``signum`` is its number."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class StopRequest:
    """The stop signal noted while a loop runs: ``signum`` is None until one arrives."""

    def __init__(self):
        self.signum: int | None = None

    def __call__(self, signum, frame):
        self.signum = signum


@contextmanager
def _handling(handler):
    names = [name for name in STOP_SIGNALS if hasattr(signal, name)]
    stops = [getattr(signal, name) for name in names]
    old = {s: signal.signal(s, handler) for s in stops if signal.getsignal(s) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for s, previous in old.items():
            signal.signal(s, previous)


@contextmanager
def noted():
    """Within the block, a stop signal sets the yielded ``StopRequest``'s ``signum``."""
    request = StopRequest()
    with _handling(request):
        yield request


def _raise_stopped(signum, frame):
    raise Stopped(signum)


@contextmanager
def stopping_at_once():
    """Within the block, a stop signal raises ``Stopped`` where the program is (a trainer's loop
    inside it sets its own ``noted`` handlers, and restores these after)."""
    with _handling(_raise_stopped):
        yield
