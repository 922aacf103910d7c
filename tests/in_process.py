"""Run the `xlt` command inside the test process: a fresh interpreter would spend ~10 s importing torch."""

from __future__ import annotations

import os
import signal
import sys

from xlt import cli
from xlt.runtime.interrupts import SIGNALS


def run_xlt(capsys, *args: str, width: int = 200) -> tuple[int, str]:
    """`xlt ARGS` through its real entry point (`guard.run`); returns the exit status and stderr, printed `width`
    columns wide (a captured console is not a terminal: rich would wrap at 80)."""
    code, _, stderr = run_xlt_streams(capsys, *args, width=width)
    return code, stderr


def run_xlt_streams(capsys, *args: str, width: int = 200) -> tuple[int, str, str]:
    """As `run_xlt`, with stdout (where a command's answer goes: the plan, tables) before stderr.

    The handlers and umask `guard.run` installs are put back, so later tests see the session's own.
    """
    handlers = {signum: signal.getsignal(signum) for signum in SIGNALS}
    umask = os.umask(0)
    os.umask(umask)
    argv, sys.argv = sys.argv, ["xlt", *args]
    columns, cli.console.width = cli.console.width, width
    try:
        cli.main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code or 0
    finally:
        sys.argv = argv
        cli.console.width = columns
        os.umask(umask)
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    captured = capsys.readouterr()
    return int(code), captured.out, captured.err
