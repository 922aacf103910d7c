"""Recipe contrasts: hand-checkable numbers, then simulated studies that prove the error rates.

Simulated studies come from tests/simulated_units.py. To keep the file fast, `rates` resamples the studies of
a batch together: their runs are columns of one `resample` call (one draw of example indices for all of
them, as for all recipes of one test set), and batches of 25 keep the draws' own noise from being shared by
every study. Bands are 99% binomial intervals, so a correct method fails a check about once in 100 runs of
a fresh seed; the seeds here are fixed.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from simulated_units import exact_rate, gaussian_variances, one_level_bootstrap, simulate
from xlt.errors import XltError
from xlt.report.contrasts import (
    ALPHA,
    SEEDS_AND_TEST_EXAMPLES,
    TEST_EXAMPLES,
    adjust,
    contrast_average,
    contrast_cell,
    interval_note,
    multiplicity_note,
    resample,
)

STUDIES = 1000
BATCH = 25
REPLICATES = 400
EXAMPLES = 300
ONE, TWO, THREE, FIVE = (["0"], ["0", "1"], ["0", "1", "2"], ["0", "1", "2", "3", "4"])


def rates(name: str, studies: int = STUDIES, **regime) -> tuple[np.ndarray, list]:
    """Per simulated study, whether the contrast of a and b rejects 0 (p < ALPHA), and the contrasts."""
    rng = np.random.default_rng(list(name.encode()))
    regime = {"examples": EXAMPLES, **regime}
    contrasts = []
    for batch in range(studies // BATCH):
        simulated = [simulate(rng, **regime) for _ in range(BATCH)]
        languages = len(simulated[0])
        draws = [
            resample(
                {
                    (f"{r}{j}", seed): units
                    for j, study in enumerate(simulated)
                    for (r, seed), units in study[lang].items()
                },
                (name, str(batch), str(lang)),
                REPLICATES,
            )
            for lang in range(languages)
        ]
        for j in range(BATCH):
            a, b = f"a{j}", f"b{j}"
            contrasts.append(contrast_cell(draws[0], a, b) if languages == 1 else contrast_average(draws, a, b))
    return np.array([c.p_value < ALPHA for c in contrasts]), contrasts


def band(rate: float, studies: int = STUDIES) -> tuple[float, float]:
    low, high = stats.binom.interval(0.99, studies, rate)
    return low / studies, high / studies


def accuracy_units(right: list[int], n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """n examples, the first `right` correct."""
    return (np.arange(n) < right) * 1.0, np.ones(n)


# Hand-checkable numbers and the API's contract.


def test_difference_is_the_mean_of_per_seed_differences_and_one_seed_covers_test_examples_only():
    units = {
        ("a", "0"): accuracy_units(70),
        ("b", "0"): accuracy_units(60),
        ("a", "1"): accuracy_units(80),
        ("b", "1"): accuracy_units(66),
    }
    two = contrast_cell(resample(units, ("toy", "en")), "a", "b")
    assert two.difference == pytest.approx(12.0) and two.seeds == (2, 2) and two.paired
    assert two.examples == 100 and two.covers == SEEDS_AND_TEST_EXAMPLES and two.low < 12 < two.high
    one = contrast_cell(resample({run: units[run] for run in [("a", "0"), ("b", "0")]}, ("toy", "en")), "a", "b")
    assert one.difference == pytest.approx(10.0) and one.seeds == (1, 1)
    assert one.covers == TEST_EXAMPLES and one.df == np.inf


def test_one_seed_interval_is_the_normal_form_of_the_current_one_level_bootstrap():
    rng = np.random.default_rng(0)
    a, b = ((rng.random(2000) < p) * 1.0 for p in (0.7, 0.66))
    den = np.ones(2000)
    contrast = contrast_cell(resample({("a", "0"): (a, den), ("b", "0"): (b, den)}, ("toy", "de"), 4000), "a", "b")
    old = np.percentile(one_level_bootstrap([((a, den), (b, den))], np.random.default_rng(1), 4000), [2.5, 97.5])
    np.testing.assert_allclose([contrast.low, contrast.high], old, atol=0.15)


def test_variance_is_the_unbiased_seed_by_example_components_estimate():
    """On mean-type units the interval's variance is the two-way (seed x example) ANOVA estimate,
    (MS_seeds + MS_examples - MS_residual) / (n S), here with large per-seed example noise (MS_residual)."""
    rng = np.random.default_rng(9)
    seeds, n = 4, 1000
    a = 0.3 * rng.standard_normal(n) + 0.02 * rng.standard_normal((seeds, 1)) + rng.standard_normal((seeds, n))
    b = 0.3 * rng.standard_normal(n) + 0.02 * rng.standard_normal((seeds, 1)) + rng.standard_normal((seeds, n))
    units = {(r, str(s)): (x[s], np.ones(n)) for r, x in (("a", a), ("b", b)) for s in range(seeds)}
    contrast = contrast_cell(resample(units, ("anova",), 20000), "a", "b")
    variance = ((contrast.high - contrast.low) / (2 * stats.t.ppf(0.975, contrast.df))) ** 2
    x = 100 * (a - b)
    per_seed, per_example = x.mean(axis=1), x.mean(axis=0)
    residual = x - per_seed[:, None] - per_example[None, :] + x.mean()
    ms_seeds, ms_examples = n * per_seed.var(ddof=1), seeds * per_example.var(ddof=1)
    ms_residual = (residual**2).sum() / ((seeds - 1) * (n - 1))
    assert variance == pytest.approx((ms_seeds + ms_examples - ms_residual) / (n * seeds), rel=0.03)
    assert ms_residual / (n * seeds) > 0.3 * variance  # counting it twice (the naive sum) would show


def test_unpaired_variance_is_each_recipes_seed_variance_plus_the_test_set_covariance_of_distinct_seeds():
    """Welch by hand: var(a_s)/S_a + var(b_s)/S_b, plus the test-set variance the seed means share: the mean
    bootstrap covariance of two distinct seeds of a, of two of b, less twice that of a seed of a and one of b."""
    rng = np.random.default_rng(4)
    n, seeds = 500, {"a": ["0", "1", "2"], "b": ["3", "4"]}
    difficulty = {r: rng.standard_normal(n) for r in seeds}  # a recipe's, in all its seeds: does not average out
    units = {
        (r, s): (difficulty[r] + 0.05 * rng.standard_normal() + rng.standard_normal(n), np.ones(n))
        for r in seeds
        for s in seeds[r]
    }
    draws = resample(units, ("welch",), 2000)
    contrast = contrast_cell(draws, "a", "b")
    variance = ((contrast.high - contrast.low) / (2 * stats.t.ppf(0.975, contrast.df))) ** 2
    cols = {r: [draws.columns[(r, s)] for s in seeds[r]] for r in seeds}
    cov = np.cov(draws.replicates, rowvar=False)

    def mean_covariance(x: list[int], y: list[int]) -> float:
        return np.mean([cov[i, j] for i in x for j in y if i != j])

    shared = mean_covariance(cols["a"], cols["a"]) + mean_covariance(cols["b"], cols["b"])
    shared -= 2 * mean_covariance(cols["a"], cols["b"])
    seed_terms = sum(np.var(draws.observed[cols[r]], ddof=1) / len(seeds[r]) for r in seeds)
    assert not contrast.paired and shared > 0.2 * seed_terms  # both terms weigh
    assert variance == pytest.approx(seed_terms + shared, rel=1e-9)


def test_seeds_are_paired_over_those_both_ran_and_unpaired_when_none_is_shared():
    units = {(r, s): accuracy_units(60 + 3 * int(s)) for r, seeds in (("a", "012"), ("b", "12")) for s in seeds}
    paired = contrast_cell(resample(units, ("t",)), "a", "b")
    assert paired.paired and paired.seeds == (2, 2) and paired.difference == 0.0  # seeds 1 and 2 only
    units = {(r, s): accuracy_units(60 + 3 * int(s)) for r, seeds in (("a", "012"), ("b", "34")) for s in seeds}
    unpaired = contrast_cell(resample(units, ("t",)), "a", "b")
    assert not unpaired.paired and unpaired.seeds == (3, 2)
    assert unpaired.difference == pytest.approx(63 - 70.5) and unpaired.covers == SEEDS_AND_TEST_EXAMPLES


def test_average_weights_languages_and_sums_their_examples():
    en = resample({("a", "0"): accuracy_units(80), ("b", "0"): accuracy_units(70)}, ("t", "en"))
    sw = resample({("a", "0"): accuracy_units(45, 50), ("b", "0"): accuracy_units(35, 50)}, ("t", "sw"))
    assert contrast_average([en, sw], "a", "b").difference == pytest.approx((10 + 20) / 2)
    weighted = contrast_average([en, sw], "a", "b", weights=[3, 1])
    assert weighted.difference == pytest.approx((3 * 10 + 1 * 20) / 4) and weighted.examples == 150
    sw_only = contrast_average([sw], "a", "b")
    assert (sw_only.low, sw_only.high) == (contrast_cell(sw, "a", "b").low, contrast_cell(sw, "a", "b").high)


def test_average_is_paired_exactly_when_the_recipes_share_seeds():
    shared = {(r, s): accuracy_units(50 + 5 * int(s)) for r in "ab" for s in "01"}
    disjoint = {(r, s): accuracy_units(50 + 5 * int(s)) for r, seeds in (("a", "01"), ("b", "23")) for s in seeds}
    for units, paired in ((shared, True), (disjoint, False)):
        draws = [resample(units, ("t", lang)) for lang in ("en", "sw")]
        assert contrast_average(draws, "a", "b").paired is paired


def test_average_matches_seeds_by_name_whatever_order_each_language_lists_them():
    runs = {
        ("a", "0"): accuracy_units(80),
        ("b", "0"): accuracy_units(70),
        ("a", "1"): accuracy_units(60),
        ("b", "1"): accuracy_units(64),
    }
    en = resample(runs, ("t", "en"))
    sw = resample(dict(reversed(runs.items())), ("t", "sw"))
    same_order = resample(runs, ("t", "sw"))
    assert contrast_average([en, sw], "a", "b") == contrast_average([en, same_order], "a", "b")


def test_identical_recipes_give_a_zero_width_interval_and_p_one():
    same = accuracy_units(50)
    contrast = contrast_cell(resample({("a", "0"): same, ("b", "0"): same}, ("t",)), "a", "b")
    assert (contrast.difference, contrast.low, contrast.high, contrast.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_df_is_finite_whenever_seeds_vary_and_normal_when_nothing_does():
    varying = {(r, s): accuracy_units(1400 + int(s) if r == "a" else 1200, 2000) for r in "ab" for s in "012"}
    contrast = contrast_cell(resample(varying, ("t",)), "a", "b")  # per-seed differences 10, 10.05, 10.1
    assert np.isfinite(contrast.df) and contrast.df >= 2
    same = {(r, s): accuracy_units(50) for r in "ab" for s in "01"}
    contrast = contrast_cell(resample(same, ("t",)), "a", "b")
    assert (contrast.df, contrast.low, contrast.high, contrast.p_value) == (np.inf, 0.0, 0.0, 1.0)
    certain = {(r, s): accuracy_units(100 if r == "a" else 0) for r in "ab" for s in "01"}  # no variance at all
    contrast = contrast_cell(resample(certain, ("t",)), "a", "b")
    assert (contrast.difference, contrast.low, contrast.high, contrast.p_value) == (100.0, 100.0, 100.0, 0.0)


def test_replicates_are_scores_on_the_observed_scale():
    draws = resample({("a", "0"): accuracy_units(70), ("b", "0"): accuracy_units(40)}, ("t", "en"))
    np.testing.assert_allclose(draws.observed, [70.0, 40.0])
    np.testing.assert_allclose(draws.replicates.mean(axis=0), draws.observed, atol=0.3)  # standard error ~0.1


def test_numbers_are_reproducible_and_do_not_depend_on_other_runs_of_the_test_set():
    rng = np.random.default_rng(4)
    units = {(r, "0"): ((rng.random(500) < 0.6) * 1.0, np.ones(500)) for r in "abc"}  # one seed: all bootstrap
    pair = {run: arrays for run, arrays in units.items() if run[0] != "c"}
    first = contrast_cell(resample(units, ("xnli", "en", "sw")), "a", "b")
    assert first == contrast_cell(resample(units, ("xnli", "en", "sw")), "a", "b")
    assert first == contrast_cell(resample(pair, ("xnli", "en", "sw")), "a", "b")
    assert first.low != contrast_cell(resample(units, ("xnli", "en", "de")), "a", "b").low  # seeded per test set


def test_p_value_is_below_alpha_exactly_when_the_interval_excludes_zero():
    _, contrasts = rates(
        "consistency", studies=200, seeds_a=THREE, seeds_b=THREE, seed_sd=0.1, example_sd=1.0, delta=0.15
    )
    excluded = [c.low > 0 or c.high < 0 for c in contrasts]
    assert 20 < sum(excluded) < 180  # both outcomes occur
    assert excluded == [c.p_value < ALPHA for c in contrasts]


def test_bad_units_are_one_line_errors():
    with pytest.raises(XltError, match="^xnli/sw: runs hold .10, 11. test examples; .+pair example by example"):
        resample({("a", "0"): accuracy_units(5, 10), ("b", "0"): accuracy_units(5, 11)}, ("xnli", "sw"))
    with pytest.raises(
        XltError,
        match="^xnli/sw: a run's units have den summing to 0.0; .+ delete its units file and rerun the evaluation$",
    ):
        resample({("a", "0"): (np.zeros(3), np.zeros(3))}, ("xnli", "sw"))
    with pytest.raises(
        XltError, match="^xnli/sw: no runs to resample; pass the units of every run scored on this test set$"
    ):
        resample({}, ("xnli", "sw"))
    draws = resample({("a", "0"): accuracy_units(5, 10)}, ("xnli", "sw"))
    with pytest.raises(XltError, match="^xnli/sw: no run of recipe b was resampled; pass its units$"):
        contrast_cell(draws, "a", "b")


def test_average_needs_the_same_seeds_on_every_language():
    en = resample({(r, s): accuracy_units(50) for r in "ab" for s in "01"}, ("t", "en"))
    sw = resample({(r, "0"): accuracy_units(50) for r in "ab"}, ("t", "sw"))
    with pytest.raises(XltError) as error:
        contrast_average([en, sw], "a", "b")
    assert str(error.value) == (
        "t/en, t/sw: recipes a and b were scored by different seeds on different languages; "
        "an average needs every language from the same seeds, so average only those languages"
    )


def test_notes_say_what_the_interval_covers_and_name_the_adjustment():
    assert "training randomness is not covered" in interval_note((1, 1), True)
    assert "3 paired seeds and test examples" in interval_note((3, 3), True)
    assert "3 and 2 unpaired seeds" in interval_note((3, 2), False)
    assert "Holm's step-down" in multiplicity_note() and "Benjamini-Hochberg" in multiplicity_note("bh")
    assert "* = adjusted p < 0.05" in multiplicity_note()
    with pytest.raises(XltError, match="multiplicity method 'bonferroni' is unknown; use one of holm, bh$"):
        multiplicity_note("bonferroni")


@pytest.mark.parametrize(
    ("seeds", "paired", "design"),
    [
        ((1, 1), True, "test examples only (one seed: training randomness is not covered): normal"),
        ((1, 3), False, "(a recipe with one seed, none in common with the other: training randomness is not"),
        ((3, 3), True, "3 paired seeds and test examples: t interval from the between-seed variance of the per-seed"),
        (
            (3, 2),
            False,
            "3 and 2 unpaired seeds (none in common) and test examples: t interval from the "
            "between-seed variance of each recipe's seeds (Welch) plus",
        ),
    ],
)
def test_interval_note_names_the_design_the_bootstrap_and_the_p_value_rule(seeds, paired, design):
    note = interval_note(seeds, paired, 400)
    assert design in note
    assert "paired bootstrap over test examples, 400 replicates" in note
    assert note.endswith(
        "; two-sided p-values from the same reference, so p < 0.05 exactly when the interval excludes 0"
    )


# Error rates on simulated studies.


def test_null_false_positive_rate_is_nominal_with_one_seed():
    rejected, _ = rates("one seed", seeds_a=ONE, seeds_b=ONE, seed_sd=0.0, example_sd=1.0)
    low, high = band(ALPHA)
    assert low <= rejected.mean() <= high


@pytest.mark.parametrize(
    "seeds",
    [pytest.param(TWO, marks=pytest.mark.slow), THREE, pytest.param(FIVE, marks=pytest.mark.slow)],
    ids=["2", "3", "5"],
)
def test_null_false_positive_rate_is_nominal_when_seed_noise_dominates(seeds):
    rejected, contrasts = rates(f"seeds {len(seeds)}", seeds_a=seeds, seeds_b=seeds, seed_sd=0.3, example_sd=0.3)
    low, high = band(ALPHA)
    assert low <= rejected.mean() <= high
    assert np.median([c.df for c in contrasts]) < len(seeds)  # the t reference has about seeds - 1 df


def test_null_false_positive_rate_is_nominal_when_test_examples_dominate():
    regime = {"examples": EXAMPLES, "seed_sd": 0.0, "example_sd": 1.0, "within_sd": 0.1}
    seed_part, shared = gaussian_variances(seeds=3, **regime)
    assert exact_rate(3, seed_part, shared) > 0.049  # the design's exact rate is nominal here
    rejected, contrasts = rates("examples", seeds_a=THREE, seeds_b=THREE, kind="gaussian", **regime)
    low, high = band(ALPHA)
    assert low <= rejected.mean() <= high
    assert np.median([c.df for c in contrasts]) > 30  # effectively a normal reference


@pytest.mark.parametrize(
    "seeds",
    [pytest.param(TWO, marks=pytest.mark.slow), THREE, pytest.param(FIVE, marks=pytest.mark.slow)],
    ids=["2", "3", "5"],
)
def test_null_false_positive_rate_matches_the_exact_rate_and_stays_at_most_nominal_when_both_noises_matter(seeds):
    regime = {"examples": EXAMPLES, "seed_sd": 0.015, "example_sd": 0.15, "within_sd": 0.1}
    seed_part, shared = gaussian_variances(seeds=len(seeds), **regime)
    assert 0.3 < seed_part / shared < 3  # comparable
    expected = exact_rate(len(seeds), seed_part, shared)
    assert 0.02 < expected <= ALPHA  # conservative here, never above nominal (see the module docstring)
    rejected, _ = rates(f"both {len(seeds)}", seeds_a=seeds, seeds_b=seeds, kind="gaussian", **regime)
    low, high = band(expected)
    assert low <= rejected.mean() <= high


@pytest.mark.slow
def test_one_level_bootstrap_misses_seed_noise_that_the_contrast_covers():
    """The report's intervals before contrasts (seeds fixed, examples resampled) on the same studies."""
    rng = np.random.default_rng(11)
    old, new = [], []
    for study in range(300):
        [units] = simulate(rng, examples=EXAMPLES, seeds_a=THREE, seeds_b=THREE, seed_sd=0.3, example_sd=0.3)
        draws = one_level_bootstrap([(units[("a", s)], units[("b", s)]) for s in THREE], rng, REPLICATES)
        low, high = np.percentile(draws, [2.5, 97.5])
        old.append(low > 0 or high < 0)
        new.append(contrast_cell(resample(units, ("old", str(study)), REPLICATES), "a", "b").p_value < ALPHA)
    assert np.mean(old) > 0.3  # six times nominal and more
    low, high = band(ALPHA, 300)
    assert low <= np.mean(new) <= high


