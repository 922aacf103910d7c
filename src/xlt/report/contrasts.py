"""Contrasts of two recipes on per-language scores: the difference, its 95% interval and p-value, and
multiplicity control within a table.

A contrast asks whether recipe a beats recipe b on a language, or on the mean over a set of languages, and
by how much. Two kinds of randomness make the observed difference differ from the true one:

- test examples: a language's test set is one sample of it. A paired bootstrap resamples it (one draw of
  example indices for every run, so every recipe and seed is scored on the same examples), giving the
  test-set covariance of all runs' scores;
- seeds: training randomness; each seed is one draw of it.

The method. With seeds 1..S run by both recipes (paired), d_s = a_s - b_s and the difference is
D = mean_s d_s. Every seed is scored on the same test set, so part of its test-set noise is shared by all
seeds (it does not average out over seeds) and part is each seed's own (it does, like training noise):

    Var(D) = var_s(d_s) / S                   between-seed variance: training randomness plus each seed's
                                              own test-set noise
           + mean over s != t of cov*(d_s, d_t)   test-set variance the seeds share (bootstrap covariance)

This is the unbiased variance-components estimate of the seed x example design (the shared term is the
bootstrap variance of D less the seeds' own part, which the first term already holds). The interval is
D +- t(0.975, df) * sqrt(Var) and the p-value the same statistic's two-sided t tail, so p < 0.05 exactly when
the 95% interval excludes 0. The degrees of freedom are Satterthwaite's, from the seed term's S - 1 (the
shared term's are the test set's, taken as infinite), but with the seed term at its one-sided 80% upper
confidence bound: S - 1 when seeds dominate, a normal reference when test examples do. Recipes that share
no seed are compared unpaired (Welch: var(a_s)/S_a + var(b_s)/S_b, each with its bound, plus the shared
test-set variance of the difference of the seed means). With one seed (or an unpaired side of one) no seed
variance can be estimated: the interval is the bootstrap variance of D with a normal reference, covers test
examples only, and `covers` and `interval_note` say so.

Why. With 2-5 seeds the seed term has 1-4 degrees of freedom, and no rule of this kind is exact for every
ratio of seed to test-set noise (it is the Behrens-Fisher problem). Satterthwaite's df from the seed term
itself is anti-conservative: a seed term that comes out small by chance also raises the df and so shrinks
the quantile; computed exactly over that ratio, its false-positive rate peaks at 12.8% (2 seeds), 7.9% (3),
5.9% (5). With the 80% bound (of 75%, 78% and 80%, the only one that does this for 2 seeds) the rate is at
most 5.0% for every ratio and for 2 to 21 seeds, nominal at both ends, and down to 2.2% (2 seeds), 3.3% (3),
4.2% (5) where the two noises are comparable: the price of estimating a variance from so few seeds.

Simulated studies (`python bench/contrast_calibration.py`: 4,000 per regime, 300 examples, 1,000 replicates;
the 99% binomial band around 5% is 4.1-5.9%), false-positive rates, then detection rates, at alpha 0.05:

    regime (seeds, units, noise)     one-level  two-level  corrected  naive sum  plain df  this module
    1 seed, tokens, test set            4.9        4.9         -          -         -         5.0
    2 seeds, tokens, seeds             53.7       20.7        0.0       11.2      10.3        4.8
    3 seeds, tokens, seeds             52.3       15.4        0.4        7.4       7.0        5.2
    5 seeds, tokens, seeds             49.5        9.9        1.9        5.1       5.5        4.9
    3 seeds, gaussian, test set         5.3        5.3        0.0        5.1       5.1        5.1
    2 seeds, gaussian, both            12.3        7.2        0.0        5.0       6.8        2.5
    3 seeds, gaussian, both             9.9        5.3        0.0        4.3       5.0        3.0
    5 seeds, gaussian, both             9.2        5.3        0.5        4.6       5.4        4.7
    3 seeds, tokens, both               8.2        3.7        0.0        3.8       6.0        3.5
    3+3 unpaired, tokens, seeds        64.8       14.1        0.3        4.1       3.9        3.3
    3 seeds, tokens, seeds, 4 langs    68.8       21.8        2.1        7.3       5.7        4.7
    power: 3 seeds, tokens, seeds      99.7       92.1       33.4       55.1      49.0       46.0
    power: 3 seeds, tokens, both       30.1       17.8        0.0       15.7      20.0       12.3

one-level: the report's gains before this module (seeds fixed, examples resampled): it misses seed noise
altogether. two-level: seeds resampled with replacement, then examples, percentile interval: resampling S
seeds shrinks their variance by (S - 1)/S, and its percentiles stand in for t quantiles of 1-4 df (4.30 for
2 df against 1.96). corrected: that, rescaled by sqrt(S / (S - 1)), with t(S - 1): far too wide when test
examples matter. naive sum: the between-seed variance plus the whole bootstrap variance, which counts each
seed's own test-set noise twice, with Satterthwaite's df. plain df: this module's variance with
Satterthwaite's df from the seed term itself. The power rows are what the rates of a valid test cost;
tests/test_contrasts.py checks the rates against the exact ones, power included.

Multiplicity: `adjust` gives Holm (default) or Benjamini-Hochberg adjusted p-values within one family. The
family is one contrast table's per-language cells; its average rows (all languages, seen, unseen) form a
second family, because they are not further tests of the same languages but summaries of them.

Replicability across pairs (Dror et al., TACL 2017, "Replicability Analysis for Natural Language Processing"):
with a contrast tested on N language pairs, `replicability_bound` is the number of pairs in which it holds, as a
lower bound whose family-wise error is at most alpha. For u = 1..N the partial-conjunction null "the effect holds
in fewer than u pairs" has the Bonferroni partial-conjunction p-value (N - u + 1) p_(u) (Benjamini and Heller
2008; p_(u) the u-th smallest); made non-decreasing in u, the nulls are tested in order and K = max{u : p^(u/N)
<= alpha}, so P(K > the true number) <= alpha. Dror et al. also give a Fisher combination; it needs independent
p-values, and pairs are not (one source model is evaluated on every target, one target test set scores every
source), so the Bonferroni form, valid under any dependence, is the one used. K then equals the number of pairs
Holm's method rejects. `one_sided` gives each pair's p-value for a gain (or a loss), so that K counts pairs in
one direction.

Deterministic: each test set's resampling is seeded from its stable names (`resample`'s key), so a rebuilt
report has the same numbers, and a cell's numbers do not depend on what else the study holds.
"""

