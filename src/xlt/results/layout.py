"""Where everything lies in a study directory and in a stage's directory: the one module that spells those paths.

A study directory (`StudyLayout`):
  results.csv          `xlt.results.rows.ResultRow`, one row per (recipe, seed, eval language, split, metric)
  contrasts.csv        `xlt.results.rows.ContrastRow`, written by the report
  tasks.json           {task: `TaskRecord`} for every evaluated task: kind, metrics, primary metric, averaging
  provenance.json      `Provenance`: resolved config, versions, git commit, device, one record per training stage
  units/{stage_hash}/{split}-{lang}.npz   arrays `num`, `den` for the primary metric of a row group:
                       primary value == 100 * num.sum() / den.sum(); examples in the same order for every
                       recipe of a task, so bootstraps can be paired. An oracle row's (`ORACLE`) lie in
                       units/{stage_hash}@target-dev/: it scores another checkpoint of the same stage (`units_dir`)
  predictions/{method}.{intermediate}.seed{N}/{task}/{split}-{lang}.{ext}   XTREME submission layout; a task
                       trained on several language sets (`sources`) adds them: {...}.seed{N}.from-{languages}/
  examples/{method}.{intermediate}.seed{N}/{task}/{split}-{lang}.jsonl   one JSON object a scored example, in
                       the units' order: "id", "text" (the example's text fields), "gold", "prediction"
                       (a kind that predicts one pair list per language, mining, writes none; `sources` as above)
  languages.json       optional {lang: {property: value}} shown beside the scores: name, family, script (and the
                       synthetic benchmark's own properties)
  distances.json       optional {"measures": {measure: what it is}, "from": {training lang: {lang: {measure: d}}}}:
                       syntactic, genetic and geographic distances (None where unknown), `xlt.languages`
  study.json           the resolved config and resources, saved before any stage runs (`xlt.pipeline.run.manifest`)
  stages/{hash}/       one directory per stage, COMPLETED once fully written (below)
  workers/, slurm/, tracking/   logs of local workers, Slurm job records and logs, experiment trackers' files

A stage's directory: stage.json (its record), and a training stage's checkpoint/ (the trainable tensors it
keeps), selected/{criterion}/, resume/ and loss.json; an evaluation's rows.json, units/, predictions/, examples/.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xlt.results.records import ORACLE

RESULTS, CONTRASTS, TASKS = "results.csv", "contrasts.csv", "tasks.json"
PROVENANCE, LANGUAGES, DISTANCES = "provenance.json", "languages.json", "distances.json"
STUDY, STAGES, UNITS, PREDICTIONS, EXAMPLES = "study.json", "stages", "units", "predictions", "examples"
WORKERS, SLURM, TRACKING = "workers", "slurm", "tracking"
REPORT_MARKDOWN, REPORT_HTML = "report.md", "report.html"

# inside a stage's directory
RECORD = "stage.json"
RESUME = "resume"  # a training stage's resume points: mutable until the stage is sealed, so not sealed
CHECKPOINT = "checkpoint"  # a training stage's checkpoint: its last step, or the step `select` chose on dev
SELECTED = "selected"  # selected/{criterion}/: the best checkpoint so far of each selection criterion
LOSSES = "loss.json"
ROWS = "rows.json"  # an evaluation's rows, before collection adds the recipe's columns


def units_dir(method: str, stage_hash: str) -> str:
    """The folder under units/ of a row's per-example units: its stage's hash, or beside it for an oracle row,
    which scores another checkpoint of the same training stage."""
    return stage_hash + ORACLE if method.endswith(ORACLE) else stage_hash


@dataclass(frozen=True)
class StudyLayout:
    """The paths of one study directory."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    def stage(self, stage_hash: str) -> Path:
        return self.root / STAGES / stage_hash

    @property
    def stages(self) -> Path:
        return self.root / STAGES

    def units(self, method: str, stage_hash: str) -> Path:
        return self.root / UNITS / units_dir(method, stage_hash)

    def outputs(self, folder: str, run: str) -> Path:
        """A run's predictions/ or examples/ folder (`folder`: PREDICTIONS or EXAMPLES)."""
        return self.root / folder / run

    def __truediv__(self, name: str) -> Path:
        """A file or folder at the study's top level, by its name above (`layout / RESULTS`)."""
        return self.root / name
