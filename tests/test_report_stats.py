"""Report statistics on hand-computable numbers: means, gaps, normalised transfer, paired bootstrap."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from xlt.errors import XltError
from xlt.report.comparisons import Comparison, Draws, comparisons, contrast_table
from xlt.report.stats import (
    UnitsStore,
    language_average,
    normalised_transfer,
    replicate_ratios,
    summarise,
    transfer_gap,
)
from xlt.report.study import Recipe, build_sections


def _row(method, intermediate, lang, value, seed="0", train="en", primary="1", split="test"):
    return dict(
        method=method,
        intermediate=intermediate,
        target_task="toy",
        train_languages=train,
        eval_language=lang,
        split=split,
        metric="accuracy",
        value=str(value),
        seed=seed,
        stage_hash=f"{method}-{intermediate}-{seed}",
        primary=primary,
    )


def test_sections_average_seeds_order_recipes_and_ignore_secondary_metrics(tmp_path):
    rows = [
        _row("majority", "none", "de", 50),
        _row("majority", "none", "en", 50),
        _row("ft", "multi", "de", 70),
        _row("ft", "multi", "en", 82),
        _row("ft", "none", "de", 60),
        _row("ft", "none", "en", 80),
        _row("ft", "none", "de", 70, seed="1"),
        _row("ft", "none", "en", 90, seed="1"),
        _row("ft", "none", "en", 1.0, primary="0"),
        _row("ft", "none", "en", 10.0, split="dev"),
    ]
    [section] = build_sections(rows)
    assert section.languages == ["en", "de"]  # the training language first
    assert [r.label for r in section.recipes] == ["ft", "ft + multi", "majority"]
    summary = summarise(section, UnitsStore(tmp_path))
    assert summary.scores[Recipe("ft", "none")] == {"en": 85.0, "de": 65.0}
    assert summary.average[Recipe("ft", "none")] == 75.0
    assert summary.gap[Recipe("ft", "none")] == 20.0
    assert summary.normalised[Recipe("ft", "none")] == pytest.approx(15 / 35)


def test_a_section_without_a_majority_row_has_no_normalised_transfer(tmp_path):
    [section] = build_sections([_row("ft", "none", "en", 80), _row("ft", "none", "de", 60)])
    summary = summarise(section, UnitsStore(tmp_path))
    assert summary.section is section
    assert summary.normalised is None
    assert summary.gap[Recipe("ft", "none")] == 20.0


def test_rerun_rows_count_once_the_last_one():
    rows = [_row("ft", "none", "en", 10), _row("ft", "none", "en", 80)]
    [section] = build_sections(rows)
    assert section.cells[Recipe("ft", "none")]["0"]["en"].value == 80.0


def test_no_primary_rows_is_one_line_error():
    with pytest.raises(XltError, match="no primary-metric rows"):
        build_sections([_row("ft", "none", "en", 80, primary="0")])


def test_language_average_needs_every_language_and_weights_pooled_tasks():
    assert language_average({"en": 80.0, "de": 60.0}, ["en", "de"]) == 70.0
    assert language_average({"en": 80.0}, ["en", "de"]) is None
    assert language_average({"en": 80.0, "de": 60.0}, ["en", "de"], {"en": 3, "de": 1}) == 75.0


def test_a_task_averaged_over_examples_weights_languages_by_their_example_counts(tmp_path):
    """LAReQA's official mAP pools questions: 3 English and 1 German question weigh 3:1."""
    rows = []
    counts = {"en": 3, "de": 1}
    for method, intermediate, en, de in (("ft", "none", 80, 60), ("ft", "multi", 90, 100)):
        rows += [
            dict(_row(method, intermediate, lang, value), target_task="lareqa", metric="map@20")
            for lang, value in (("en", en), ("de", de))
        ]
        folder = tmp_path / "units" / f"{method}-{intermediate}-0"
        folder.mkdir(parents=True, exist_ok=True)
        for lang, value in (("en", en), ("de", de)):  # units that give each row's value
            n = counts[lang]
            np.savez(folder / f"test-{lang}.npz", num=np.full(n, value / 100), den=np.ones(n))
    [section] = build_sections(rows, {"lareqa": {"averaging": "examples"}})  # as tasks.json records it
    summary = summarise(section, UnitsStore(tmp_path))
    assert summary.pooled and summary.average[Recipe("ft", "none")] == 75.0  # not the mean of languages, 70
    [comparison] = comparisons(section, None)
    table = contrast_table(comparison, section, Draws(section, UnitsStore(tmp_path)), {}, "holm")
    assert table.overall.difference == pytest.approx((3 * 10 + 1 * 40) / 4)


