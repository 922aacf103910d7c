"""A task is data: one `TaskSpec` per task, registered by its own small module in `xlt.tasks`.

A spec states what makes the task itself (languages, labels, loader, training task) and only what
differs from its kind's defaults (`xlt.kinds`: metrics, scorer, submission format, typed settings);
the kind's module also documents the example dicts a loader yields and the predictions decoded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from xlt.errors import XltError
from xlt.registry import Registry
from xlt.submission import EXTENSIONS

# (split, lang, data_dir) -> examples. data_dir None means "the task's Hugging Face Hub source".
Loader = Callable[[str, str, "Path | None"], list[dict]]


@dataclass(frozen=True)
class TaskSpec:
    name: str
    kind: str  # a registered kind (`xlt.kinds`)
    languages: Mapping[str, tuple[str, ...]]  # benchmark name -> evaluation languages
    load: Loader
    labels: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()  # result keys, primary first; () = the kind's
    scorer: str = ""  # key of `xlt.metrics.SCORERS`; "" = the kind's
    submission: str = ""  # XTREME submission format of {task}/test-{lang}.{ext}; "" = the kind's
    settings: Any = field(default_factory=dict)  # the kind's typed settings (a mapping is validated into them)
    train_languages: tuple[str, ...] = ("en",)
    train_task: str | None = None  # the task that trains this one ("squad" for "xquad"); see training_tasks
    chain: tuple[str, ...] = ()  # tasks trained one after another before evaluation: ("siqa", "copa") for XCOPA
    hub: str = ""  # Hugging Face dataset id (and config pattern), for `xlt tasks`
    source: Any = None  # the TaskSource `load` reads (it is `load` itself when that is one): where files are
    splits: tuple[str, ...] = ("train", "dev", "test")
    # a task's average: "languages" = unweighted mean of the per-language scores (XTREME's rule);
    # "examples" = one score over the examples of all languages together (LAReQA's pooled mAP)
    averaging: Literal["languages", "examples"] = "languages"
    higher_is_better: bool = True
    version: int = 1  # bump when the task's data handling or scoring changes what it reports

    def __post_init__(self) -> None:
        from xlt.kinds import get_kind

        try:
            kind = get_kind(self.kind)
        except XltError as err:
            raise ValueError(f"task {self.name!r}: {err}") from None
        defaults = {
            "metrics": kind.metrics,
            "scorer": kind.scorer,
            "submission": kind.submission,
            "source": self.load if hasattr(self.load, "locate") else None,
        }
        for name, default in defaults.items():
            if not getattr(self, name):
                object.__setattr__(self, name, default)
        if not isinstance(self.settings, BaseModel):
            try:
                object.__setattr__(self, "settings", kind.Settings.model_validate(dict(self.settings)))
            except ValidationError as err:
                raise ValueError(f"task {self.name!r}: settings of a {self.kind} task: {err}") from None

    @property
    def training_tasks(self) -> tuple[str, ...]:
        """What a study trains a target on, in order: its chain, else its own train split, else `train_task`
        (XQuAD, Tatoeba <- SQuAD)."""
        if self.chain:
            return self.chain
        if "train" in self.splits:
            return (self.name,)
        if self.train_task is None:
            raise XltError(f"{self.name} has no training data and names no train_task to train on")
        return (self.train_task,)

    @property
    def training_task(self) -> str:
        """The last task trained before evaluation: the one whose head the evaluation may keep."""
        return self.training_tasks[-1]

    def majority_task(self) -> TaskSpec | None:
        """The task in whose train split the majority reference counts labels: this one, else the last task
        trained before evaluation where it has this task's kind, labels and settings (XCOPA: COPA); None where
        neither has one to give and the kind's majority reads no labels (a QA task's answers nothing)."""
        from xlt.kinds import get_kind

        if "train" in self.splits:
            return self
        if not get_kind(self.kind).majority_counts_labels:
            return None
        trainer = get_task(self.training_task)
        if (trainer.kind, trainer.labels, trainer.settings) != (self.kind, self.labels, self.settings):
            raise XltError(
                f"{self.name} has no train split, and {trainer.name}, the last task it is trained on, has another "
                f"kind or other labels, so the majority reference has no labels to count; leave 'majority' out "
                f"of references (e.g. references: [])"
            )
        return trainer

    @property
    def primary_metric(self) -> str:
        return self.metrics[0]

    @property
    def submission_ext(self) -> str:
        return EXTENSIONS[self.submission]

    def eval_languages(self, benchmark: str | None = None) -> tuple[str, ...]:
        if benchmark is None:
            benchmark = next(iter(self.languages))
        return self.languages[benchmark]

    def record(self) -> dict:
        """What a study directory keeps of the task (tasks.json), so its report never reads the registry."""
        return {
            "kind": self.kind,
            "metrics": list(self.metrics),
            "primary_metric": self.primary_metric,
            "averaging": self.averaging,
            "higher_is_better": self.higher_is_better,
            "version": self.version,
        }


TASKS: Registry[TaskSpec] = Registry("task", "xlt.tasks")


def register(spec: TaskSpec) -> TaskSpec:
    return TASKS.register(spec.name, spec)


def get_task(name: str) -> TaskSpec:
    return TASKS.get(name)
