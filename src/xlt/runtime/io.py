"""Atomic writes: a reader (or a resumed run) never sees a half-written file.

Every file xlt writes goes through `atomic_write_bytes`: the data goes to a temporary file in the
target's folder, is flushed to disk, and is renamed over the target, so after a crash at any moment
the target holds either its old content or its new one. A write that fails (a full disk, a read-only
folder) raises one XltError naming the file; nothing complete is touched. Files and the folders made
for them are never world-writable, whatever the umask.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from xlt.errors import XltError
from xlt.runtime import faults

NOT_WORLD_WRITABLE = ~0o002  # results are for sharing with a group, never for anyone to change
_FULL = (errno.ENOSPC, errno.EDQUOT)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    try:
        make_dirs(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as err:
        raise write_error(path, err) from None
    try:
        os.chmod(tmp, 0o666 & ~_umask() & NOT_WORLD_WRITABLE)  # mkstemp makes 0600
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        faults.point(f"write {path}")  # the worst moment: the data is written, the target not yet replaced
        os.replace(tmp, path)
    except OSError as err:
        raise write_error(path, err) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_error(path: Path, err: OSError) -> XltError:
    """One line for a write that failed: what could not be written, why, and what to do."""
    if err.errno in _FULL:
        free = shutil.disk_usage(_existing(path)).free
        return XltError(
            f"cannot write {path}: no space left on the device ({free // 2**20} MiB free); everything"
            f" complete is kept: free some space and run the same command again to continue"
        )
    return XltError(
        f"cannot write {path}: {err.strerror or err}; check the folder's permissions and space, then"
        f" run the same command again (everything complete is kept)"
    )


def _existing(path: Path) -> Path:
    return next(parent for parent in [path, *path.absolute().parents] if parent.exists())


def make_dirs(directory: Path) -> None:
    """`mkdir -p`, each folder it makes group-writable at most (a umask of 0 would leave them 0777)."""
    directory = Path(directory)
    missing = [d for d in [directory, *directory.parents] if not d.exists()]
    directory.mkdir(parents=True, exist_ok=True)
    for made in missing:
        try:
            os.chmod(made, 0o777 & ~_umask() & NOT_WORLD_WRITABLE)
        except FileNotFoundError:  # removed by another process meanwhile: nothing of ours to fix
            pass


def open_log(path: Path) -> IO[str]:
    """A log file opened for writing as it grows (not atomically), group-writable at most whatever the umask."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666 & NOT_WORLD_WRITABLE)
    os.fchmod(descriptor, 0o666 & ~_umask() & NOT_WORLD_WRITABLE)  # an existing file keeps its mode otherwise
    return os.fdopen(descriptor, "w")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, payload: Any) -> None:
    atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


def atomic_write_csv(path: Path, columns: Iterable[str], rows: Iterable[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


def atomic_copy_tree(source: Path, target: Path) -> None:
    """Copy every file under `source` to the same place under `target`, each file atomically."""
    for file in sorted(Path(source).rglob("*")):
        if file.is_file():
            atomic_write_bytes(target / file.relative_to(source), file.read_bytes())


def file_digest(path: Path) -> str:
    """The sha256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def stable_hash(payload: Any) -> str:
    """A short content hash of JSON-able data (key order does not matter)."""
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
