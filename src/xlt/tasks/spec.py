"""A task is data: one `TaskSpec` per task, registered by its own small module in `xlt.tasks`.

Examples are plain dicts whose shape is fixed by the task *kind* (see `xlt.kinds`):

- ``classification``:      {"id", "text", "label": str}
- ``pair_classification``: {"id", "text_a", "text_b", "label": str}
- ``multiple_choice``:     {"id", "premise", "question", "choices": [str, ...], "label": int}
- ``tagging``:             {"id", "tokens": [str, ...], "tags": [str, ...]}
- ``qa``:                  {"id", "context", "question", "answers": [{"text": str, "answer_start": int}, ...]}
- ``retrieval``:           {"id", "query": str, "candidate": str}  (parallel: query i's gold is candidate i)
  Mining and pooled tasks (BUCC, LAReQA, Mewsli-X) also hold unpaired sentences (query or candidate
  None) and a "candidate_id" (examples with equal ids share one candidate of the pool); LAReQA adds
  "group" (questions of one group share their gold answers) and "candidate_context".

A prediction (what a kind decodes for one example, and what a submission file holds) is, by kind:
a label string; a label string; a choice index; a list of tags; an answer string; a candidate index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from xlt.registry import Registry

KINDS = ("classification", "pair_classification", "multiple_choice", "tagging", "qa", "retrieval")

# (split, lang, data_dir) -> examples. data_dir None means "the task's Hugging Face Hub source".
Loader = Callable[[str, str, "Path | None"], list[dict]]


@dataclass(frozen=True)
class TaskSpec:
    name: str
    kind: str
    metrics: tuple[str, ...]  # result keys, the primary metric first (e.g. ("f1", "precision", ...))
    scorer: str  # key of `xlt.metrics.SCORERS`: how the official evaluator scores this task
    languages: Mapping[str, tuple[str, ...]]  # benchmark name -> evaluation languages
    load: Loader
    labels: tuple[str, ...] = ()
    train_languages: tuple[str, ...] = ("en",)
    train_task: str | None = None  # the task whose train split trains this one ("mnli" for "xnli")
    chain: tuple[str, ...] = ()  # the English training chain, e.g. ("siqa", "copa") for XCOPA
    submission_ext: str = "tsv"  # XTREME submission layout: {task}/test-{lang}.{ext}
    hub: str = ""  # Hugging Face dataset id (and config pattern), for `xlt tasks`
    description: str = ""
    splits: tuple[str, ...] = ("train", "dev", "test")
    extra: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"task {self.name!r}: kind {self.kind!r} is not one of {KINDS}")

    @property
    def primary_metric(self) -> str:
        return self.metrics[0]

    def eval_languages(self, benchmark: str | None = None) -> tuple[str, ...]:
        if benchmark is None:
            benchmark = next(iter(self.languages))
        return self.languages[benchmark]


TASKS: Registry[TaskSpec] = Registry("task")


def register(spec: TaskSpec) -> TaskSpec:
    return TASKS.register(spec.name, spec)


def get_task(name: str) -> TaskSpec:
    import xlt.tasks  # noqa: F401  (importing the package registers every task module)

    return TASKS.get(name)