from __future__ import annotations

import zlib
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import chdtri, stdtr, stdtrit  # Student t with fractional df; chi-squared quantiles

from xlt.errors import XltError
from xlt.report.stats import BOOTSTRAP_SEED, UnitArrays, replicate_ratios

REPLICATES = 2000  # bootstrap replicates per test set: they estimate a covariance, to ~3% relative error
ALPHA = 0.05
LEVEL = 0.95
SEED_BOUND = 0.8  # confidence of the seed-variance bound behind the df (see the module docstring)
Run = tuple[Any, str]  # (recipe, seed); any hashable recipe (Any: a Mapping is invariant in its key type)
MULTIPLICITY = {
    "holm": "Holm's step-down method (family-wise error)",
    "bh": "the Benjamini-Hochberg step-up method (false discovery rate)",
}
TEST_EXAMPLES = "test examples"
SEEDS_AND_TEST_EXAMPLES = "seeds and test examples"


@dataclass(frozen=True)
class LanguageDraws:
    """One language's test set: every run's score (x100) and its bootstrap replicates, all runs resampled
    on the same examples."""

    key: tuple[str, ...]
    columns: dict[Run, int]  # run -> its column in `observed` and `replicates`
    observed: np.ndarray  # (runs,)
    replicates: np.ndarray  # (replicates, runs)
    examples: int