@pytest.mark.slow
def test_null_false_positive_rate_is_nominal_on_the_average_when_seeds_shift_every_language():
    """Half of a seed's effect is the same on all 4 languages, so the languages' seed noise does not average
    out: the average takes its seed variance from each seed's mean over languages."""
    rejected, contrasts = rates("average", seeds_a=THREE, seeds_b=THREE, seed_sd=0.3, example_sd=0.3, languages=4)
    low, high = band(ALPHA)
    assert low <= rejected.mean() <= high and contrasts[0].examples == 4 * EXAMPLES


@pytest.mark.slow
def test_unpaired_seeds_keep_the_false_positive_rate_at_most_nominal():
    rejected, contrasts = rates("unpaired", seeds_a=THREE, seeds_b=["3", "4", "5"], seed_sd=0.3, example_sd=0.3)
    _, high = band(ALPHA)
    assert not contrasts[0].paired and 0.025 <= rejected.mean() <= high  # conservative, as the docstring says


@pytest.mark.parametrize(
    "seeds, regime",
    [
        (ONE, {"seed_sd": 0.0, "example_sd": 0.3, "within_sd": 0.3}),  # normal reference
        (THREE, {"seed_sd": 0.02, "example_sd": 0.01, "within_sd": 0.01}),  # noncentral t, 2 df
        pytest.param(FIVE, {"seed_sd": 0.01, "example_sd": 0.15, "within_sd": 0.1}, marks=pytest.mark.slow),  # both
    ],
    ids=["1 seed", "3 seeds, seed noise", "5 seeds, both"],
)
def test_known_difference_is_detected_at_expected_power(seeds, regime):
    seed_part, shared = gaussian_variances(examples=EXAMPLES, seeds=len(seeds), **regime)
    delta = 2.5 * np.sqrt(seed_part + shared)  # points
    expected = exact_rate(len(seeds), seed_part, shared, delta)
    if len(seeds) == 3:  # seeds dominate: the statistic is noncentral t with 2 df
        t = stats.t.ppf(1 - ALPHA / 2, 2)
        assert expected == pytest.approx(stats.nct.sf(t, 2, 2.5) + stats.nct.cdf(-t, 2, 2.5), abs=0.01)
    rejected, contrasts = rates(
        f"power {len(seeds)}", seeds_a=seeds, seeds_b=seeds, kind="gaussian", delta=delta / 100, **regime
    )
    low, high = band(expected)
    assert 0.2 < expected < 0.9 and low <= rejected.mean() <= high
    assert all(c.difference > 0 for c, r in zip(contrasts, rejected) if r)  # detected in the right direction


