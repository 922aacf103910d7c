"""A test hook for fault injection: kill this process at a chosen point, to prove a study survives it.

Fault points are the moments a kill could do harm: each training step and each atomic write (after the
data is written, before it replaces the target; an evaluation writes once per language). Tests set (never
a user):

    XLT_FAULT_LOG=<file>     append "<n>\t<label>" for every point passed (to learn a run's points)
    XLT_FAULT_AT=<n>         SIGKILL at the n-th point whose label matches XLT_FAULT_MATCH (a regular
                             expression; default: every point), after printing which one to stderr
    XLT_FAULT_ERRNO=<name>   instead of the kill, raise OSError(errno.<name>) there (ENOSPC: a full disk)
    XLT_FAULT_SIGNAL=<name>  instead of the kill, send this process that signal there (SIGTERM, SIGINT): what a
                             signal from outside does, at a moment no test's timing can miss

Unset, a point costs two environment look-ups.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import sys

_passed = {"all": 0, "matching": 0}


def point(label: str) -> None:
    log, target = os.environ.get("XLT_FAULT_LOG"), os.environ.get("XLT_FAULT_AT")
    if not (log or target):
        return
    _passed["all"] += 1
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{_passed['all']}\t{label}\n")
    if target and re.search(os.environ.get("XLT_FAULT_MATCH", ""), label):
        _passed["matching"] += 1
        if _passed["matching"] == int(target):
            error, stop = os.environ.get("XLT_FAULT_ERRNO"), os.environ.get("XLT_FAULT_SIGNAL")
            if error:
                raise OSError(getattr(errno, error), os.strerror(getattr(errno, error)))
            if stop:
                os.kill(os.getpid(), getattr(signal, stop))  # its handler runs before this returns
                return
            print(f"xlt fault hook: SIGKILL at point {target} ({label})", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
