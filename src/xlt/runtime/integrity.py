"""Sealed directories: a directory of outputs counts as complete only when its marker says so and holds.

`seal` writes the marker last, listing every file of the directory with its size and sha256; `damage`
checks them all. A directory whose files were truncated, changed or removed after sealing (a copy cut
short, a disk error, a hand edit) is therefore never used half-way: its damage is reported in one line
and it is made again. Names starting with "." (temporary files, locks) and the folders in `skip` (a
training stage's mutable `resume/`) are not part of the sealed content.

Digests are kept per process for (path, inode, size, mtime), so a run checks each file once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from xlt.runtime.io import atomic_write_json, file_digest

MARKER = "COMPLETED"
_digests: dict[tuple[str, int, int, int], str] = {}


def seal(directory: Path, skip: tuple[str, ...] = ()) -> None:
    """Mark `directory` complete: its marker records every file now in it (write everything else first)."""
    files = {name: {"bytes": path.stat().st_size, "sha256": _digest(path)} for name, path in _files(directory, skip)}
    atomic_write_json(directory / MARKER, {"files": files})


def is_marked(directory: Path) -> bool:
    return (directory / MARKER).is_file()


def is_complete(directory: Path) -> bool:
    return is_marked(directory) and damage(directory) is None


def damage(directory: Path) -> str | None:
    """Why a marked directory cannot be used (None: intact, or not marked at all)."""
    marker = directory / MARKER
    if not marker.is_file():
        return None
    try:
        files = json.loads(marker.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return f"its {MARKER} marker is unreadable or lists no files (damaged, or written by an older xlt)"
    for name, expected in sorted(files.items()):
        path = directory / name
        if not path.is_file():
            return f"{name} is missing"
        size = path.stat().st_size
        if size != expected["bytes"]:
            return f"{name} has {size} bytes where {expected['bytes']} were written (truncated or changed)"
        if _digest(path) != expected["sha256"]:
            return f"{name} does not match the content written (changed or damaged)"
    return None


def unseal(directory: Path) -> None:
    """Withdraw the marker of a damaged directory, so that it is made again (its files are overwritten)."""
    (directory / MARKER).unlink(missing_ok=True)


def _files(directory: Path, skip: tuple[str, ...]):
    for root, folders, names in os.walk(directory):
        relative = Path(root).relative_to(directory)
        folders[:] = sorted(f for f in folders if not f.startswith(".") and (relative / f).as_posix() not in skip)
        for name in sorted(names):
            if not name.startswith(".") and not (relative == Path(".") and name == MARKER):
                yield (relative / name).as_posix(), Path(root) / name


def _digest(path: Path) -> str:
    info = path.stat()
    key = (str(path.resolve()), info.st_ino, info.st_size, info.st_mtime_ns)
    if key not in _digests:
        _digests[key] = file_digest(path)
    return _digests[key]
