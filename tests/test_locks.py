"""Stage locks: held by a live process only; a dead holder's lock (even after SIGKILL) is taken over."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from xlt.runtime.locks import Lock, held

HOLD = """
import os, sys, time
from xlt.runtime.locks import Lock
assert Lock(sys.argv[1]).acquire()
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def holder(path, seconds: float, env: dict[str, str] | None = None) -> subprocess.Popen:
    command = [sys.executable, "-c", HOLD, str(path), str(seconds)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_live_holder_keeps_the_lock_and_is_named(tmp_path):
    path = tmp_path / "stage" / ".lock"
    process = holder(path, 60)
    try:
        lock = Lock(path)
        assert not lock.acquire()
        assert lock.holder().startswith(f"process {process.pid} on {socket.gethostname()} since ")
    finally:
        process.kill()
    worker = holder(path, 60, {"XLT_WORKER": "2"})  # a process of `xlt run --workers` is named by its number
    try:
        assert Lock(path).holder().startswith(f"worker 2 (process {worker.pid} on {socket.gethostname()}) since ")
    finally:
        worker.kill()
        process.wait()


def test_the_lock_of_a_killed_holder_is_taken_over(tmp_path):
    path = tmp_path / ".lock"
    process = holder(path, 60)
    process.send_signal(signal.SIGKILL)
    process.wait()
    lock = Lock(path)
    assert lock.acquire()
    assert Lock(path).acquire() is False  # now ours: a second taker (even in this process) waits
    lock.release()
    assert not path.exists() and Lock(path).acquire()


def test_held_waits_for_the_holder_and_says_so_once(tmp_path):
    path = tmp_path / ".lock"
    process = holder(path, 1.5)
    said: list[str] = []
    started = time.monotonic()
    with held(path, said.append):
        waited = time.monotonic() - started
        assert Lock(path).acquire() is False
    process.wait()
    assert waited > 0.5 and len(said) == 1 and f"process {process.pid}" in said[0]


@pytest.mark.slow  # 80 takes, most of them waiting a poll interval
def test_concurrent_takers_never_both_hold(tmp_path):
    path, inside, overlaps = tmp_path / ".lock", [], []

    def take() -> None:
        for _ in range(20):
            with held(path):
                inside.append(1)
                overlaps.append(len(inside) > 1)
                time.sleep(0.001)
                inside.pop()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(overlaps) == 80 and not any(overlaps)
    assert os.listdir(tmp_path) == []