# Multiplicity.


def test_holm_and_bh_match_hand_computed_adjustments():
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04 -> running max
    np.testing.assert_allclose(adjust(p, "holm"), [0.03, 0.06, 0.06, 0.02])
    # BH: sorted times 4/1, 4/2, 4/3, 4/4 -> 0.02, 0.02, 0.04, 0.04 -> running min from the top
    np.testing.assert_allclose(adjust(p, "bh"), [0.02, 0.04, 0.04, 0.02])
    np.testing.assert_allclose(adjust([0.5, 0.9], "holm"), [1.0, 1.0])  # capped
    assert adjust([], "bh").shape == (0,)


def test_adjustments_match_statsmodels_multipletests(monkeypatch):
    from statsmodels.stats.multitest import multipletests

    monkeypatch.setattr("gc.collect", lambda: 0)  # its Holm collects garbage on every call: 0.1 s each here

    rng = np.random.default_rng(5)
    for m in (1, 2, 7, 40):
        for _ in range(50):
            p = np.round(rng.beta(0.5, 2, m), 2)  # rounding makes ties
            for ours, theirs in (("holm", "holm"), ("bh", "fdr_bh")):
                np.testing.assert_allclose(adjust(p, ours), multipletests(p, method=theirs)[1], rtol=1e-12)


