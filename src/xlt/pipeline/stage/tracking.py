"""Experiment tracking through accelerate's trackers (`tracking:` in a study, `xlt run --track tensorboard`).

Each training stage is one run: loss, learning rates, throughput and, with `training.select`, every dev score,
against the step, with the stage's hash and configuration as the run's metadata. Each evaluation is one run:
every metric of every language (and the primary metric's mean over languages) at the evaluated stage's last step.
A run's name says recipe, stage, task, languages and seed, as the predictions folder does:
`finetune.multilingual.seed0.target-synth-nli-base`. Logs stay under the study directory's tracking/{project}/;
W&B runs offline unless WANDB_MODE says otherwise, so nothing waits on a network. Tracking never enters a stage
hash: turning it on reuses every completed stage.
"""

from __future__ import annotations

import importlib.util
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlt.config import Study
from xlt.config import Tracking as TrackingConfig
from xlt.errors import XltError
from xlt.pipeline.plan.graph import EvalStage, Plan, TrainStage
from xlt.results.layout import TRACKING, StudyLayout

if TYPE_CHECKING:
    from accelerate.tracking import GeneralTracker

    from xlt.pipeline.stage.context import Context
    from xlt.pipeline.stage.selection import Selector
    from xlt.results.rows import ScoreRow

PACKAGES = {"tensorboard": "tensorboard", "wandb": "wandb", "mlflow": "mlflow"}


@dataclass(frozen=True)
class Tracking:
    """A study's tracking: the backend, where its logs go, and the run name of every stage."""

    config: TrackingConfig
    root: Path  # {study}/tracking/{project}
    names: dict[str, str]  # stage hash (training or evaluation) -> run name

    @classmethod
    def for_study(cls, study: Study, plan: Plan, study_dir: Path) -> Tracking | None:
        """None when the study does not track; an error before any work when the backend is not installed."""
        config = study.tracking
        if config is None:
            return None
        package = PACKAGES[config.backend]
        if importlib.util.find_spec(package) is None:
            raise XltError(
                f"tracking.backend {config.backend}: the {package} package is not installed; "
                f"pip install {package}, or drop `tracking` from the study"
            )
        return cls(config, StudyLayout(study_dir) / TRACKING / _safe(config.project or study.name), run_names(plan))

    def open(self, stage_hash: str, metadata: dict[str, Any]) -> GeneralTracker:
        tracker = self._tracker(self.names[stage_hash])
        tracker.start()
        tracker.store_init_configuration(_flat(metadata))
        return tracker

    def _tracker(self, name: str) -> GeneralTracker:
        from accelerate.tracking import MLflowTracker, TensorBoardTracker, WandBTracker

        self.root.mkdir(parents=True, exist_ok=True)
        backend, project = self.config.backend, self.root.name
        if backend == "tensorboard":
            return TensorBoardTracker(name, self.root)
        if backend == "wandb":
            return WandBTracker(project, name=name, dir=str(self.root), mode=os.environ.get("WANDB_MODE", "offline"))
        if "MLFLOW_TRACKING_URI" not in os.environ:  # a local store under the study, not ./mlruns of the cwd
            import mlflow

            mlflow.set_tracking_uri(self.root.resolve().as_uri())
        return MLflowTracker(project, str(self.root), run_name=name)


def run_names(plan: Plan) -> dict[str, str]:
    """Every stage's run name, from the first evaluation that reads it: {recipe}.{intermediate}.seed{N}.{stage}."""
    names: dict[str, str] = {}
    for ev in plan.evals:
        prefix = _safe(f"{ev.label}.{ev.intermediate}.seed{ev.seed}")
        names.setdefault(ev.hash, f"{prefix}.{_safe(f'evaluation-{ev.task}-' + '+'.join(ev.train_languages))}")
        stage_hash = ev.source
        while stage_hash is not None and stage_hash not in names:
            stage = plan.train[stage_hash]
            names[stage_hash] = f"{prefix}.{_safe(f'{stage.role}-{stage.task}-' + '+'.join(stage.languages))}"
            stage_hash = stage.parent
    return names


class StageRun:
    """The run of one training stage; does nothing when the study does not track."""

    def __init__(self, stage: TrainStage, ctx: Context):
        tracking = ctx.reporting.tracking
        self.tracker = None if tracking is None else tracking.open(stage.hash, _stage_metadata(stage))
        self.batch_size = stage.training.batch_size
        self.last = time.perf_counter()

    def step(self, step: int, loss: float, learning_rates: list[float], selector: Selector | None) -> None:
        """Called after each optimizer step. Throughput is the batch over the wall time since the previous step
        (a step that scored dev sets includes that time)."""
        if self.tracker is None:
            return
        now = time.perf_counter()
        values = {
            "train/loss": loss,
            "train/lr": learning_rates[0],
            "train/examples_per_second": self.batch_size / max(now - self.last, 1e-9),
        }
        if len(learning_rates) > 1:
            values["train/head_lr"] = learning_rates[-1]
        for criterion in selector.criteria if selector is not None else ():
            if criterion.history and criterion.history[-1][0] == step:
                values[f"{criterion.name}/{criterion.spec.primary_metric}"] = criterion.history[-1][1]
        self.tracker.log(values, step=step)
        self.last = time.perf_counter()

    def finish(self) -> None:
        if self.tracker is not None:
            self.tracker.finish()


def log_evaluation(ev: EvalStage, rows: list[ScoreRow], steps: int, ctx: Context) -> None:
    """One run per evaluation: `{split}/{metric}/{language}` for every row, and the primary metric's mean over
    languages as `{split}/{metric}/average`, at the evaluated stage's last step (`steps`)."""
    if ctx.reporting.tracking is None:
        return
    metadata = {
        "stage_hash": ev.hash,
        "source": ev.source,
        "recipe": ev.label,
        "intermediate": ev.intermediate,
        "task": ev.task,
        "train_languages": "+".join(ev.train_languages),
        "split": ev.split,
        "seed": ev.seed,
    }
    tracker = ctx.reporting.tracking.open(ev.hash, metadata)
    values = {f"{row.split}/{row.metric}/{row.eval_language}": row.value for row in rows}
    primary = [row for row in rows if row.primary]
    if primary:
        values[f"{ev.split}/{primary[0].metric}/average"] = sum(row.value for row in primary) / len(primary)
    tracker.log(values, step=steps)
    tracker.finish()


def _stage_metadata(stage: TrainStage) -> dict[str, Any]:
    return {
        "stage_hash": stage.hash,
        "parent": stage.parent,
        "role": stage.role,
        "task": stage.task,
        "languages": "+".join(stage.languages),
        "temperature": stage.temperature,
        "method": stage.method,
        "seed": stage.seed,
        "training": stage.training.model_dump(mode="json"),
        "method_options": stage.method_options.model_dump(mode="json"),
        "head_options": stage.head_options.model_dump(mode="json"),
    }


def _flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested options as dotted keys with scalar values, which every backend's hyperparameter store accepts."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            plain = isinstance(value, (bool, int, float, str))
            flat[f"{prefix}{key}"] = value if plain else str(value)
    return flat


def _safe(name: str) -> str:
    """A run name that is also a folder name."""
    return re.sub(r"[^A-Za-z0-9_.+@-]+", "-", name).strip("-")
