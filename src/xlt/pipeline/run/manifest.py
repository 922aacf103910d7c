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
from xlt.pipeline.plan.graph import Plan
from xlt.pipeline.plan.resources import Resources
from xlt.pipeline.stage.context import Context, Reporting
from xlt.results.layout import STUDY, StudyLayout
from xlt.runtime.io import atomic_write_json


@dataclass(frozen=True)
class Manifest:
    study_dir: Path
    study: Study
    resources: Resources
    cache_root: Path

    def context(self, progress: bool = True) -> Context:
        """`progress`: a stage's progress (a worker's or a cluster job's: in its log)."""
        from xlt.pipeline.stage.tracking import Tracking

        tracking = Tracking.for_study(self.study, self.plan(), self.study_dir)
        reporting = Reporting(progress, tracking)
        return Context(
            StudyLayout(self.study_dir), self.resources, self.cache_root, self.study.mixed_precision, reporting
        )

    def plan(self) -> Plan:
        from xlt.pipeline.plan.graph import study_plan

        return study_plan(self.study, self.resources)


def save_manifest(study_dir: Path, study: Study, resources: Resources, cache_root: Path, started: float) -> None:
    """`started`: when this run began (time.time(), before the encoder was pretrained); an earlier run's start
    is kept, so the study's elapsed time spans every run of it, as its stages' times do."""
    atomic_write_json(
        StudyLayout(study_dir) / STUDY,
        {
            "started": started_at(study_dir) or started,
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


def started_at(study_dir: Path) -> float | None:
    """When the study's first run began; None for a directory without a manifest or from before xlt recorded it."""
    path = StudyLayout(study_dir) / STUDY
    return json.loads(path.read_text()).get("started") if path.is_file() else None


def load_manifest(study_dir: Path) -> Manifest:
    study_dir = Path(study_dir).resolve()
    path = StudyLayout(study_dir) / STUDY
    if not path.is_file():
        raise XltError(
            f"{study_dir}: no {STUDY}, so not a study directory written by `xlt run` (give the study's output_dir)"
        )
    raw = json.loads(path.read_text())
    study = validate_study(raw["config"], str(path))
    resources = raw["resources"]
    data_dir = Path(resources["data_dir"]) if resources["data_dir"] else None
    return Manifest(study_dir, study, Resources(**{**resources, "data_dir": data_dir}), Path(raw["cache_root"]))