@dataclass(frozen=True)
class Contrast:
    difference: float  # mean over seeds of a - b, x100 (points)
    low: float  # 95% interval
    high: float
    p_value: float  # two-sided, before multiplicity adjustment
    seeds: tuple[int, int]  # seeds of a and of b used (equal when paired)
    paired: bool  # seed with seed, over the seeds both ran; False: the two sides share no seed
    examples: int  # test examples behind the number (summed over languages for an average)
    df: float  # degrees of freedom of the t reference; inf: normal
    covers: str  # the randomness the interval covers: TEST_EXAMPLES or SEEDS_AND_TEST_EXAMPLES


@dataclass(frozen=True)
class _Design:
    """A contrast's per-seed values on one test set: D = sum over groups of sign * mean of the group's columns
    (paired: one group of differences a_s - b_s; unpaired: a's seeds, then b's with sign -1)."""

    observed: np.ndarray
    replicates: np.ndarray
    groups: tuple[tuple[slice, float], ...]
    seeds: tuple[tuple[str, ...], tuple[str, ...]]  # of a and of b, in column order (sorted)
    paired: bool


def resample(units: Mapping[Run, UnitArrays], key: Sequence[str], replicates: int = REPLICATES) -> LanguageDraws:
    """Bootstrap one language's test set for every run scored on it ({(recipe, seed): (num, den)}).

    `key` names the test set stably (e.g. task, training languages, split, language); it seeds the
    resampling. Resample once per test set and pass the draws to every contrast on it.
    """
    where = "/".join(key)
    if not units:
        raise XltError(f"{where}: no runs to resample; pass the units of every run scored on this test set")
    sizes = sorted({len(num) for num, _ in units.values()})
    if len(sizes) != 1:
        raise XltError(
            f"{where}: runs hold {sizes} test examples; one test set's units must pair example by "
            "example, so rerun the evaluation of the odd runs"
        )
    totals = [den.sum() for _, den in units.values()]
    if not all(total > 0 for total in totals):
        raise XltError(
            f"{where}: a run's units have den summing to {min(totals)}; its score is undefined, so "
            "delete its units file and rerun the evaluation"
        )
    rng = np.random.default_rng([BOOTSTRAP_SEED, *(zlib.crc32(part.encode()) for part in key)])
    observed = 100 * np.array([num.sum() / total for (num, _), total in zip(units.values(), totals)])
    draws = 100 * replicate_ratios(list(units.values()), rng, replicates)
    return LanguageDraws(tuple(key), {run: i for i, run in enumerate(units)}, observed, draws, sizes[0])


def contrast_cell(draws: LanguageDraws, a: Hashable, b: Hashable) -> Contrast:
    """Recipe a minus recipe b on one language."""
    return _contrast(_design(draws, a, b), draws.examples)


def contrast_average(
    draws: Sequence[LanguageDraws], a: Hashable, b: Hashable, weights: Sequence[float] | None = None
) -> Contrast:
    """Recipe a minus recipe b on the mean over languages (weighted by `weights` when given, as a pooled
    task's average is)."""
    w = np.full(len(draws), 1 / len(draws)) if weights is None else np.asarray(weights, float) / np.sum(weights)
    return contrast_combination(draws, a, b, w.tolist())


def contrast_combination(
    draws: Sequence[LanguageDraws], a: Hashable, b: Hashable, coefficients: Sequence[float]
) -> Contrast:
    """Sum over languages of coefficient x (a - b): an average (coefficients summing to 1) or a difference of
    two groups' averages (+1/|seen| and -1/|unseen|). Languages are independent test sets, so their
    replicates combine linearly; a seed's model is the same on every language, so seed variance comes from
    each seed's combination over languages."""
    designs = [_design(d, a, b) for d in draws]
    first = designs[0]
    if any(d.seeds != first.seeds for d in designs):
        keys = ", ".join("/".join(d.key) for d in draws)
        raise XltError(
            f"{keys}: recipes {a} and {b} were scored by different seeds on different languages; "
            "an average needs every language from the same seeds, so average only those languages"
        )
    c = np.asarray(coefficients, float)
    mean = _Design(
        sum(ci * d.observed for ci, d in zip(c, designs)),
        sum(ci * d.replicates for ci, d in zip(c, designs)),
        first.groups,
        first.seeds,
        first.paired,
    )
    return _contrast(mean, sum(d.examples for d in draws))


