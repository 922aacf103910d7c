"""Stage directories: content-addressed, marked COMPLETED only once fully written."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from xlt.data.features import cached_features
from xlt.distributed import main_first
from xlt.io import atomic_write_json
from xlt.pipeline.build import load_tokenizer
from xlt.pipeline.resources import Resources

MARKER = "COMPLETED"


@dataclass(frozen=True)
class Context:
    """Where a study's stages live and what they run on."""

    out_dir: Path
    resources: Resources
    cache_root: Path
    mixed_precision: str = "no"
    progress: bool = True

    def stage_dir(self, stage_hash: str) -> Path:
        return self.out_dir / "stages" / stage_hash

    def features(self, spec, kind, examples: list[dict], split: str, lang: str, max_length: int) -> list[dict]:
        """The examples' features for this study's tokenizer, from the shared Arrow cache."""
        key = {"split": split, "lang": lang, "data": self.resources.identity["data"]}
        with main_first():  # the main process writes a missing cache; the others then read it
            return cached_features(kind, spec, examples, load_tokenizer(self.resources), max_length, self.cache_root,
                                   key)


def is_complete(directory: Path) -> bool:
    return (directory / MARKER).exists()


def mark_complete(directory: Path, info: dict) -> None:
    atomic_write_json(directory / "stage.json", info)
    (directory / MARKER).touch()


def stage_info(directory: Path) -> dict:
    return json.loads((directory / "stage.json").read_text())
