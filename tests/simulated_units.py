"""Synthetic units for two recipes a and b with known noise: the simulated studies of tests/test_contrasts.py
and bench/contrast_calibration.py.

Per language, example i has a difficulty shared by both recipes and an effect of its own per recipe
(`example_sd`: test-set noise that does not average out over seeds); each (recipe, seed) has a training
effect (`seed_sd`; a and b's effects for the same seed correlate `seed_corr`, half of a seed's effect is the
same on every language). "tokens": each example has 1 + Poisson(3) tokens, each right with the logistic of
the effects (a ratio metric whose per-seed outcomes also vary per example). "gaussian": den = 1 and num the
sum of the effects plus N(0, within_sd) per run and example, so that Var(D) has a closed form
(`gaussian_variances`).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from xlt.report.contrasts import ALPHA, SEED_BOUND
from xlt.report.stats import UnitArrays, replicate_ratios


def simulate(rng: np.random.Generator, *, examples: int, seeds_a: list[str], seeds_b: list[str], seed_sd: float,
             example_sd: float, delta: float = 0.0, languages: int = 1, seed_corr: float = 0.5,
             kind: str = "tokens", within_sd: float = 1.0) -> list[dict[tuple[str, str], UnitArrays]]:
    """Per language, {(recipe, seed): (num, den)}; `delta` is added to recipe a's effects (logit scale for
    tokens, num scale for gaussian)."""
    seeds = list(dict.fromkeys(seeds_a + seeds_b))
    shared = rng.standard_normal(len(seeds))  # the part of a seed's effect that is the same for a and b
    global_effect = {(r, s): np.sqrt(seed_corr) * shared[j] + np.sqrt(1 - seed_corr) * rng.standard_normal()
                     for r in "ab" for j, s in enumerate(seeds)}
    studies = []
    for _ in range(languages):
        difficulty = rng.standard_normal(examples)
        den = 1.0 + rng.poisson(3, examples) if kind == "tokens" else np.ones(examples)
        units = {}
        for recipe, recipe_seeds in (("a", seeds_a), ("b", seeds_b)):
            base = difficulty + example_sd * rng.standard_normal(examples) + (delta if recipe == "a" else 0.0)
            for seed in recipe_seeds:
                effect = global_effect[(recipe, seed)]
                if languages > 1:
                    effect = np.sqrt(0.5) * effect + np.sqrt(0.5) * rng.standard_normal()
                eta = base + seed_sd * effect
                if kind == "tokens":
                    num = rng.binomial(den.astype(int), 1 / (1 + np.exp(-0.5 - eta))).astype(float)
                else:
                    num = eta + within_sd * rng.standard_normal(examples)
                units[(recipe, seed)] = (num, den)
        studies.append(units)
    return studies


def gaussian_variances(*, examples: int, seeds: int, seed_sd: float, example_sd: float, within_sd: float = 1.0,
                       seed_corr: float = 0.5) -> tuple[float, float]:
    """Of one language's paired gaussian study, the true variances (x100 squared) of the difference's two parts:
    the part that averages over seeds (the seeds' effects and the per-run noise, a and b each) and the
    test-set part the seeds share (the recipes' own example effects)."""
    seed_part = 2 * (1 - seed_corr) * seed_sd**2 / seeds + 2 * within_sd**2 / (examples * seeds)
    return 1e4 * seed_part, 1e4 * 2 * example_sd**2 / examples


def exact_rate(seeds: int, seed_part: float, shared: float, delta: float = 0.0,
               bound: float | None = SEED_BOUND) -> float:
    """xlt.report.contrasts' rejection rate when D ~ N(delta, seed_part + shared), the seed term is seed_part
    times chi2(seeds - 1) / (seeds - 1) and the shared term is known: an integral over the chi2 quantiles, D's
    normal tails in closed form. `bound` None: Satterthwaite's df from the seed term itself."""
    sd = np.sqrt(seed_part + shared)
    if seeds == 1:
        critical = stats.norm.ppf(1 - ALPHA / 2) * sd
    else:
        k = seeds - 1
        term = seed_part * stats.chi2.ppf((np.arange(4000) + 0.5) / 4000, k) / k
        upper = term if bound is None else term * k / stats.chi2.ppf(1 - bound, k)
        df = (upper + shared) ** 2 / (upper**2 / k)
        critical = stats.t.ppf(1 - ALPHA / 2, df) * np.sqrt(term + shared)
    return float(np.mean(stats.norm.sf((critical - delta) / sd) + stats.norm.cdf((-critical - delta) / sd)))


def one_level_bootstrap(pairs: list[tuple[UnitArrays, UnitArrays]], rng: np.random.Generator,
                        replicates: int) -> np.ndarray:
    """The report's intervals before `xlt.report.contrasts` (the baseline it is tested against): replicates of
    the mean over seeds of a - b (x100), seeds fixed and test examples resampled, paired."""
    draws = replicate_ratios([units for pair in pairs for units in pair], rng, replicates)
    return 100 * (draws[:, 0::2] - draws[:, 1::2]).mean(axis=1)
