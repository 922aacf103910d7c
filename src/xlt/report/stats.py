"""Scores averaged over seeds, transfer gaps, normalised transfer, units files and the paired bootstrap primitive
(contrasts between recipes: `xlt.report.contrasts`)."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController

from xlt.errors import XltError
from xlt.report.study import Recipe, Section
from xlt.results.layout import UNITS, StudyLayout

BOOTSTRAP_SEED = 20240521  # fixed so that two builds of a report are identical
_MAX_DRAWS = 1_000_000  # example indices drawn at once (~30 MB with their counts): replicates go in blocks below it

UnitArrays = tuple[np.ndarray, np.ndarray]  # (num, den) per test example


def mean_scores(section: Section, recipe: Recipe) -> dict[str, float]:
    """Per evaluation language, the mean over the recipe's seeds that scored it."""
    values: dict[str, list[float]] = {}
    for by_language in section.cells[recipe].values():
        for lang, cell in by_language.items():
            values.setdefault(lang, []).append(cell.value)
    return {lang: float(np.mean(values[lang])) for lang in section.languages if lang in values}


def language_average(
    scores: dict[str, float], languages: list[str], weights: dict[str, float] | None = None
) -> float | None:
    """Mean over every evaluation language, weighted by `weights` when given (a pooled task); None when a
    language is missing (a partial mean would mislead)."""
    if any(lang not in scores for lang in languages):
        return None
    return float(np.average([scores[lang] for lang in languages], weights=_weights(languages, weights)))


def _weights(languages: list[str], weights: dict[str, float] | None) -> list[float] | None:
    return None if weights is None else [weights[lang] for lang in languages]


def example_weights(section: Section, units: UnitsStore) -> dict[str, float] | None:
    """For a task averaged over examples (LAReQA), each language's number of examples (the units files'
    denominators), so that the language average is the pooled one; None for every other task, or when a
    language has no units file to count."""
    if section.averaging != "examples":
        return None
    weights = {}
    for lang in section.languages:
        cells = [by_lang[lang] for by_seed in section.cells.values() for by_lang in by_seed.values() if lang in by_lang]
        found = [units.get(cell.units, section.split, lang) for cell in cells]
        counted = next((arrays for arrays in found if arrays is not None), None)
        if counted is None:
            return None
        weights[lang] = float(counted[1].sum())
    return weights


def transfer_gap(scores: dict[str, float], train_languages: tuple[str, ...]) -> float | None:
    """Mean score on the training languages minus the mean on the other languages."""
    others = [v for lang, v in scores.items() if lang not in train_languages]
    if not others or any(lang not in scores for lang in train_languages):
        return None
    return float(np.mean([scores[lang] for lang in train_languages]) - np.mean(others))


def normalised_transfer(
    scores: dict[str, float], majority: dict[str, float], train_languages: tuple[str, ...]
) -> float | None:
    """Mean over non-training languages of (score - majority) / (training score - training majority); None where
    the training score does not beat the majority's (the ratio would measure nothing, or flip its sign)."""
    if any(lang not in scores or lang not in majority for lang in train_languages):
        return None
    source = np.mean([scores[lang] for lang in train_languages])
    floor = np.mean([majority[lang] for lang in train_languages])
    others = [lang for lang in scores if lang not in train_languages and lang in majority]
    if not others or source <= floor:
        return None
    return float(np.mean([(scores[lang] - majority[lang]) / (source - floor) for lang in others]))


class UnitsStore:
    """Reads units/{folder}/{split}-{lang}.npz (`xlt.results.layout.units_dir`) once each; a missing file is None, a
    malformed one an error."""

    def __init__(self, study_dir: Path):
        self.root = StudyLayout(study_dir) / UNITS
        self._cache: dict[Path, UnitArrays | None] = {}

    def get(self, folder: str, split: str, lang: str) -> UnitArrays | None:
        path = self.root / folder / f"{split}-{lang}.npz"
        if path not in self._cache:
            self._cache[path] = _read_units(path) if path.is_file() else None
        return self._cache[path]


def _read_units(path: Path) -> UnitArrays:
    try:
        with np.load(path) as data:
            num, den = np.asarray(data["num"], float), np.asarray(data["den"], float)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise XltError(f"{path} is not a units file with arrays num and den ({exc}); delete it") from None
    if num.ndim != 1 or num.shape != den.shape:
        raise XltError(f"{path}: num and den must be 1-d arrays of one length; delete it")
    return num, den


def replicate_ratios(units: list[UnitArrays], rng: np.random.Generator, replicates: int) -> np.ndarray:
    """Bootstrap replicates of num.sum() / den.sum() for each units array, shape (replicates, len(units)).

    Each replicate resamples example indices once and applies them to every array, so that runs scored on
    the same test set are compared on the same examples (paired). The resample is held as counts per example,
    so one matrix product gives every array's sums (one gather per array would cost as much per array).
    """
    n = len(units[0][0])
    columns = np.column_stack([array for pair in units for array in pair])  # num, den, num, den, ...
    block = max(1, _MAX_DRAWS // n)
    out = np.empty((replicates, len(units)))
    # One BLAS thread: the products are small, and waking more threads costs more than they save (on a busy
    # 2-core machine a 300 x 300 by 300 x 12 product takes 16 ms with them, 0.5 ms without).
    with _blas().limit(limits=1, user_api="blas"):
        for start in range(0, replicates, block):
            size = min(block, replicates - start)
            idx = rng.integers(0, n, size=(size, n), dtype=np.int32)  # int32 draws faster
            flat = (idx + np.arange(0, size * n, n)[:, None]).ravel()  # row r's indices offset by r * n
            counts = np.bincount(flat, minlength=size * n).reshape(size, n)
            sums = counts.astype(float) @ columns
            with np.errstate(divide="ignore", invalid="ignore"):
                out[start : start + size] = sums[:, 0::2] / sums[:, 1::2]
    return out


@cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


@dataclass(frozen=True)
class Summary:
    """Everything the report shows for one section, computed once for its tables and heat maps."""

    section: Section
    scores: dict[Recipe, dict[str, float]]  # mean over seeds
    average: dict[Recipe, float | None]
    pooled: bool  # the average weights languages by their examples (the task's official pooling)
    gap: dict[Recipe, float | None]
    normalised: dict[Recipe, float | None] | None  # None when the section has no majority row


def summarise(section: Section, units: UnitsStore) -> Summary:
    scores = {recipe: mean_scores(section, recipe) for recipe in section.recipes}
    weights = example_weights(section, units)
    majority = section.reference("majority")
    normalised = None
    if majority is not None:
        normalised = {
            r: normalised_transfer(s, scores[majority], section.train_languages)
            for r, s in scores.items()
            if r != majority
        }
    return Summary(
        section,
        scores,
        {r: language_average(s, section.languages, weights) for r, s in scores.items()},
        weights is not None,
        {r: transfer_gap(s, section.train_languages) for r, s in scores.items()},
        normalised,
    )
