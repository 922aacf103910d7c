"""A simulated study directory trained once per source language (a target's `sources`): results.csv, units/ and
distances.json as `xlt run` writes them, for tests/test_pairs.py and bench/pairs_report.py.

Each (source, recipe, seed) is a run; on each target language it answers `examples` test items, item i right
with probability logistic(difficulty_i + 0.5 - distance(source, target) + gain + seed effect), so that transfer
falls with distance. `gains` maps (recipe, source, target) to the recipe's true gain on the logit scale (0
elsewhere): the known effect whose replication the report should count.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from xlt.results.layout import DISTANCES, RESULTS
from xlt.results.rows import COLUMNS

TASK, METRIC = "toy", "accuracy"


def distance(source: str, target: str) -> float:
    """A deterministic stand-in for a typological distance: 0 for a language and itself, else in [0.2, 1]."""
    if source == target:
        return 0.0
    return 0.2 + (sum(map(ord, source)) * 7 + sum(map(ord, target)) * 13) % 9 / 10


def write_pair_study(
    study: Path,
    sources: list[str],
    targets: list[str],
    recipes: list[tuple[str, str]],  # (method, intermediate)
    seeds: list[str],
    examples: int,
    gains: dict[tuple[tuple[str, str], str, str], float] | None = None,
    seed_sd: float = 0.05,
    rng_seed: int = 0,
) -> Path:
    rng = np.random.default_rng(rng_seed)
    gains = gains or {}
    difficulty = {target: rng.normal(0, 1, examples) for target in targets}
    rows = []
    for source in sources:
        for recipe in recipes:
            for seed in seeds:
                stage = f"{recipe[0]}-{recipe[1]}-{source}-{seed}"
                folder = study / "units" / stage
                folder.mkdir(parents=True)
                shift = rng.normal(0, seed_sd)
                for target in targets:
                    logit = difficulty[target] + 0.5 - distance(source, target) + shift
                    logit += gains.get((recipe, source, target), 0.0)
                    right = (rng.random(examples) < 1 / (1 + np.exp(-logit))).astype(float)
                    np.savez(folder / f"test-{target}.npz", num=right, den=np.ones(examples))
                    rows.append(
                        dict(
                            method=recipe[0],
                            intermediate=recipe[1],
                            target_task=TASK,
                            train_languages=source,
                            eval_language=target,
                            split="test",
                            metric=METRIC,
                            value=100 * right.mean(),
                            seed=seed,
                            stage_hash=stage,
                            primary=1,
                        )
                    )
    with (study / RESULTS).open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    measured = {source: {target: {"toy": distance(source, target)} for target in targets} for source in sources}
    document = {"measures": {"toy": "a simulated distance"}, "from": measured}
    (study / DISTANCES).write_text(json.dumps(document), encoding="utf-8")
    return study