def _design(draws: LanguageDraws, a: Hashable, b: Hashable) -> _Design:
    """Seeds run by both recipes are paired; with none in common, each recipe's seeds form their own group.
    Seeds are sorted, so that the columns of every language's design are the same seeds."""
    seeds = {recipe: sorted(seed for r, seed in draws.columns if r == recipe) for recipe in (a, b)}
    for recipe, found in seeds.items():
        if not found:
            raise XltError(f"{'/'.join(draws.key)}: no run of recipe {recipe} was resampled; pass its units")
    common = [seed for seed in seeds[a] if seed in seeds[b]]

    def columns(recipe: Hashable, chosen: list[str]) -> list[int]:
        return [draws.columns[(recipe, seed)] for seed in chosen]

    if common:
        ia, ib = columns(a, common), columns(b, common)
        return _Design(
            draws.observed[ia] - draws.observed[ib],
            draws.replicates[:, ia] - draws.replicates[:, ib],
            ((slice(0, len(common)), 1.0),),
            (tuple(common), tuple(common)),
            True,
        )
    cols = columns(a, seeds[a]) + columns(b, seeds[b])
    na, nb = len(seeds[a]), len(seeds[b])
    return _Design(
        draws.observed[cols],
        draws.replicates[:, cols],
        ((slice(0, na), 1.0), (slice(na, na + nb), -1.0)),
        (tuple(seeds[a]), tuple(seeds[b])),
        False,
    )


def _contrast(design: _Design, examples: int) -> Contrast:
    variance, df, covers = _variance(design)
    coef = _coefficients(design)
    difference = float(coef @ design.observed)
    se = float(np.sqrt(variance))
    if se == 0:
        p_value, half = (1.0 if difference == 0 else 0.0), 0.0
    else:
        p_value = float(2 * stdtr(df, -abs(difference) / se))
        half = float(stdtrit(df, 0.5 + LEVEL / 2)) * se
    seeds = (len(design.seeds[0]), len(design.seeds[1]))
    return Contrast(
        difference, difference - half, difference + half, p_value, seeds, design.paired, examples, float(df), covers
    )


def _coefficients(design: _Design) -> np.ndarray:
    coef = np.zeros(len(design.observed))
    for group, sign in design.groups:
        coef[group] = sign / (group.stop - group.start)
    return coef


def _variance(design: _Design) -> tuple[float, float, str]:
    """Var(D), the t reference's degrees of freedom, and what the variance covers (see the module docstring)."""
    coef = _coefficients(design)
    finite = design.replicates[np.isfinite(design.replicates).all(axis=1)]
    cov = np.atleast_2d(np.cov(finite, rowvar=False))
    test_set = float(coef @ cov @ coef)  # the one-level bootstrap variance of D
    sizes = [group.stop - group.start for group, _ in design.groups]
    if min(sizes) < 2:
        return test_set, np.inf, TEST_EXAMPLES
    seed_terms, own = [], 0.0
    for (group, _), s in zip(design.groups, sizes):
        seed_terms.append(float(np.var(design.observed[group], ddof=1)) / s)
        block = cov[group, group]
        shared = (block.sum() - np.trace(block)) / (s * (s - 1))  # mean covariance of two seeds' replicates
        own += (np.trace(block) / s - shared) / s  # each seed's own test-set noise, already in seed_terms
    shared = max(test_set - own, 0.0)
    return (
        sum(seed_terms) + shared,
        _degrees_of_freedom(seed_terms, [s - 1 for s in sizes], shared),
        SEEDS_AND_TEST_EXAMPLES,
    )


def _degrees_of_freedom(seed_terms: list[float], dfs: list[int], shared: float) -> float:
    """Satterthwaite's, with each seed term at its one-sided SEED_BOUND upper confidence bound, so that a
    between-seed variance that comes out small by chance cannot also shrink the t quantile."""
    bounds = [term * df / chdtri(df, SEED_BOUND) for term, df in zip(seed_terms, dfs)]  # chi2 quantile 1 - bound
    spread = sum(bound**2 / df for bound, df in zip(bounds, dfs))
    return (sum(bounds) + shared) ** 2 / spread if spread > 0 else np.inf


