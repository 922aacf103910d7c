"""From one encoder's embeddings to the rows of similarity.csv: every measure per layer and language, their
average over languages, and their change against the encoder the stage started from (drift).

Each value comes with its resampled replicates (`xlt.analysis.measures`), drawn with the same half-samples
for every encoder, so a drift's interval is paired, and averaged over languages replicate by replicate.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from xlt.analysis.cache import cached_arrays
from xlt.analysis.embed import Embedded
from xlt.analysis.measures import MEASURES, Side, half_samples, interval, matched_derangement, pair_measures
from xlt.analysis.sources import Parallel
from xlt.analysis.stages import Encoding
from xlt.runtime.io import stable_hash

VERSION = 1  # bump when a measure changes what it computes
REPLICATES = 200
SEED = 20240521  # half-samples and random pairs are fixed, so two runs write the same numbers
LEVEL = 0.95
AVERAGE = "mean"  # the language of a row averaged over the source's languages
COLUMNS = ("stage", "role", "recipe", "task", "seed", "layer", "language", "measure", "value", "low", "high")
DRIFT = "_drift"  # suffix of a measure's change against the stage's untouched encoder

Draws = dict[tuple[int, str, str], np.ndarray]  # (layer, language, measure) -> full-sample value, then replicates


def cached_draws(embedding_key: str, source: Parallel, layers: list[int], embed: Callable[[], Embedded]) -> Draws:
    """`encoder_draws` of the embeddings `embed` gives, from the cache when they were measured before."""
    key = stable_hash({"v": VERSION, "embeddings": embedding_key, "replicates": REPLICATES, "seed": SEED})
    arrays = cached_arrays(
        "measures",
        key,
        lambda: {json.dumps(name): values for name, values in encoder_draws(embed(), source, layers).items()},
    )
    return {tuple(json.loads(name)): values for name, values in arrays.items()}


def encoder_draws(embedded: Embedded, source: Parallel, layers: list[int]) -> Draws:
    """Every measure of one encoder, at each of `layers` (the rows of its embeddings)."""
    draws: Draws = {}
    for row, layer in enumerate(layers):
        for lang, values in _layer_draws(embedded, source, row).items():
            draws.update({(layer, lang, measure): value for measure, value in values.items()})
        for measure in MEASURES:
            draws[layer, AVERAGE, measure] = np.mean([draws[layer, lang, measure] for lang in source.pairs], axis=0)
    return draws


def _layer_draws(embedded: Embedded, source: Parallel, row: int) -> dict[str, dict[str, np.ndarray]]:
    """language -> measure -> values, at one layer; a base side shared by several languages is prepared once."""
    sides: dict[str, Side] = {}

    def side(name: str) -> Side:
        if name not in sides:
            vectors = embedded.vectors[name][row]
            sides[name] = Side(vectors, _masks(len(vectors)))
        return sides[name]

    def shuffled(base: str) -> Side:  # the base rows reordered into random pairs of matched length
        if f"{base}*" not in sides:
            sides[f"{base}*"] = side(base).permuted(matched_derangement(embedded.lengths[base], SEED))
        return sides[f"{base}*"]

    return {
        lang: pair_measures(side(base), shuffled(base), side(other)) for lang, (base, other) in source.pairs.items()
    }


@lru_cache(maxsize=8)
def _masks(n: int) -> np.ndarray:
    """The same half-samples for every encoder and every language with n sentences (read-only)."""
    return half_samples(n, REPLICATES, SEED)


def similarity_rows(entry: Encoding, draws: Draws, origin: Draws | None) -> list[dict]:
    """The CSV rows of one encoder: each measure, then (for a trained stage) its drift from `origin`."""
    label = {
        "stage": entry.key,
        "role": entry.role,
        "recipe": entry.recipe,
        "task": entry.task,
        "seed": "" if entry.seed is None else entry.seed,
    }
    rows = [_row(label, key, values) for key, values in draws.items()]
    if origin is not None:
        rows += [
            _row(label, (layer, lang, measure + DRIFT), values - origin[layer, lang, measure])
            for (layer, lang, measure), values in draws.items()
        ]
    return rows


def _row(label: dict, key: tuple[int, str, str], values: np.ndarray) -> dict:
    layer, lang, measure = key
    low, high = interval(values, LEVEL)
    return {
        **label,
        "layer": layer,
        "language": lang,
        "measure": measure,
        "value": _number(values[0]),
        "low": _number(low),
        "high": _number(high),
    }


def _number(value: float) -> str:
    return "" if not np.isfinite(value) else f"{value:.6f}"
