"""The analysis measures against hand computations and simulations (pure numpy, no torch)."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

from xlt.analysis.measures import (
    MEASURES,
    Side,
    cka,
    half_samples,
    interval,
    matched_derangement,
    nearest_hits,
    pair_measures,
)


def full(n: int) -> np.ndarray:
    return np.ones((1, n), dtype=np.float32)


def hsic_by_hand(x: np.ndarray, y: np.ndarray) -> float:
    """Song et al. (2012) eq. 5, term by term with explicit loops over index tuples."""
    n = len(x)
    k, g = x @ x.T, y @ y.T
    np.fill_diagonal(k, 0)
    np.fill_diagonal(g, 0)
    trace = sum(k[i, j] * g[j, i] for i in range(n) for j in range(n))
    sums = k.sum() * g.sum() / ((n - 1) * (n - 2))
    chain = sum(k[i, j] * g[j, m] for i, j, m in itertools.product(range(n), repeat=3))
    return (trace + sums - 2 * chain / (n - 2)) / (n * (n - 3))


def cka_by_hand(x, y) -> float:
    return hsic_by_hand(x, y) / np.sqrt(hsic_by_hand(x, x) * hsic_by_hand(y, y))


def plug_in_cka(x, y) -> float:
    """Kornblith et al.'s biased estimator: ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F)."""
    x, y = x - x.mean(0), y - y.mean(0)
    return np.linalg.norm(y.T @ x) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))


@pytest.fixture
def related():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 5)) + 2.0
    return x, x @ rng.normal(size=(5, 4)) + rng.normal(size=(12, 4))


def test_cka_equals_the_hand_computation_on_the_full_sample_and_on_a_half_sample(related):
    x, y = related
    masks = half_samples(len(x), 3, seed=1)
    values = cka(Side(x, masks), Side(y, masks))
    assert values[0] == pytest.approx(cka_by_hand(x, y), abs=1e-6)
    for row in range(1, 4):
        keep = masks[row].astype(bool)
        assert keep.sum() == 6
        assert values[row] == pytest.approx(cka_by_hand(x[keep], y[keep]), abs=1e-5)


@pytest.mark.parametrize("n, d", [(8, 3), (40, 60), (300, 16)])
def test_cka_of_a_matrix_with_itself_is_one(n, d):
    x = np.random.default_rng(n).normal(size=(n, d))
    masks = half_samples(n, 5, seed=0)
    side = Side(x, masks)
    np.testing.assert_allclose(cka(side, side), 1.0, atol=1e-6)


def test_cka_is_invariant_to_orthogonal_transforms_isotropic_scaling_and_translation(related):
    x, y = related
    rotation, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(5, 5)))
    masks = half_samples(len(x), 4, seed=2)
    reference = cka(Side(x, masks), Side(y, masks))
    moved = cka(Side(7.5 * x @ rotation + 3.0, masks), Side(y, masks))
    np.testing.assert_allclose(moved, reference, atol=1e-5)
    assert not np.allclose(cka(Side(x * np.arange(1, 6), masks), Side(y, masks)), reference, atol=1e-3)


def test_unbiased_cka_of_unrelated_matrices_is_zero_at_small_n_where_the_plug_in_is_not():
    rng = np.random.default_rng(5)
    n, d = 20, 50
    unbiased, plug_in = [], []
    for _ in range(200):
        x, y = rng.normal(size=(n, d)), rng.normal(size=(n, d))
        unbiased.append(cka(Side(x, full(n)), Side(y, full(n)))[0])
        plug_in.append(plug_in_cka(x, y))
    assert abs(np.mean(unbiased)) < 0.01
    assert np.mean(plug_in) > 0.5  # d > n: the plug-in estimator says "similar" for pure noise


def test_identical_languages_have_cosines_retrieval_and_cka_of_one():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(50, 8)) + 4.0  # far from the origin: raw cosines of any pair are high
    masks = half_samples(50, 10, seed=0)
    base = Side(x, masks)
    shuffled = base.permuted(matched_derangement(np.zeros(50), 0))
    values = pair_measures(base, shuffled, Side(x.copy(), masks))
    assert set(values) == set(MEASURES)
    for name in (
        "cos",
        "cos_centred",
        "cka",
        "p1_raw_base2lang",
        "p1_raw_lang2base",
        "p1_centred_base2lang",
        "p1_centred_lang2base",
    ):
        np.testing.assert_allclose(values[name], 1.0, atol=1e-6, err_msg=name)
    assert values["cos_random"][0] > 0.9  # anisotropy: unrelated sentences look alike before centring
    assert abs(values["cos_centred_random"][0]) < 0.1


