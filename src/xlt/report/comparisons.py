"""What a study compares, and each comparison's table: per-language contrasts, seen and unseen groups, averages.

The comparisons are the config's `comparisons:` (recipe labels, read from provenance.json) or, by default,
in this order: every pair of intermediate conditions of one method (the question xlt exists for:
multilingual against English-only intermediate training), every condition against no intermediate
stage, every pair of methods under one condition, and each target-dev oracle against its dev-selected
recipe.

A table's languages are "seen" when a training stage of either recipe drew examples in them (the
intermediate mixture and the target's own training languages, from the stage records of
provenance.json), else "unseen". Intervals and p-values come from `xlt.report.contrasts`; p-values are
adjusted within the table, its languages as one family and its average rows as another.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from xlt.report.contrasts import (
    ALPHA,
    Contrast,
    LanguageDraws,
    adjust,
    contrast_cell,
    contrast_combination,
    resample,
)
from xlt.report.stats import UnitsStore, example_weights
from xlt.report.study import BASELINE_INTERMEDIATE, Recipe, Section
from xlt.results.records import ORACLE

FAMILIES = ("conditions", "against none", "methods", "oracle", "configured")


@dataclass(frozen=True)
class Comparison:
    a: Recipe
    b: Recipe
    family: str  # one of FAMILIES

    @property
    def title(self) -> str:
        return f"{self.a.label} vs {self.b.label}"


@dataclass(frozen=True)
class Row:
    language: str  # a language, "average", or "seen - unseen"
    group: str  # "seen", "unseen" or "all"
    difference: float  # a - b, points, mean over paired seeds
    contrast: Contrast | None  # None: no interval (units missing, or runs on different examples)
    p_adjusted: float | None = None

    @property
    def significant(self) -> bool:
        return self.p_adjusted is not None and self.p_adjusted < ALPHA


@dataclass(frozen=True)
class ContrastTable:
    comparison: Comparison
    section: Section
    languages: list[Row]  # one per evaluation language
    averages: list[Row]  # all languages, seen, unseen, and seen - unseen (where both groups exist)
    seen: list[str]
    unseen: list[str]
    method: str  # multiplicity adjustment

    @property
    def overall(self) -> Row:
        return self.averages[0]

    def group(self, name: str) -> Row | None:
        return next((row for row in self.averages if row.language == "average" and row.group == name), None)

    @property
    def group_difference(self) -> Row | None:
        return next((row for row in self.averages if row.language == "seen - unseen"), None)


def comparisons(section: Section, configured: list[dict] | None) -> list[Comparison]:
    """The configured comparisons whose recipes both ran in this section, else the default ones."""
    if configured:
        by_label = {recipe.label: recipe for recipe in section.recipes}
        return [
            Comparison(by_label[c["a"]], by_label[c["b"]], "configured")
            for c in configured
            if c["a"] in by_label and c["b"] in by_label
        ]
    recipes = [r for r in section.recipes if not r.is_reference]
    honest = [r for r in recipes if not r.method.endswith(ORACLE)]
    methods = list(dict.fromkeys(r.method for r in honest))
    conditions = list(dict.fromkeys(r.intermediate for r in honest if r.intermediate != BASELINE_INTERMEDIATE))
    found = set(recipes)

    def pairs(family: str, candidates) -> list[Comparison]:
        return [Comparison(a, b, family) for a, b in candidates if a in found and b in found]

    return (
        pairs("conditions", ((Recipe(m, c2), Recipe(m, c1)) for m in methods for c1, c2 in combinations(conditions, 2)))
        + pairs("against none", ((Recipe(m, c), Recipe(m, BASELINE_INTERMEDIATE)) for m in methods for c in conditions))
        + pairs(
            "methods",
            (
                (Recipe(m2, c), Recipe(m1, c))
                for c in [BASELINE_INTERMEDIATE, *conditions]
                for m1, m2 in combinations(methods, 2)
            ),
        )
        + pairs(
            "oracle",
            ((r, Recipe(r.method.removesuffix(ORACLE), r.intermediate)) for r in recipes if r.method.endswith(ORACLE)),
        )
    )


def seen_languages(section: Section, recipes: list[Recipe], stages: dict) -> set[str]:
    """Languages some training stage of `recipes` drew examples in (walking each target stage's parents)."""
    seen: set[str] = set(section.train_languages)
    for recipe in recipes:
        for by_language in section.cells[recipe].values():
            for cell in by_language.values():
                seen |= _stage_languages(cell.stage_hash, stages)
    return seen


def _stage_languages(stage_hash: str | None, stages: dict) -> set[str]:
    found: set[str] = set()
    while stage_hash in stages:
        record = stages[stage_hash]
        mixture = record.get("mixture") or {}
        drawn = {lang for counts in mixture.values() for lang, n in counts.items() if n > 0}
        found |= drawn if mixture else set(record.get("languages") or ())
        stage_hash = record.get("parent")
    return found


class Draws:
    """Each language's bootstrap of every run scored on it, resampled once and shared by every contrast."""

    def __init__(self, section: Section, units: UnitsStore):
        self.section, self.units = section, units
        self._cache: dict[str, LanguageDraws | None] = {}

    def get(self, lang: str) -> LanguageDraws | None:
        if lang not in self._cache:
            self._cache[lang] = self._resample(lang)
        return self._cache[lang]

    def _resample(self, lang: str) -> LanguageDraws | None:
        section = self.section
        scored = {
            (recipe, seed): self.units.get(by_lang[lang].units, section.split, lang)
            for recipe, by_seed in section.cells.items()
            for seed, by_lang in by_seed.items()
            if lang in by_lang
        }
        runs = {run: arrays for run, arrays in scored.items() if arrays is not None}
        if not runs or len({len(num) for num, _ in runs.values()}) != 1:
            return None  # nothing to resample, or runs scored on different examples: they cannot be paired
        key = (section.task, "+".join(section.train_languages), section.split, lang)
        return resample(runs, key)


def contrast_table(comparison: Comparison, section: Section, draws: Draws, stages: dict, method: str) -> ContrastTable:
    a, b = comparison.a, comparison.b
    seen = seen_languages(section, [a, b], stages)
    groups = {lang: "seen" if lang in seen else "unseen" for lang in section.languages}
    languages = [row for lang in section.languages if (row := _language_row(comparison, section, draws, lang, groups))]
    averages = _average_rows(comparison, section, draws, [row.language for row in languages], groups)
    return ContrastTable(
        comparison,
        section,
        _adjusted(languages, method),
        _adjusted(averages, method),
        [lang for lang in section.languages if groups[lang] == "seen"],
        [lang for lang in section.languages if groups[lang] == "unseen"],
        method,
    )


def _language_row(
    comparison: Comparison, section: Section, draws: Draws, lang: str, groups: dict[str, str]
) -> Row | None:
    difference = _difference(section, comparison, lang)
    if difference is None:
        return None
    contrast = _interval(comparison, section, [draws.get(lang)], [1.0], [lang])
    return Row(lang, groups[lang], contrast.difference if contrast else difference, contrast)


def _difference(section: Section, comparison: Comparison, lang: str) -> float | None:
    """a - b on one language: the mean over the seeds both ran, else the difference of their seed means."""
    a, b = ({s: c[lang].value for s, c in section.cells[r].items() if lang in c} for r in (comparison.a, comparison.b))
    if not a or not b:
        return None
    common = [s for s in a if s in b]
    if common:
        return float(np.mean([a[s] - b[s] for s in common]))
    return float(np.mean(list(a.values())) - np.mean(list(b.values())))


def _interval(
    comparison: Comparison,
    section: Section,
    draws: list[LanguageDraws | None],
    coefficients: list[float],
    languages: list[str],
) -> Contrast | None:
    """The contrast with its interval, when every run of a and b on these languages has units to pair."""
    runs = [
        (r, s)
        for r in (comparison.a, comparison.b)
        for s, c in section.cells[r].items()
        if any(lang in c for lang in languages)
    ]
    if any(d is None or any(run not in d.columns for run in runs) for d in draws):
        return None
    present = [d for d in draws if d is not None]
    if len(present) == 1 and coefficients == [1.0]:
        return contrast_cell(present[0], comparison.a, comparison.b)
    return contrast_combination(present, comparison.a, comparison.b, coefficients)


def _average_rows(
    comparison: Comparison, section: Section, draws: Draws, languages: list[str], groups: dict[str, str]
) -> list[Row]:
    """The average over all languages (the task's average: pooled when it averages examples), over the seen
    and the unseen ones, and the seen-unseen difference, each only over languages where both recipes ran."""
    if len(languages) != len(section.languages):
        return []  # a language lacks one recipe: a partial average would mislead
    weights = example_weights(section, draws.units) or {lang: 1.0 for lang in languages}
    differences = {lang: _difference(section, comparison, lang) for lang in languages}
    values = {lang: value for lang, value in differences.items() if value is not None}
    if len(values) != len(languages):
        return []
    rows = [_combined(comparison, section, draws, "average", "all", _normalised(weights, languages), values)]
    seen = [lang for lang in languages if groups[lang] == "seen"]
    unseen = [lang for lang in languages if groups[lang] == "unseen"]
    if seen and unseen:
        rows += [
            _combined(comparison, section, draws, "average", group, _normalised(weights, members), values)
            for group, members in (("seen", seen), ("unseen", unseen))
        ]
        contrast = {**_normalised(weights, seen), **{lang: -w for lang, w in _normalised(weights, unseen).items()}}
        rows.append(_combined(comparison, section, draws, "seen - unseen", "all", contrast, values))
    return rows


def _normalised(weights: dict[str, float], languages: list[str]) -> dict[str, float]:
    total = sum(weights[lang] for lang in languages)
    return {lang: weights[lang] / total for lang in languages}


def _combined(
    comparison: Comparison,
    section: Section,
    draws: Draws,
    language: str,
    group: str,
    coefficients: dict[str, float],
    values: dict[str, float],
) -> Row:
    langs = list(coefficients)
    contrast = _interval(comparison, section, [draws.get(lang) for lang in langs], list(coefficients.values()), langs)
    value = contrast.difference if contrast else float(sum(coefficients[lang] * values[lang] for lang in langs))
    return Row(language, group, value, contrast)


def _adjusted(rows: list[Row], method: str) -> list[Row]:
    """The rows with p-values adjusted as one family (rows without an interval stay unadjusted)."""
    tested = [i for i, row in enumerate(rows) if row.contrast is not None]
    p_values = [row.contrast.p_value for row in rows if row.contrast is not None]
    adjusted = adjust(p_values, method).tolist() if tested else []
    result = list(rows)
    for i, p in zip(tested, adjusted):
        row = rows[i]
        result[i] = Row(row.language, row.group, row.difference, row.contrast, float(p))
    return result


def csv_rows(table: ContrastTable) -> list[dict]:
    """contrasts.csv rows: a, b, task, train_languages, language, group, difference, low, high, p_value,
    p_adjusted, seeds, examples."""
    section = table.section
    base = {
        "a": table.comparison.a.label,
        "b": table.comparison.b.label,
        "task": section.task,
        "train_languages": "+".join(section.train_languages),
    }
    return [
        {**base, "language": row.language, "group": row.group, "difference": row.difference, **_interval_fields(row)}
        for row in table.languages + table.averages
    ]


def _interval_fields(row: Row) -> dict:
    c = row.contrast
    if c is None:
        return dict.fromkeys(("low", "high", "p_value", "p_adjusted", "seeds", "examples"), "")
    seeds = str(c.seeds[0]) if c.paired else f"{c.seeds[0]}+{c.seeds[1]}"
    return {
        "low": c.low,
        "high": c.high,
        "p_value": c.p_value,
        "p_adjusted": row.p_adjusted,
        "seeds": seeds,
        "examples": c.examples,
    }
