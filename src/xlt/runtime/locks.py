"""Locks that are held by a live process only: two runs of one study never make the same thing twice.

A lock is an `flock(2)` on a file (a stage's `.lock`, a cache entry's `{name}.lock`). The kernel holds
it for the process and drops it when the process ends, however it ends (SIGKILL included), so a dead
holder's lock is taken over by the next process that asks, with no stale-lock window and no pid-reuse
guess, which a pid file checked with O_CREAT|O_EXCL would need. The file also records the holder (pid,
host, start time) so that a waiting run can say who it waits for.

Across hosts the lock is as good as the shared filesystem's locks: NFSv4, GPFS/Spectrum Scale, BeeGFS
and Lustre mounted with `flock` lock across clients (NFS frees a dead client's locks when its lease
ends, about 90 s); Lustre with `localflock` or NFS mounted `nolock` lock per host only. There two hosts
may train one stage at the same time: nothing is corrupted (writes are atomic and a stage's output is
deterministic), but the work is done twice.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from xlt.runtime.io import make_dirs

POLL_SECONDS = 1.0
WORKER = "XLT_WORKER"  # set in the processes of `xlt run --workers` (`xlt.pipeline.run.workers`): their number


class Lock:
    """An exclusive lock on `path`, taken with `acquire()` (non-blocking) and dropped with `release()`."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock if no live process holds it; True when taken."""
        make_dirs(self.path.parent)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            if _same_file(fd, self.path):
                break
            os.close(fd)  # the holder removed the file after we opened it: lock the file now at the path
        os.ftruncate(fd, 0)
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        os.write(fd, json.dumps({**holder, "worker": os.environ.get(WORKER)}).encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)  # while still held: a process that opened it retries (`_same_file`)
            os.close(self._fd)
            self._fd = None

    def holder(self) -> str:
        """Who holds the lock, for a waiting message."""
        try:
            info = json.loads(self.path.read_text())
            since = time.strftime("%H:%M:%S", time.localtime(info["since"]))
            process = f"process {info['pid']} on {info['host']}"
            worker = info.get("worker")
            return f"worker {worker} ({process}) since {since}" if worker else f"{process} since {since}"
        except (OSError, ValueError, KeyError, TypeError):
            return "another process"


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


@contextmanager
def held(path: Path, waiting: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the lock on `path` for the block, waiting (and saying so once through `waiting`) while
    another live process holds it."""
    lock = Lock(path)
    told = False
    while not lock.acquire():
        if waiting is not None and not told:
            waiting(lock.holder())
            told = True
        time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        lock.release()
