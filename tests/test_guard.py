"""The top-level handler: unexpected failures, interrupts and a full disk met in a library are one line too."""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys

import pytest

from xlt.cli import guard
from xlt.runtime import interrupts


def ended(command, capfd, resume: str | None = None) -> tuple[int, str]:
    saved = {s: signal.getsignal(s) for s in interrupts.SIGNALS}
    try:
        with pytest.raises(SystemExit) as stop:
            guard.run(command, resume)
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    return stop.value.code, capfd.readouterr().err


def fail(err: BaseException):
    def command():
        raise err

    return command


def test_an_unexpected_exception_is_one_line_with_the_saved_traceback(capfd, monkeypatch):
    monkeypatch.delenv("XLT_DEBUG", raising=False)
    code, stderr = ended(fail(RuntimeError("shape mismatch\nin layer 3")), capfd)
    assert code == 1
    (line,) = stderr.strip().splitlines()
    match = re.fullmatch(
        r"error: unexpected RuntimeError: shape mismatch in layer 3 \(full traceback in (\S+);"
        r" set XLT_DEBUG=1 to show it\)",
        line,
    )
    assert match, line
    saved = open(match.group(1)).read()
    assert "Traceback (most recent call last)" in saved and "RuntimeError: shape mismatch" in saved


def test_xlt_debug_shows_the_traceback():
    code = "from xlt.cli import guard\ndef boom():\n    raise LookupError('deep inside')\nguard.run(boom)\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "XLT_DEBUG": "1"}
    )
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr and "LookupError: deep inside" in result.stderr


def test_a_full_disk_inside_a_library_names_the_file(capfd):
    code, stderr = ended(fail(OSError(errno.ENOSPC, "No space left on device", "/data/cache/x.arrow")), capfd)
    assert code == 2
    (line,) = stderr.strip().splitlines()
    assert line.startswith("error: cannot write /data/cache/x.arrow: no space left on the device")
    assert "everything complete is kept" in line


def test_ctrl_c_outside_a_training_loop_says_how_to_resume(capfd, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["xlt", "run", "study.yaml"])
    code, stderr = ended(fail(KeyboardInterrupt()), capfd)
    assert code == 130
    assert stderr.strip() == "error: stopped by SIGINT; run `xlt run study.yaml` again to resume"


def test_a_worker_says_what_resumes_its_stage(capfd):
    code, stderr = ended(fail(interrupts.Interrupted(signal.SIGTERM)), capfd, resume="its run resumes it")
    assert (code, stderr.strip()) == (143, "error: stopped by SIGTERM; its run resumes it")


def test_a_signal_inside_a_deferred_block_waits_for_the_boundary():
    saved = {s: signal.getsignal(s) for s in interrupts.SIGNALS}
    interrupts.install()
    try:
        with interrupts.deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            assert interrupts.requested()  # noted, not raised
            with pytest.raises(interrupts.Interrupted) as stop:
                interrupts.stop_if_requested("after step 3")
        assert stop.value.exit_code == 143 and str(stop.value) == "stopped by SIGTERM after step 3"
        with pytest.raises(interrupts.Interrupted):  # outside: at once
            os.kill(os.getpid(), signal.SIGTERM)
        assert interrupts.requested()  # and noted, in case Python swallows the raise
    finally:
        interrupts.finished()  # the note goes: later tests run studies in this process
        for signum, handler in saved.items():
            signal.signal(signum, handler)


def xlt_child(code: str, *args: str) -> subprocess.CompletedProcess:
    """`code` run by a fresh interpreter: it ends with `guard.run(...)`, as the `xlt` command does."""
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)


SWALLOWED = """
import os, signal, weakref
from xlt.cli import guard
from xlt.runtime import interrupts

class Thing:
    pass

def command():
    thing = Thing()
    weakref.finalize(thing, os.kill, os.getpid(), signal.SIGTERM)
    del thing  # its finalizer sends SIGTERM: the handler raises inside the finalizer, where Python swallows it
    print("went on", flush=True)
    interrupts.stop_if_requested("at the next safe point")
    print("did not stop", flush=True)

guard.run(command, "run it again")
"""


def test_a_stop_python_swallows_still_stops_the_run_at_its_next_safe_point_in_one_line():
    result = xlt_child(SWALLOWED)
    assert result.stdout == "went on\n"
    assert (result.returncode, result.stderr) == (
        143,
        "error: stopped by SIGTERM at the next safe point; run it again\n",
    )


POOL = """
import os, signal, sys, threading
from xlt.cli import guard
import transformers

start, signalled = threading.Thread.start, []

def start_then_signal(thread):  # SIGTERM comes as the encoder's loader starts its thread pool's first thread
    start(thread)
    if thread.name.startswith("ThreadPoolExecutor") and not signalled:
        signalled.append(thread)
        os.kill(os.getpid(), signal.SIGTERM)

threading.Thread.start = start_then_signal
guard.run(lambda: transformers.AutoModel.from_pretrained(sys.argv[1], use_safetensors=True), "run it again")
print("loaded without a thread pool")
"""


def test_a_stop_while_a_library_starts_a_thread_pool_ends_the_process_at_once(tiny_model_dir):
    """The worker thread the stop left unregistered kept the interpreter's exit waiting for ever."""
    result = xlt_child(POOL, str(tiny_model_dir))
    if result.stdout == "loaded without a thread pool\n":
        pytest.skip("this transformers loads without a thread pool")
    assert (result.returncode, result.stderr) == (143, "error: stopped by SIGTERM; run it again\n")


SECOND = """
import os, signal, threading
from xlt.cli import guard

def command():
    threading.Thread(target=threading.Event().wait).start()  # the interpreter's exit waits for it, for ever
    os.kill(os.getpid(), signal.SIGTERM)

guard.run(command, "run it again")
"""


def test_a_second_signal_once_the_run_has_stopped_ends_the_process_silently():
    process = subprocess.Popen([sys.executable, "-c", SECOND], stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr.readline() == "error: stopped by SIGTERM; run it again\n"
        process.send_signal(signal.SIGTERM)
        assert process.communicate(timeout=30)[1] == ""  # no traceback
    finally:
        process.kill()
    assert process.returncode == -signal.SIGTERM
