"""A task is data: one `TaskSpec` per task, registered by its own small module in `xlt.tasks`.

Examples are plain dicts whose shape is fixed by the task *kind* (see `xlt.kinds`):

- ``classification``:      {"id", "text", "label": str}
- ``pair_classification``: {"id", "text_a", "text_b", "label": str}
- ``multiple_choice``:     {"id", "premise", "question", "choices": [str, ...], "label": int}
- ``tagging``:             {"id", "tokens": [str, ...], "tags": [str, ...]}
- ``qa``:                  {"id", "context", "question", "answers": [{"text": str, "answer_start": int}, ...]}
- ``retrieval``:           {"id", "query": str, "candidate": str}  (parallel: query i's gold is candidate i;
                           the id ends with the candidate's index)
- ``ranking``:             queries {"id", "query", "relevant": [candidate ids]} and a pool
                           {"id", "candidate", "candidate_id"}; training pairs {"id", "query", "candidate"}
- ``mining``:              source {"id", "query"}, target {"candidate_id", "candidate"}, both for a gold pair;
                           "calibration": True marks examples that only fix the threshold (BUCC dev)

A prediction (what a kind decodes for each scored example, and what a submission file holds) is, by
kind: a label string; a label string; a choice index; a list of tags; an answer string; a candidate
index; the TOP_K candidate ids, best first; for mining, the language's whole list of mined pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal, Mapping

from xlt.errors import XltError
from xlt.registry import Registry

KINDS = ("classification", "pair_classification", "multiple_choice", "tagging", "qa", "retrieval", "ranking", "mining")

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
    train_task: str | None = None  # the task that trains this one ("squad" for "xquad"); see training_task
    chain: tuple[str, ...] = ()  # the English training chain, e.g. ("siqa", "copa") for XCOPA
    submission_ext: str = "tsv"  # XTREME submission layout: {task}/test-{lang}.{ext}
    hub: str = ""  # Hugging Face dataset id (and config pattern), for `xlt tasks`
    description: str = ""
    splits: tuple[str, ...] = ("train", "dev", "test")
    # a task's average: "languages" = unweighted mean of the per-language scores (XTREME's rule);
    # "examples" = one score over the examples of all languages together (LAReQA's pooled mAP)
    averaging: Literal["languages", "examples"] = "languages"
    extra: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"task {self.name!r}: kind {self.kind!r} is not one of {KINDS}")

    @property
    def training_task(self) -> str:
        """What a study trains a target on: its own train split, else `train_task` (XQuAD, Tatoeba <- SQuAD)."""
        if "train" in self.splits:
            return self.name
        if self.train_task is None:
            raise XltError(f"{self.name} has no training data and names no train_task to train on")
        return self.train_task

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
