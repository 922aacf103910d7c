"""Read a study directory into report sections: one per target task, train languages and primary metric.

Only files are read (results.csv, tasks.json, languages.json, distances.json, provenance.json, the stages'
loss.json; `xlt.results.records` is their schema), so an old study's report is rebuilt from what the study recorded,
whatever the registry says now.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

from xlt.errors import XltError
from xlt.results.layout import DISTANCES, LANGUAGES, LOSSES, PROVENANCE, RESULTS, TASKS, StudyLayout, units_dir
from xlt.results.records import REFERENCES
from xlt.results.rows import COLUMNS

BASELINE_INTERMEDIATE = "none"


@dataclass(frozen=True)
class Recipe:
    method: str
    intermediate: str

    @property
    def label(self) -> str:
        if self.intermediate == BASELINE_INTERMEDIATE:
            return self.method
        return f"{self.method} + {self.intermediate}"

    @property
    def is_reference(self) -> bool:
        return self.method in REFERENCES


@dataclass(frozen=True)
class Cell:
    value: float
    stage_hash: str  # the training stage that produced it (its lineage: parents, training languages)
    units: str  # its folder under units/ (`xlt.results.layout.units_dir`)


@dataclass
class Section:
    task: str
    train_languages: tuple[str, ...]
    split: str
    metric: str
    languages: list[str]  # training languages first, then the others in results order
    recipes: list[Recipe]  # recipes (each method's baseline first), then references
    cells: dict[Recipe, dict[str, dict[str, Cell]]]  # recipe -> seed -> language -> cell
    averaging: str = "languages"  # the task's (tasks.json): "examples" pools all languages' examples

    @property
    def title(self) -> str:
        return f"{self.task}, trained on {'+'.join(self.train_languages)} ({self.split}, {self.metric})"

    @property
    def slug(self) -> str:
        name = f"{self.task}_{'-'.join(self.train_languages)}_{self.metric}"
        return re.sub(r"[^A-Za-z0-9_.-]", "-", name)  # safe as a file name

    def seeds(self, recipe: Recipe) -> list[str]:
        return list(self.cells[recipe])

    def baseline(self, recipe: Recipe) -> Recipe | None:
        """The same method without intermediate training, when the study ran it and `recipe` is not it."""
        base = Recipe(recipe.method, BASELINE_INTERMEDIATE)
        if recipe.is_reference or recipe == base or base not in self.cells:
            return None
        return base

    def reference(self, method: str) -> Recipe | None:
        return next((r for r in self.recipes if r.method == method), None)


def read_rows(study_dir: Path) -> list[dict[str, str]]:
    path = study_dir / RESULTS
    if not path.is_file():
        raise XltError(f"no results.csv in {study_dir}: run `xlt run` on a study first, or pass its directory")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f, restval="")  # a short (truncated) line reads as empty fields
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise XltError(f"{path} lacks columns {', '.join(missing)}; its header must hold {','.join(COLUMNS)}")
        return list(reader)


def read_tasks(study_dir: Path) -> dict[str, dict]:
    """tasks.json ({task: record}, `xlt.results.records.TaskRecord`); a study written before it existed has none."""
    return read_optional_json(study_dir / TASKS) or {}


def build_sections(rows: list[dict[str, str]], tasks: dict[str, dict] | None = None) -> list[Section]:
    """Primary-metric rows grouped by (task, train languages, metric), on the test split when there is one;
    `tasks` (tasks.json) gives each task's averaging.

    A row repeated for the same recipe, seed and language (a rerun appends) counts once, the last one.
    """
    groups: dict[tuple[str, str, str], list[tuple[int, dict[str, str]]]] = {}
    for line, row in enumerate(rows, start=2):
        if _is_primary(row, line):
            groups.setdefault((row["target_task"], row["train_languages"], row["metric"]), []).append((line, row))
    if not groups:
        raise XltError("results.csv has no primary-metric rows (primary == 1); rerun the study's evaluation")
    tasks = tasks or {}
    return [
        _section(key, numbered, tasks.get(key[0], {}).get("averaging", "languages")) for key, numbered in groups.items()
    ]


def _section(key: tuple[str, str, str], numbered: list[tuple[int, dict[str, str]]], averaging: str) -> Section:
    task, train, metric = key
    splits = {row["split"] for _, row in numbered}
    split = "test" if "test" in splits else sorted(splits)[0]
    cells: dict[Recipe, dict[str, dict[str, Cell]]] = {}
    languages: list[str] = []
    for line, row in numbered:
        if row["split"] != split:
            continue
        recipe = Recipe(row["method"], row["intermediate"])
        lang = row["eval_language"]
        cells.setdefault(recipe, {}).setdefault(row["seed"], {})[lang] = Cell(
            _number(row, line), row["stage_hash"], units_dir(row["method"], row["stage_hash"])
        )
        if lang not in languages:
            languages.append(lang)
    train_languages = tuple(train.split("+"))
    ordered = [lang for lang in train_languages if lang in languages]
    ordered += [lang for lang in languages if lang not in train_languages]
    return Section(task, train_languages, split, metric, ordered, _order_recipes(list(cells)), cells, averaging)


def metric_means(rows: list[dict[str, str]]) -> dict[tuple[str, str, str, str], float]:
    """(task, language or "average", metric, recipe label) -> mean over seeds, every metric, test split (dev
    when a task has no test rows); "average" is the unweighted mean over the evaluated languages."""
    splits = {(row["target_task"], row["split"]) for row in rows}
    values: dict[tuple[str, str, str, str], list[float]] = {}
    for line, row in enumerate(rows, start=2):
        task = row["target_task"]
        if row["split"] != ("test" if (task, "test") in splits else "dev"):
            continue
        label = Recipe(row["method"], row["intermediate"]).label
        values.setdefault((task, row["eval_language"], row["metric"], label), []).append(_number(row, line))
    means = {key: sum(v) / len(v) for key, v in values.items()}
    by_recipe: dict[tuple[str, str, str], list[float]] = {}
    for (task, _, metric, label), value in means.items():
        by_recipe.setdefault((task, metric, label), []).append(value)
    return means | {(task, "average", metric, label): sum(v) / len(v) for (task, metric, label), v in by_recipe.items()}


def _is_primary(row: dict[str, str], line: int) -> bool:
    flag = row["primary"].strip().lower()
    if flag not in ("0", "1", "false", "true"):
        raise XltError(f"results.csv line {line}: primary {row['primary']!r} is not 0 or 1; fix or delete the row")
    return flag in ("1", "true")


def _number(row: dict[str, str], line: int) -> float:
    try:
        return float(row["value"])
    except ValueError:
        message = f"results.csv line {line}: value {row['value']!r} is not a number; fix or delete the row"
        raise XltError(message) from None


def _order_recipes(recipes: list[Recipe]) -> list[Recipe]:
    """Methods in results order, each method's baseline first; references last, in REFERENCES order."""
    methods = list(dict.fromkeys(r.method for r in recipes if not r.is_reference))

    def key(r: Recipe) -> tuple[int, int, int]:
        if r.is_reference:
            return (1, REFERENCES.index(r.method), recipes.index(r))
        return (0, methods.index(r.method), -1 if r.intermediate == BASELINE_INTERMEDIATE else recipes.index(r))

    return sorted(recipes, key=key)


