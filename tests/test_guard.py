"""The top-level handler: unexpected failures, interrupts and a full disk met in a library are one line too."""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys

import pytest

from xlt import guard, interrupts


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
    code = "from xlt import guard\ndef boom():\n    raise LookupError('deep inside')\nguard.run(boom)\n"
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
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