def test_random_pairs_score_zero_after_centring_on_isotropic_noise():
    rng = np.random.default_rng(11)
    n, d = 2000, 32  # a mean of n cosines of independent directions: standard error 1 / sqrt(n d) = 0.004
    offset = rng.normal(size=d) * 5
    x = offset + rng.normal(size=(n, d))
    y = offset * 0.5 + x + rng.normal(size=(n, d))
    masks = half_samples(n, 50, seed=0)
    base = Side(x, masks)
    values = pair_measures(base, base.permuted(matched_derangement(np.zeros(n), 3)), Side(y, masks))
    assert values["cos_random"][0] > 0.8
    for name in ("cos_centred_random", "cka_shuffled"):
        low, high = interval(values[name])
        assert abs(values[name][0]) < 0.015 and low < 0 < high, name
    assert values["cos_centred"][0] > 0.5 and values["cka"][0] > 0.3
    assert values["cos_gap"][0] == pytest.approx(values["cos"][0] - values["cos_random"][0])


def test_retrieval_hits_by_hand():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([[1.0, 0.1], [1.0, 0.9], [0.1, 1.0]])  # y1 is nearest to x2, y2 to x1
    forward, backward = nearest_hits(*(m / np.linalg.norm(m, axis=1, keepdims=True) for m in (x, y)))
    np.testing.assert_array_equal(forward, [1.0, 0.0, 0.0])  # x0 -> y0; x1 -> y2; x2 -> y1
    np.testing.assert_array_equal(backward, [1.0, 0.0, 0.0])  # y0 -> x0; y1 -> x2; y2 -> x1


def test_matched_derangement_has_no_fixed_point_and_keeps_lengths():
    lengths = np.random.default_rng(0).integers(5, 12, size=500)
    matched = matched_derangement(lengths, seed=4)
    assert sorted(matched) == list(range(500)) and not np.any(matched == np.arange(500))
    differ = lengths[matched] != lengths
    assert differ.sum() <= len(set(lengths))  # only where one length's sentences end and the next begin
    np.testing.assert_array_equal(matched, matched_derangement(lengths, seed=4))


def test_half_samples_are_halves_without_repeats_and_reproducible():
    masks = half_samples(101, 20, seed=9)
    assert masks.shape == (21, 101) and masks[0].sum() == 101
    assert set(masks[1:].sum(axis=1)) == {50.0} and set(np.unique(masks)) == {0.0, 1.0}
    np.testing.assert_array_equal(masks, half_samples(101, 20, seed=9))


@pytest.mark.slow
def test_half_sample_intervals_cover_the_true_mean_cosine_at_the_nominal_rate():
    """95% intervals for a mean over sentences: the half-samples' spread matches the estimator's."""
    rng = np.random.default_rng(2)
    n, d, runs = 200, 4, 200
    truth, covered = None, 0
    direction = np.ones(d) / 2
    for _ in range(runs):
        x = rng.normal(size=(n, d))
        y = x + 1.5 * rng.normal(size=(n, d)) + direction
        masks = half_samples(n, 200, seed=int(rng.integers(1 << 30)))
        draws = pair_measures(
            Side(x, masks), Side(x, masks).permuted(matched_derangement(np.zeros(n), 0)), Side(y, masks)
        )["cos"]
        if truth is None:  # the population mean cosine, from one very large sample
            big = rng.normal(size=(200_000, d))
            other = big + 1.5 * rng.normal(size=big.shape) + direction
            truth = np.mean(np.sum(big * other, 1) / np.linalg.norm(big, axis=1) / np.linalg.norm(other, axis=1))
        low, high = interval(draws)
        covered += low <= truth <= high
    assert 0.90 <= covered / runs <= 0.985  # 200 runs: the rate is known to about +-0.015


@pytest.mark.slow
def test_cka_interval_of_unrelated_pairs_excludes_zero_at_most_about_as_often_as_the_nominal_rate():
    """The false-positive rate of "CKA differs from 0" on independent noise, by simulation."""
    rng = np.random.default_rng(4)
    n, d, runs = 120, 16, 200
    false_positive = 0
    for _ in range(runs):
        masks = half_samples(n, 200, seed=int(rng.integers(1 << 30)))
        low, high = interval(cka(Side(rng.normal(size=(n, d)), masks), Side(rng.normal(size=(n, d)), masks)))
        false_positive += not low <= 0.0 <= high
    assert false_positive / runs <= 0.08


def test_measures_module_never_imports_torch():
    code = "import sys, xlt.analysis.measures, xlt.analysis.sources; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
