"""Stage directories: content-addressed, sealed (`xlt.runtime.integrity`) only once fully written.

A stage counts only after its marker, and only while every file the marker lists is as written: a
damaged stage is reported and run again (`xlt.pipeline.run.scheduler`), never loaded half-way.
"""

from __future__ import annotations

import json
from pathlib import Path

from xlt.results.layout import RECORD, RESUME
from xlt.runtime import integrity
from xlt.runtime.integrity import MARKER  # noqa: F401 (the marker's name, for readers of stage directories)
from xlt.runtime.io import atomic_write_json


def is_complete(directory: Path) -> bool:
    return integrity.is_complete(directory)


def mark_complete(directory: Path, info: dict) -> None:
    """Write the stage's record, then seal it: the marker is the last file written."""
    atomic_write_json(directory / RECORD, info)
    integrity.seal(directory, skip=(RESUME,))


def stage_info(directory: Path) -> dict:
    return json.loads((directory / RECORD).read_text())
