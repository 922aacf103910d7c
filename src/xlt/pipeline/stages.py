"""Stage directories: content-addressed, sealed (`xlt.integrity`) only once fully written.

A stage counts only after its marker, and only while every file the marker lists is as written: a
damaged stage is reported and run again (`xlt.pipeline.scheduler`), never loaded half-way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from xlt import integrity
from xlt.data.features import cached_features
from xlt.distributed import main_first
from xlt.integrity import MARKER  # noqa: F401 (the marker's name, for readers of stage directories)
from xlt.io import atomic_write_json
from xlt.pipeline.build import load_tokenizer
from xlt.pipeline.resources import Resources

if TYPE_CHECKING:
    from xlt.pipeline.progress import StudyDisplay
    from xlt.pipeline.tracking import Tracking

RECORD = "stage.json"
RESUME = "resume"  # a training stage's resume points: mutable until the stage is sealed, so not sealed


@dataclass(frozen=True)
class Context:
    """Where a study's stages live and what they run on."""

    out_dir: Path
    resources: Resources
    cache_root: Path
    mixed_precision: str = "no"
    progress: bool = True
    tracking: Tracking | None = None  # experiment tracking; None: off
    display: StudyDisplay | None = None  # the running study's progress display; None: each stage shows its own bar

    def stage_dir(self, stage_hash: str) -> Path:
        return self.out_dir / "stages" / stage_hash

    def features(
        self, spec, kind, examples: list[dict], split: str, lang: str, max_length: int, token_types: bool
    ) -> list[dict]:
        """The examples' features for this study's tokenizer, from the shared Arrow cache; `token_types`: whether
        the encoder embeds them (`Encoder.token_types`)."""
        key = {"split": split, "lang": lang, "data": self.resources.identity["data"]}
        with main_first():  # the main process writes a missing cache; the others then read it
            tokenizer = load_tokenizer(self.resources)
            return cached_features(kind, spec, examples, tokenizer, max_length, self.cache_root, key, token_types)


def is_complete(directory: Path) -> bool:
    return integrity.is_complete(directory)


def mark_complete(directory: Path, info: dict) -> None:
    """Write the stage's record, then seal it: the marker is the last file written."""
    atomic_write_json(directory / RECORD, info)
    integrity.seal(directory, skip=(RESUME,))


def stage_info(directory: Path) -> dict:
    return json.loads((directory / RECORD).read_text())