def test_adjusted_p_values_are_monotone_in_the_raw_ones_and_never_below_them():
    rng = np.random.default_rng(6)
    p = rng.random(30) ** 3
    for method in ("holm", "bh"):
        adjusted = adjust(p, method)
        order = np.argsort(p)
        assert np.all(np.diff(adjusted[order]) >= 0) and np.all(adjusted >= p) and np.all(adjusted <= 1)


def test_bad_adjustment_input_is_an_error():
    with pytest.raises(XltError, match="multiplicity method 'bonferonni' is unknown; use one of holm, bh$"):
        adjust([0.1], "bonferonni")
    for bad in ([0.1, float("nan")], [1.5], [-0.1], [[0.1]]):
        with pytest.raises(ValueError, match=r"in \[0, 1\]"):
            adjust(bad)
    np.testing.assert_allclose(adjust([0.0, 1.0]), [0.0, 1.0])  # both ends are p-values


def test_holm_controls_familywise_error_under_global_null():
    families, m = 4000, 40
    p = np.random.default_rng(7).random((families, m))
    any_rejected = np.array([(adjust(row, "holm") < ALPHA).any() for row in p])
    exact = 1 - (1 - ALPHA / m) ** m  # Holm's first step is Bonferroni's: the rate for independent p-values
    low, high = band(exact, families)
    assert low <= any_rejected.mean() <= high and exact <= ALPHA
    assert (p < ALPHA).any(axis=1).mean() > 0.8  # unadjusted, a false positive in nearly every family


def test_bh_controls_false_discovery_rate():
    """40 cells, 10 with a true difference (z = 3): BH's FDR is m0 / m * alpha for independent p-values."""
    families, m, m0 = 4000, 40, 30
    rng = np.random.default_rng(8)
    z = rng.standard_normal((families, m)) + np.r_[np.zeros(m0), np.full(m - m0, 3.0)]
    p = 2 * stats.norm.sf(np.abs(z))
    fdp, holm_found, bh_found = [], 0, 0
    for row in p:
        rejected = adjust(row, "bh") < ALPHA
        fdp.append(rejected[:m0].sum() / max(rejected.sum(), 1))
        bh_found += rejected[m0:].sum()
        holm_found += (adjust(row, "holm")[m0:] < ALPHA).sum()
    fdr, se = np.mean(fdp), np.std(fdp) / np.sqrt(families)
    assert abs(fdr - m0 / m * ALPHA) < 3 * se and fdr <= ALPHA
    assert bh_found > 1.2 * holm_found  # what controlling the FDR instead buys
