"""SIGTERM and Ctrl-C (SIGINT): what Slurm sends before it kills a job, and what a person presses.

With the handlers installed (the CLI does so), a signal that arrives inside `deferred()` (a training
loop) is noted: the loop writes a checkpoint at its next step boundary and stops there. Anywhere else
the run stops at once; every write is atomic, so nothing is left half-written. Either way `Interrupted`
ends the run, which the CLI turns into one line saying how to resume and exit status 128 + the signal
number. A second signal while a stop is pending stops at once.

`Interrupted` is a BaseException, as KeyboardInterrupt is: no `except Exception` on the way swallows it.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

SIGNALS = (signal.SIGTERM, signal.SIGINT)
_state = {"depth": 0, "pending": None}


class Interrupted(BaseException):
    def __init__(self, signum: int, where: str = ""):
        self.signum = signum
        self.where = where
        super().__init__(f"stopped by {signal.Signals(signum).name}" + (f" {where}" if where else ""))

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def install() -> None:
    for signum in SIGNALS:
        signal.signal(signum, _handle)


def _handle(signum: int, frame) -> None:
    if _state["depth"] and _state["pending"] is None:
        _state["pending"] = signum
        return
    raise Interrupted(signum)


@contextmanager
def deferred() -> Iterator[None]:
    """Within: a signal waits for `stop_if_requested` (at a step boundary) instead of stopping at once."""
    _state["depth"] += 1
    try:
        yield
    finally:
        _state["depth"] -= 1


def requested() -> bool:
    return _state["pending"] is not None


def stop_if_requested(where: str = "") -> None:
    if requested():
        stop(where)


def stop(where: str = "") -> NoReturn:
    """Stop now: by the signal this process noted, or by SIGTERM when another process of its launch was told."""
    signum, _state["pending"] = _state["pending"], None
    raise Interrupted(signal.SIGTERM if signum is None else signum, where)