def _table_without_units(tmp_path, rows):
    [section] = build_sections(rows)
    [comparison] = comparisons(section, None)
    return contrast_table(comparison, section, Draws(section, UnitsStore(tmp_path)), {}, "holm")


def test_without_units_a_difference_pairs_the_seeds_both_ran_else_subtracts_the_seed_means(tmp_path):
    none = [
        _row("ft", "none", lang, value, seed)
        for lang, value, seed in (("en", 80, "0"), ("de", 60, "0"), ("de", 70, "1"))
    ]
    shared = [_row("ft", "multi", "en", 80), _row("ft", "multi", "de", 70, "1"), _row("ft", "multi", "de", 80, "2")]
    [en, de] = _table_without_units(tmp_path, none + shared).languages
    assert (en.difference, de.difference, de.contrast) == (0.0, 0.0, None)  # de: seed 1 alone, 70 - 70
    apart = [_row("ft", "multi", "en", 84, "5"), _row("ft", "multi", "de", 75, "5"), _row("ft", "multi", "de", 85, "6")]
    [en, de] = _table_without_units(tmp_path, none + apart).languages
    assert (en.difference, de.difference) == (4.0, 80 - 65)


def test_a_language_one_recipe_lacks_has_no_row_and_no_average_is_shown(tmp_path):
    rows = [_row("ft", c, lang, 70) for c in ("none", "multi") for lang in ("en", "de")] + [
        _row("ft", "none", "sw", 50)
    ]
    table = _table_without_units(tmp_path, rows)
    assert [row.language for row in table.languages] == ["en", "de"] and table.averages == []


def test_a_contrast_table_splits_its_languages_into_seen_and_unseen(tmp_path):
    rows = [_row("ft", c, lang, 70) for c in ("none", "multi") for lang in ("en", "de", "sw")]
    table = _table_without_units(tmp_path, rows)
    assert (table.seen, table.unseen) == (["en"], ["de", "sw"])
    assert [(row.language, row.group) for row in table.languages] == [
        ("en", "seen"),
        ("de", "unseen"),
        ("sw", "unseen"),
    ]


def test_an_oracle_is_compared_with_its_dev_selected_recipe(tmp_path):
    rows = [_row(method, "multi", "en", 70) for method in ("ft", "ft@target-dev")]
    [section] = build_sections(rows)
    assert comparisons(section, None) == [Comparison(Recipe("ft@target-dev", "multi"), Recipe("ft", "multi"), "oracle")]


def test_a_pooled_task_missing_a_units_file_falls_back_to_the_plain_language_mean(tmp_path):
    rows = [dict(_row("ft", "none", lang, value), target_task="lareqa") for lang, value in (("en", 80), ("de", 60))]
    [section] = build_sections(rows, {"lareqa": {"averaging": "examples"}})
    summary = summarise(section, UnitsStore(tmp_path))  # no units files at all
    assert not summary.pooled and summary.average[Recipe("ft", "none")] == 70.0


def test_units_store_reads_a_missing_file_as_none_and_refuses_malformed_ones(tmp_path):
    store = UnitsStore(tmp_path)
    assert store.get("abc", "test", "en") is None
    folder = tmp_path / "units" / "abc"
    folder.mkdir(parents=True)
    (folder / "test-de.npz").write_bytes(b"not a zip")
    with pytest.raises(XltError, match=r"test-de.npz is not a units file with arrays num and den \(.+\); delete it$"):
        store.get("abc", "test", "de")
    for lang, num, den in (("fr", np.ones((2, 3)), np.ones((2, 3))), ("sw", np.ones(3), np.ones(2))):
        np.savez(folder / f"test-{lang}.npz", num=num, den=den)
        with pytest.raises(
            XltError, match=f"test-{lang}.npz: num and den must be 1-d arrays of one length; delete it$"
        ):
            store.get("abc", "test", lang)


