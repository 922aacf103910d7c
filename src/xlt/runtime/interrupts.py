"""SIGTERM and Ctrl-C (SIGINT): what Slurm sends before it kills a job, and what a person presses.

With the handlers installed (the CLI does so), a signal is first noted, then acted on:

- inside `deferred()` (a training or evaluation stage) it waits for the stage's next safe point (a training
  step, an evaluation language), where `stop_if_requested` stops the run: a training loop writes a
  checkpoint first. Nothing is raised in the middle of a library's work: raised while transformers starts
  the thread pool that loads an encoder, it left an idle worker thread no one would wake, and the
  interpreter waited for it at exit for ever;
- anywhere else (pretraining, building the benchmark, the report) it stops the run at once; every write is
  atomic, so nothing is left half-written. Where Python swallows that raise (it ran in a weakref callback
  or a finalizer: "Exception ignored in ..."), the note stays, and the next safe point (a stage boundary,
  the collection of results, the report) stops the run; the swallowed raise prints nothing.

Either way `Interrupted` ends the run, which the CLI turns into one line saying how to resume and exit
status 128 + the signal number (`xlt.cli.guard`, which then calls `finished`). A second signal while a stop
is pending stops at once; one after the run has stopped ends the process silently.

`Interrupted` is a BaseException, as KeyboardInterrupt is: no `except Exception` on the way swallows it.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

SIGNALS = (signal.SIGTERM, signal.SIGINT)
_state: dict = {"depth": 0, "pending": None, "unraisable": sys.unraisablehook}


class Interrupted(BaseException):
    def __init__(self, signum: int, where: str = ""):
        self.signum = signum
        self.where = where
        super().__init__(f"stopped by {signal.Signals(signum).name}" + (f" {where}" if where else ""))

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def install() -> None:
    """The handlers, for a command about to run (no stop noted yet: in-process runs reuse this module)."""
    _state["pending"] = None
    for signum in SIGNALS:
        signal.signal(signum, _handle)
    if sys.unraisablehook is not _unraisable:
        _state["unraisable"], sys.unraisablehook = sys.unraisablehook, _unraisable


def finished() -> None:
    """The run has stopped and says so: the note is dropped, and a further signal ends the process at once,
    without a traceback (it could otherwise be raised inside the interpreter's shutdown)."""
    _state["pending"] = None
    for signum in SIGNALS:
        signal.signal(signum, signal.SIG_DFL)


def _handle(signum: int, frame) -> None:
    first = _state["pending"] is None
    if first:
        _state["pending"] = signum  # noted before anything is raised, so a swallowed raise still stops the run
    if _state["depth"] and first:
        return
    raise Interrupted(signum)


def _unraisable(unraisable) -> None:
    """Python's report of an exception it could not raise: an `Interrupted` is noted already and stops the run
    at its next safe point, so it is not reported; anything else is, as before."""
    if not isinstance(unraisable.exc_value, Interrupted):
        _state["unraisable"](unraisable)


@contextmanager
def deferred() -> Iterator[None]:
    """Within (also as a decorator): a signal waits for `stop_if_requested` at a safe point instead of stopping
    at once."""
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
