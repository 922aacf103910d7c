"""The rows of results.csv and contrasts.csv, typed: collection writes them, the notebook API's dtypes, tracking
and the report read them through these models."""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(cls.model_fields)

    @classmethod
    def dtypes(cls) -> dict[str, str]:
        """pandas dtypes of the columns: nullable ones where a cell may be empty."""
        return {name: _dtype(field.annotation) for name, field in cls.model_fields.items()}


class ScoreRow(Row):
    """One metric an evaluation scored on one language (its rows.json): collection adds the recipe's columns."""

    eval_language: str
    split: str
    metric: str
    value: float
    primary: int


class ResultRow(Row):
    """One scored metric: a recipe's (or a reference's) score on one language and split, for one seed."""

    method: str  # the recipe's method name as in the config, or a reference: "majority", "random_init"
    intermediate: str  # intermediate condition name ("none" when there is none)
    target_task: str
    train_languages: str  # "+"-joined, e.g. "en" or "en+de"
    eval_language: str
    split: str  # "test" or "dev"
    metric: str
    value: float  # x100, as the official evaluator reports
    seed: int
    stage_hash: str  # hash of the target stage that produced the row (keys units/)
    primary: int  # 1 when `metric` is the task's primary metric, else 0


class ContrastRow(Row):
    """One contrast of two recipes on one language (or an average), as the report computed it: the difference
    `a - b`, its interval and p-values before and after the multiplicity correction (empty where a recipe has too
    few seeds or units to test)."""

    a: str
    b: str
    task: str
    train_languages: str
    language: str  # a language, or an average row's label
    group: str  # "seen", "unseen", or the average's group
    difference: float
    low: float | None
    high: float | None
    p_value: float | None
    p_adjusted: float | None  # within the contrast, by the study's correction (Holm by default)
    seeds: str | None  # "3": paired seeds; "3+2": unpaired
    examples: int | None
    p_pairs: float | None  # adjusted within its contrast's transfer pairs (`xlt.report.pairs`)


COLUMNS = ResultRow.columns()  # results.csv's header


def result_row(score: ScoreRow, **recipe: Any) -> ResultRow:
    """A results.csv row: an evaluation's score with the recipe's columns (method, intermediate, target_task,
    train_languages, seed, stage_hash)."""
    return ResultRow(**recipe, **score.model_dump())


def _dtype(annotation: Any) -> str:
    optional = get_origin(annotation) is not None and type(None) in get_args(annotation)
    base = next((a for a in get_args(annotation) if a is not type(None)), annotation) if optional else annotation
    if base is float:
        return "float64"
    if base is int:
        return "Int64" if optional else "int64"
    return "string"