def test_transfer_gap_with_one_and_several_training_languages():
    scores = {"en": 80.0, "de": 70.0, "sw": 40.0, "fr": 50.0}
    assert transfer_gap(scores, ("en",)) == pytest.approx(80 - 160 / 3)
    assert transfer_gap(scores, ("en", "de")) == pytest.approx(75 - 45)
    assert transfer_gap({"en": 80.0}, ("en",)) is None


def test_normalised_transfer_uses_each_languages_majority():
    scores = {"en": 90.0, "de": 70.0, "sw": 40.0}
    majority = {"en": 50.0, "de": 50.0, "sw": 30.0}
    assert normalised_transfer(scores, majority, ("en",)) == pytest.approx(((20 / 40) + (10 / 40)) / 2)
    assert normalised_transfer(majority, majority, ("en",)) is None  # 0/0: no transfer to normalise
    assert normalised_transfer(scores, {"de": 50.0, "sw": 30.0}, ("en",)) is None  # no training-language majority


def test_normalised_transfer_is_undefined_where_training_does_not_beat_majority():
    majority = {"en": 50.0, "de": 40.0}
    assert normalised_transfer({"en": 45.0, "de": 30.0}, majority, ("en",)) is None  # the ratio would flip sign
    assert normalised_transfer({"en": 51.0, "de": 41.0}, majority, ("en",)) == pytest.approx(1.0)


def _correct(n, k):
    return np.arange(n) < k, np.ones(n)


def _unpaired_bootstrap(recipe, baseline, rng, replicates):
    """What the report must not do: resample recipe and baseline examples independently."""
    n = len(recipe[0])
    ri, bi = rng.integers(0, n, (replicates, n)), rng.integers(0, n, (replicates, n))
    return 100 * (recipe[0][ri].sum(1) / recipe[1][ri].sum(1) - baseline[0][bi].sum(1) / baseline[1][bi].sum(1))


def _paired(recipe, baseline, rng, replicates=1000):
    draws = replicate_ratios([recipe, baseline], rng, replicates)
    return 100 * (draws[:, 0] - draws[:, 1])


def test_paired_bootstrap_is_tighter_than_unpaired_on_correlated_units():
    # The recipe gets right every example the baseline does, plus 20 more: gain 5 points on 400.
    recipe, baseline = _correct(400, 260), _correct(400, 240)
    paired = _paired(recipe, baseline, np.random.default_rng(0))
    unpaired = _unpaired_bootstrap(recipe, baseline, np.random.default_rng(0), 1000)
    low, high = np.percentile(paired, [2.5, 97.5])
    unpaired_low, unpaired_high = np.percentile(unpaired, [2.5, 97.5])
    assert low <= 5.0 <= high and low > 0
    assert high - low < 0.5 * (unpaired_high - unpaired_low)
    assert unpaired_low < 0  # independent resampling would call this gain insignificant


def test_every_run_is_resampled_on_the_same_examples():
    same, better = _correct(50, 30), _correct(50, 40)
    draws = replicate_ratios([same, same, better], np.random.default_rng(0), 200)
    np.testing.assert_array_equal(draws[:, 0], draws[:, 1])
    assert draws.shape == (200, 3) and (draws[:, 2] >= draws[:, 0]).all()  # a superset right in every replicate


def test_bootstrap_in_blocks_fills_every_replicate(monkeypatch):
    monkeypatch.setattr("xlt.report.stats._MAX_DRAWS", 30 * 7)  # blocks of 7 replicates, the last one short
    draws = _paired(_correct(30, 20), _correct(30, 10), np.random.default_rng(3), replicates=50)
    assert draws.shape == (50,) and np.isfinite(draws).all()
    assert np.mean(draws) == pytest.approx(100 / 3, abs=3)


def test_a_replicate_that_counts_nothing_is_inf_or_nan_without_a_warning():
    # Example 0 has num 1 and den 0, example 1 counts nothing (0 / 0), example 2 is a plain hit.
    units = [(np.array([1.0, 0.0, 1.0]), np.array([0.0, 0.0, 1.0]))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ratios = replicate_ratios(units, np.random.default_rng(0), 2000)[:, 0]
    assert np.isposinf(ratios).any() and np.isnan(ratios).any() and (ratios == 1.0).any()
