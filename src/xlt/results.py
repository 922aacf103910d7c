"""The study directory's schema: what `xlt run` writes and the report (or any reader) relies on.

A study directory describes itself; nothing in it needs xlt's registries to be read:
  results.csv          COLUMNS below, one row per (recipe, seed, eval language, split, metric)
  tasks.json           {task: TaskRecord} for every evaluated task: kind, metrics, primary metric, averaging
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
  stages/{hash}/       one directory per stage, COMPLETED once fully written
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 1
REFERENCES = ("majority", "random_init")  # reference rows: shown below the recipes, never contrasted by default
ORACLE = "@target-dev"  # method-name suffix of the rows a target-dev selected checkpoint scores (an oracle)


def units_dir(method: str, stage_hash: str) -> str:
    """The folder under units/ of a row's per-example units: its stage's hash, or beside it for an oracle row,
    which scores another checkpoint of the same training stage."""
    return stage_hash + ORACLE if method.endswith(ORACLE) else stage_hash


COLUMNS = (
    "method",  # recipe's method name as in the config, or a reference: "majority", "random_init"
    "intermediate",  # intermediate condition name ("none" when there is none)
    "target_task",
    "train_languages",  # "+"-joined, e.g. "en" or "en+de"
    "eval_language",
    "split",  # "test" or "dev"
    "metric",
    "value",  # x100, as the official evaluator reports
    "seed",
    "stage_hash",  # hash of the target stage that produced the row (keys units/)
    "primary",  # 1 when `metric` is the task's primary metric, else 0
)
RESULTS, TASKS, PROVENANCE, LANGUAGES = "results.csv", "tasks.json", "provenance.json", "languages.json"
DISTANCES = "distances.json"
EXAMPLES = "examples"  # per-example outputs, beside predictions/


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskRecord(Record):
    kind: str
    metrics: list[str]
    primary_metric: str
    averaging: str  # "languages" (XTREME's unweighted mean) or "examples" (LAReQA's pooled score)
    higher_is_better: bool
    version: int


class TrainRecord(Record):
    """A training stage's stage.json: what ran, how big, how long."""

    stage: str  # its description
    hash: str
    parent: str | None
    steps: int
    examples: int
    carry_policy: dict[str, str] | None  # what it took from its parent (`xlt.pipeline.carry`); None without one
    parameters: dict[str, int]  # trainable, total
    wall_seconds: float
    # torch's threads in the process that trained it (`--workers` shares the cores): on CPU the thread count
    # decides the order of floating-point sums, so the same stage on other threads differs in the last bits
    threads: int | None = None
    cpu_kernels: str | None = None  # the instruction set of torch's CPU kernels: it orders the sums too
    final_loss: float | None
    mixture: dict[str, dict[str, int]] | None = None  # examples drawn per task and language
    # per criterion ("dev", "target-dev"): the chosen step, its score, and every scoring
    selection: dict[str, dict[str, Any]] | None = None


class StageProvenance(TrainRecord):
    role: str
    task: str
    method: str
    method_options: dict[str, Any]
    head_options: dict[str, Any]
    languages: list[str]
    seed: int


class Provenance(Record):
    schema_version: int = SCHEMA_VERSION
    config: dict[str, Any]
    resources: dict[str, Any]
    git_commit: str | None
    versions: dict[str, str | None]
    python: str
    device: str
    training_runs: int
    stages: dict[str, StageProvenance]
    # per evaluation of a trained stage, by its hash: the recipe and the checkpoint it scored (stage, name, step)
    evaluations: dict[str, dict[str, Any]] = {}
    randomness: dict[str, Any] = {}  # every seed and rule that shapes the numbers (`xlt.pipeline.randomness`)
    wall_seconds_this_run: float