def read_optional_json(path: Path) -> dict | None:
    """languages.json and provenance.json are optional: absent gives None, unreadable is an error."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise XltError(f"{path} is not valid JSON ({exc}); fix or delete it") from None
    if not isinstance(data, dict):
        raise XltError(f"{path} must hold a JSON object; fix or delete it")
    return data


@dataclass(frozen=True)
class SideFiles:
    """The study directory's optional files beside results.csv (None or empty when absent)."""

    languages: dict | None  # languages.json
    distances: dict | None  # distances.json
    provenance: dict | None  # provenance.json
    losses: dict[str, list[float]]  # training stage hash -> its loss per step (stages/{hash}/loss.json)

    @property
    def stages(self) -> dict:
        return (self.provenance or {}).get("stages") or {}


def read_side_files(study_dir: Path) -> SideFiles:
    provenance = read_optional_json(study_dir / PROVENANCE)
    losses = {}
    for stage_hash in (provenance or {}).get("stages") or {}:
        path = StudyLayout(study_dir).stage(stage_hash) / LOSSES
        if path.is_file():
            losses[stage_hash] = _loss_curve(path)
    return SideFiles(
        read_optional_json(study_dir / LANGUAGES), read_optional_json(study_dir / DISTANCES), provenance, losses
    )


def _loss_curve(path: Path) -> list[float]:
    try:
        curve = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise XltError(f"{path} is not valid JSON ({exc}); delete it or the stage") from None
    if not isinstance(curve, list) or not all(isinstance(v, (int, float)) for v in curve):
        raise XltError(f"{path} must hold a list of numbers (the loss per step); delete it or the stage")
    return curve