def adjust(p_values: Sequence[float], method: str = "holm") -> np.ndarray:
    """Adjusted p-values of one family, in input order: Holm's step-down ("holm") or Benjamini-Hochberg's
    step-up ("bh") procedure, monotone in the ranked p-values and capped at 1. (A few lines, so not worth
    statsmodels as a dependency; the tests check them against its `multipletests`.)"""
    if method not in MULTIPLICITY:
        raise XltError(f"multiplicity method {method!r} is unknown; use one of {', '.join(MULTIPLICITY)}")
    p = np.asarray(p_values, float)
    if p.ndim != 1 or not np.all((p >= 0) & (p <= 1)):
        raise ValueError(f"p-values must be a sequence of numbers in [0, 1], got {p_values!r}")
    m = len(p)
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":  # the i-th smallest (from 0) times m - i, never below an earlier one
        stepped = np.maximum.accumulate((m - np.arange(m)) * ranked)
    else:  # the i-th smallest (from 1) times m / i, never above a later one
        stepped = np.minimum.accumulate((m / np.arange(m, 0, -1)) * ranked[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


REPLICABILITY = (
    "Dror et al. (2017)'s replicability count with Bonferroni partial-conjunction p-values (Benjamini and Heller "
    "2008), valid under any dependence between pairs"
)


def one_sided(contrast: Contrast, direction: int = 1) -> float:
    """The p-value of the one-sided test that a - b is above 0 (`direction` 1) or below it (-1): half the two-sided
    t tail on the observed side, one minus it on the other (the t reference is symmetric)."""
    half = contrast.p_value / 2
    return half if direction * contrast.difference > 0 else 1 - half


def replicability_bound(p_values: Sequence[float], alpha: float = ALPHA) -> int:
    """K = max{u : max over v <= u of (N - v + 1) p_(v) <= alpha}: with family-wise error at most alpha, the
    effect holds in at least K of the N tests (see the module docstring)."""
    p = np.sort(np.asarray(p_values, float))
    if p.size == 0:
        return 0
    partial = np.maximum.accumulate((p.size - np.arange(p.size)) * p)
    return int(np.count_nonzero(partial <= alpha))


def interval_note(seeds: tuple[int, int], paired: bool, replicates: int = REPLICATES) -> str:
    """What a contrast's interval covers and how it is computed, for a table caption (`Contrast.seeds`,
    `Contrast.paired`)."""
    bootstrap = f"paired bootstrap over test examples, {replicates} replicates"
    p_note = "two-sided p-values from the same reference, so p < 0.05 exactly when the interval excludes 0"
    if min(seeds) < 2:
        one = "one seed" if paired else "a recipe with one seed, none in common with the other"
        return (
            f"95% interval over test examples only ({one}: training randomness is not covered): normal, "
            f"with the variance of a {bootstrap}; {p_note}"
        )
    over = f"{seeds[0]} paired seeds" if paired else f"{seeds[0]} and {seeds[1]} unpaired seeds (none in common)"
    between = "the per-seed differences" if paired else "each recipe's seeds (Welch)"
    return (
        f"95% interval over {over} and test examples: t interval from the between-seed variance of "
        f"{between} plus the test-set variance the seeds share ({bootstrap}), Satterthwaite degrees of "
        f"freedom from an {SEED_BOUND:.0%} upper bound of the seed variance (false positives at most 5%); "
        f"{p_note}"
    )


def multiplicity_note(method: str = "holm") -> str:
    if method not in MULTIPLICITY:
        raise XltError(f"multiplicity method {method!r} is unknown; use one of {', '.join(MULTIPLICITY)}")
    return (
        f"p-values adjusted within each table by {MULTIPLICITY[method]}, the per-language cells as one "
        f"family and the average rows as another; * = adjusted p < {ALPHA:g}"
    )
