"""The `xlt` command's top-level handler: however a run ends, the user reads one line and an exit status.

- `XltError` (bad input, an unusable environment): "error: <what, where, what to do>", exit 2;
- `Interrupted` (SIGTERM, Ctrl-C): "error: stopped by SIGTERM ...; run `xlt ...` again to resume",
  exit 128 + the signal number, at once; a further signal then ends the process silently;
- a full disk met inside a library (an OSError ENOSPC): the file that could not be written, exit 2;
- anything else: "error: unexpected <Type>: <message> (full traceback in <file>; set XLT_DEBUG=1 to
  show it)", exit 1. The traceback goes to $XLT_CACHE/logs (else the temporary folder).
With XLT_DEBUG=1 every exception propagates with its traceback, as Python shows it.

Before the command runs, the umask gains o-w (no file xlt or a library writes is world-writable) and the
SIGTERM / SIGINT handlers of `xlt.runtime.interrupts` are installed.
"""

from __future__ import annotations

import atexit
import errno
import gc
import os
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.text import Text

from xlt.errors import XltError
from xlt.runtime import interrupts

console = Console(stderr=True)


def _freeze() -> None:
    """Leave the collector nothing to scan at exit. A process group of several processes is ended first: frozen,
    its objects would outlive the interpreter, and their threads then abort the process in C++'s exit
    ("terminate called without an active exception", seen on a stopped two-process run)."""
    distributed = sys.modules.get("torch.distributed")
    if distributed is not None and distributed.is_available() and distributed.is_initialized():
        distributed.destroy_process_group()
    gc.freeze()


def run(command: Callable[[], object], resume: str | None = None) -> None:
    """Run `command` as the `xlt` process's whole work. `resume`: what resumes it after an interrupt (default:
    running the same `xlt` command line again)."""
    os.umask(os.umask(0) | 0o002)
    interrupts.install()
    # At exit, nothing is left for the collector to scan: it spent 9 s of a quick demo's exit (1 s after) on
    # the objects torch and transformers leave. Once, however many commands run in this process (tests).
    atexit.unregister(_freeze)
    atexit.register(_freeze)
    if os.environ.get("XLT_DEBUG", "") not in ("", "0"):
        command()
        return
    try:
        command()
    except XltError as err:
        _fail(str(err), 2)
    except (interrupts.Interrupted, KeyboardInterrupt) as err:
        stopped = _stop_line(err, resume)
    except OSError as err:
        if err.errno not in (errno.ENOSPC, errno.EDQUOT):
            _unexpected(err)
        from xlt.runtime.io import write_error

        _fail(str(write_error(Path(err.filename or "a file"), err)), 2)
    except Exception as err:  # noqa: BLE001 (the one place every other failure is caught)
        _unexpected(err)
    else:
        return
    # Outside the except block, and with no local of this frame holding the stop: an exit raised in the block
    # would carry the stop (as its context), and with it the frames of its traceback, into the interpreter's
    # shutdown. They can hold a thread pool left without its shutdown (transformers loads an encoder through one;
    # a signal stopped it before it registered its first worker thread): the shutdown waited for that idle
    # thread for ever.
    interrupts.finished()
    _fail(*stopped)


def _stop_line(err: BaseException, resume: str | None) -> tuple[str, int]:
    stop = err if isinstance(err, interrupts.Interrupted) else interrupts.Interrupted(2)
    return f"{stop}; {resume or f'run `xlt {shlex.join(sys.argv[1:])}` again to resume'}", stop.exit_code


def _unexpected(err: BaseException) -> NoReturn:
    saved = _save_traceback(err)
    where = f"full traceback in {saved}" if saved else "the traceback could not be saved"
    message = " ".join(str(err).split()) or "(no message)"
    _fail(f"unexpected {type(err).__name__}: {message} ({where}; set XLT_DEBUG=1 to show it)", 1)


def _save_traceback(err: BaseException) -> Path | None:
    from xlt.pipeline.plan.resources import cache_dir

    text = f"xlt {shlex.join(sys.argv[1:])}\n\n" + "".join(traceback.format_exception(err))
    name = f"traceback-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
    for folder in (cache_dir() / "logs", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")
            return folder / name
        except OSError:
            continue
    return None


def _fail(message: str, code: int) -> NoReturn:
    console.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True)
    sys.exit(code)
