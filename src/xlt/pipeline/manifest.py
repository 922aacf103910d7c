"""A study directory's own description: the resolved config and resources, saved before any stage runs.

A cluster job rebuilds the study, its plan and its context from this file alone (it resolves nothing:
the driver built the encoder and the benchmark once), and `xlt status` reads it to know every stage a
study has, from any machine that sees the study directory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from xlt.config import Study, validate_study
from xlt.errors import XltError
from xlt.io import atomic_write_json
from xlt.pipeline.plan import Plan
from xlt.pipeline.resources import Resources
from xlt.pipeline.stages import Context

FILE = "study.json"


@dataclass(frozen=True)
class Manifest:
    study_dir: Path
    study: Study
    resources: Resources
    cache_root: Path

    def context(self, progress: bool = True) -> Context:
        """`progress`: a stage's progress (a worker's or a cluster job's: in its log)."""
        from xlt.pipeline.tracking import Tracking

        tracking = Tracking.for_study(self.study, self.plan(), self.study_dir)
        return Context(self.study_dir, self.resources, self.cache_root, self.study.mixed_precision, progress, tracking)

    def plan(self) -> Plan:
        from xlt.pipeline.runner import study_plan

        return study_plan(self.study, self.resources)


def save_manifest(study_dir: Path, study: Study, resources: Resources, cache_root: Path) -> None:
    atomic_write_json(
        Path(study_dir) / FILE,
        {
            "config": study.model_dump(mode="json"),
            "resources": {
                "model_path": resources.model_path,
                "revision": resources.revision,
                "trust_remote_code": resources.trust_remote_code,
                "data_dir": str(resources.data_dir) if resources.data_dir else None,
                "identity": resources.identity,
                "token_types": resources.token_types,
            },
            "cache_root": str(Path(cache_root).resolve()),
        },
    )


def load_manifest(study_dir: Path) -> Manifest:
    study_dir = Path(study_dir).resolve()
    path = study_dir / FILE
    if not path.is_file():
        raise XltError(
            f"{study_dir}: no {FILE}, so not a study directory written by `xlt run` (give the study's output_dir)"
        )
    raw = json.loads(path.read_text())
    study = validate_study(raw["config"], str(path))
    resources = raw["resources"]
    data_dir = Path(resources["data_dir"]) if resources["data_dir"] else None
    return Manifest(study_dir, study, Resources(**{**resources, "data_dir": data_dir}), Path(raw["cache_root"]))
