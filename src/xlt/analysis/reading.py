"""The reading the papers make, stated as a diagnostic: which recipe moved representations least from the
pretrained encoder, and whether recipes that keep languages closer also transfer better.

Both use the last analysed layer and the two baseline-corrected measures (centred cosine, CKA). The
correlation is Spearman's, over recipes, within each language, averaged over languages; its interval
resamples languages (the units it averages over) and is Bonferroni-widened for the number of
correlations reported. Recipes are the study's trained recipes that start from the pretrained encoder
(the random-init reference starts elsewhere); seeds of a recipe are averaged first.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from xlt.analysis.measures import interval
from xlt.analysis.similarity import AVERAGE, Draws
from xlt.analysis.stages import PRETRAINED, Encoding
from xlt.results.layout import RESULTS
from xlt.results.records import ORACLE

MEASURES = ("cos_centred", "cka")
LANGUAGE_REPLICATES = 1000
SEED = 20240521
ALPHA = 0.05
MIN_RECIPES = 3  # a rank correlation over two recipes is +1 or -1 whatever the data


def reading(entries: list[Encoding], draws: dict[str, Draws], layer: int, study_dir: Path | None) -> dict:
    """{"layer", "least_moved": [...], "transfer": [...]} for summary.json."""
    targets = [e for e in entries if e.role == "target" and e.origin == PRETRAINED]
    tasks = list(dict.fromkeys(e.task for e in targets))
    least = [
        _least_moved(task, measure, [e for e in targets if e.task == task], draws, layer)
        for task in tasks
        for measure in MEASURES
    ]
    scores = _scores(study_dir / RESULTS) if study_dir is not None else {}
    transfer = [
        t
        for task in tasks
        for measure in MEASURES
        if (t := _transfer(task, measure, [e for e in targets if e.task == task], draws, layer, scores))
    ]
    level = 1 - ALPHA / max(1, len(transfer))
    for item in transfer:
        item["low"], item["high"] = interval(item.pop("draws"), level)
        item["level"] = level
    return {"layer": layer, "least_moved": least, "transfer": transfer}


def _least_moved(task: str, measure: str, targets: list[Encoding], draws: dict[str, Draws], layer: int) -> dict:
    """Recipes ordered by the size of their language-averaged drift (seeds averaged replicate by replicate)."""
    recipes: list[dict] = []
    for recipe, group in _by_recipe(targets).items():
        change = np.mean(
            [draws[e.key][layer, AVERAGE, measure] - draws[PRETRAINED][layer, AVERAGE, measure] for e in group], axis=0
        )
        low, high = interval(change)
        recipes.append({"recipe": recipe, "drift": float(change[0]), "low": low, "high": high})
    recipes.sort(key=lambda r: abs(r["drift"]))
    return {"task": task, "measure": measure, "recipes": recipes}


def _transfer(
    task: str, measure: str, targets: list[Encoding], draws: dict[str, Draws], layer: int, scores: dict
) -> dict | None:
    recipes = _by_recipe(targets)
    languages = sorted(
        {lang for e in targets for (lay, lang, m) in draws[e.key] if lay == layer and m == measure} - {AVERAGE}
    )
    per_language = {}
    for lang in languages:
        pairs = [
            (
                np.mean([draws[e.key][layer, lang, measure][0] for e in group]),
                np.mean([scores[e.key, lang] for e in group]),
            )
            for group in recipes.values()
            if all((e.key, lang) in scores for e in group)
        ]
        if len(pairs) >= MIN_RECIPES and all(len({p[i] for p in pairs}) > 1 for i in (0, 1)):
            per_language[lang] = float(spearmanr(*zip(*pairs)).statistic)
    if len(per_language) < 2:
        return None
    rhos = np.array(list(per_language.values()))
    rng = np.random.default_rng(SEED)
    resampled = rhos[rng.integers(0, len(rhos), size=(LANGUAGE_REPLICATES, len(rhos)))].mean(axis=1)
    return {
        "task": task,
        "measure": measure,
        "rho": float(rhos.mean()),
        "recipes": len(recipes),
        "languages": per_language,
        "draws": np.concatenate([[rhos.mean()], resampled]),
        "order_by_similarity": _order(
            recipes, lambda g: np.mean([draws[e.key][layer, AVERAGE, measure][0] for e in g])
        ),
        "order_by_transfer": _order(
            recipes, lambda g: np.mean([scores.get((e.key, lang), np.nan) for e in g for lang in per_language])
        ),
    }


def _by_recipe(targets: list[Encoding]) -> dict[str, list[Encoding]]:
    groups: dict[str, list[Encoding]] = {}
    for entry in targets:
        groups.setdefault(entry.recipe, []).append(entry)
    return groups


def _order(recipes: dict[str, list[Encoding]], value) -> list[str]:
    """Recipe names from the highest value to the lowest."""
    return sorted(recipes, key=lambda recipe: -value(recipes[recipe]))


def _scores(results: Path) -> dict[tuple[str, str], float]:
    """(stage hash, language) -> zero-shot primary score, for languages the stage was not trained on (the
    recipe's own checkpoint: a target-dev oracle's rows carry the same stage hash and are left out)."""
    if not results.is_file():
        return {}
    with open(results, newline="", encoding="utf-8") as handle:
        return {
            (row["stage_hash"], row["eval_language"]): float(row["value"])
            for row in csv.DictReader(handle)
            if row["primary"] == "1"
            and not row["method"].endswith(ORACLE)
            and row["eval_language"] not in row["train_languages"].split("+")
        }
