"""Checkpoint selection during a training stage (`training.select`), as the papers selected theirs.

Every `every` steps, and at the last step, the model is scored on dev sets with the task's official
primary metric (mean over languages) and the best checkpoint of each criterion is kept; ties go to the
earlier step. "dev" scores the stage's own task on the dev split of its training languages (zero-shot
selection: salesforce/MPT's load_best_model_at_end on English dev, jiant's early stopping, XTREME's
scripts); its best checkpoint becomes the stage's checkpoint. "target-dev" scores the evaluated task on
the dev sets of every evaluated language: an oracle, kept in its own checkpoint and reported as its own
labelled row. Scoring is deterministic (eval mode, no sampling), so a resumed stage re-scores the steps
after its last resumable checkpoint identically and chooses the same step.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from xlt.kinds import get_kind
from xlt.model import TaskModel, save_tensors
from xlt.pipeline.plan.graph import TrainStage, checkpoint_name
from xlt.pipeline.stage.context import Context
from xlt.pipeline.stage.evaluator import Evaluator
from xlt.results.layout import SELECTED
from xlt.runtime.distributed import on_main, trainable_tensors
from xlt.runtime.io import atomic_copy_tree
from xlt.tasks import TaskSpec, get_task


@dataclass
class Criterion:
    name: str
    spec: TaskSpec
    data: dict[str, tuple[list[dict], list[dict]]]  # language -> (dev examples, their features)
    best: float | None = None
    step: int | None = None
    history: list[list[float]] = field(default_factory=list)  # [step, score] of every scoring

    def record(self, every: int) -> dict:
        return {
            "step": self.step,
            "score": self.best,
            "metric": self.spec.primary_metric,
            "every": every,
            "task": self.spec.name,
            "languages": list(self.data),
            "history": self.history,
        }


class Selector:
    def __init__(self, stage: TrainStage, ctx: Context, max_length: int, token_types: bool, directory: Path):
        select = stage.training.select
        assert select is not None
        self.every, self.ctx, self.directory = select.every, ctx, directory / SELECTED
        self.token_types = token_types  # whether the encoder embeds them (`Encoder.token_types`)
        self.batch_size = stage.training.eval_batch_size
        languages = {"dev": stage.languages, "target-dev": stage.oracle_languages}
        self.criteria = [self._criterion(name, get_task(stage.task), languages[name], max_length) for name in select.on]

    def _criterion(self, name: str, spec: TaskSpec, languages: tuple[str, ...], max_length: int) -> Criterion:
        kind, data = get_kind(spec.kind), {}
        for lang in languages:
            examples = spec.load("dev", lang, self.ctx.resources.data_dir)
            features = self.ctx.features(spec, kind, examples, "dev", lang, max_length, self.token_types)
            data[lang] = (examples, features)
        return Criterion(name, spec, data)

    def due(self, step: int, total: int) -> bool:
        return step % self.every == 0 or step == total

    def score(self, model: TaskModel, step: int) -> None:
        model.eval()
        for criterion in self.criteria:
            scores = [self._score(model, criterion, lang) for lang in criterion.data]
            value = round(sum(scores) / len(scores), 6)
            criterion.history.append([step, value])
            if criterion.best is None or value > criterion.best:  # strictly better: ties keep the earlier step
                criterion.best, criterion.step = value, step
                best = trainable_tensors(model)  # every process scored the same: all take part in gathering
                on_main(save_tensors, best, self.directory / criterion.name, {"step": step, "score": value})
        model.train()

    def _score(self, model: TaskModel, criterion: Criterion, lang: str) -> float:
        examples, features = criterion.data[lang]
        return Evaluator(model, criterion.spec, self.batch_size).primary_score(lang, examples, features)

    def state(self) -> dict:
        return {c.name: {"best": c.best, "step": c.step, "history": c.history} for c in self.criteria}

    def restore(self, state: dict) -> None:
        for criterion in self.criteria:
            saved = state.get(criterion.name, {})
            criterion.best, criterion.step = saved.get("best"), saved.get("step")
            criterion.history = saved.get("history", [])

    def finish(self, stage_dir: Path) -> dict:
        """Each criterion's best checkpoint in its place; returns the selection record."""
        for criterion in self.criteria:
            target = stage_dir / checkpoint_name(criterion.name)
            shutil.rmtree(target, ignore_errors=True)
            atomic_copy_tree(self.directory / criterion.name, target)
        return {c.name: c.record(self.every) for c in self.criteria}
