"""The study directory's JSON records: tasks.json, provenance.json (their files: `xlt.results.layout`).

A study directory describes itself; nothing in it needs xlt's registries to be read."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 1
REFERENCES = ("majority", "random_init")  # reference rows: shown below the recipes, never contrasted by default
ORACLE = "@target-dev"  # method-name suffix of the rows a target-dev selected checkpoint scores (an oracle)


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
    carry_policy: dict[str, str] | None  # what it took from its parent (`xlt.pipeline.plan.carry`); None without one
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
    randomness: dict[str, Any] = {}  # every seed and rule that shapes the numbers (`xlt.pipeline.plan.randomness`)
    wall_seconds_this_run: float
