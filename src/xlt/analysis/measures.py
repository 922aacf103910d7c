"""Cross-lingual similarity of sentence embeddings, each measure beside the baseline that makes it readable.

Pure numpy; never imports torch. `x` holds the base language's sentence vectors and `y` their
translations (row i of `y` translates row i of `x`). Raw cosines of one encoder's sentence vectors are
close to 1 for almost any pair (anisotropy), so every measure is reported with its value on
non-translation pairs of the same length (`matched_derangement`), and cosines and retrieval also after
centring each language's vectors on its own mean (Libovický et al. 2020). CKA is linear CKA
(Kornblith et al. 2019) with the unbiased HSIC estimator (Song et al. 2012), whose value on unrelated
pairs is 0 in expectation at any n, where the plug-in estimator's grows as the width over n.

Resampling: every value is computed on the full sample and on half-samples of the sentences drawn
without replacement. A bootstrap (with replacement) cannot serve the unbiased CKA: a sentence drawn
twice pairs with itself, which that estimator counts as two different sentences that match perfectly,
so the replicates are biased upwards. A half-sample has no repeats, and for smooth statistics its
spread around the full-sample value equals the bootstrap's ((1/m - 1/n) s^2 = s^2/n at m = n/2).
The same half-samples serve every encoder and language, so differences (drift) are paired.
"""

from __future__ import annotations

import numpy as np

MEASURES = (
    "cos",  # mean cosine of translation pairs
    "cos_random",  # ... of random pairs (length-matched non-translations)
    "cos_gap",  # cos - cos_random
    "cos_centred",  # mean cosine of translation pairs after centring each language on its mean
    "cos_centred_random",
    "cos_centred_gap",
    "cka",  # linear CKA between the two languages' matrices (unbiased estimator)
    "cka_shuffled",  # ... with the base rows shuffled into random pairs
    "cka_gap",
    "p1_raw_base2lang",  # retrieval P@1 by cosine, base-language queries against the other language
    "p1_raw_lang2base",
    "p1_centred_base2lang",
    "p1_centred_lang2base",
)


def half_samples(n: int, replicates: int, seed: int) -> np.ndarray:
    """(1 + replicates, n) 0/1 float32 masks: row 0 keeps every sentence, each other row a random half."""
    if n < 8:
        raise ValueError(f"{n} sentences are too few for the measures (the unbiased CKA needs more than 3)")
    rng = np.random.default_rng(seed)
    masks = np.zeros((1 + replicates, n), dtype=np.float32)
    masks[0] = 1.0
    for row in masks[1:]:
        row[rng.choice(n, n // 2, replace=False)] = 1.0
    return masks


def matched_derangement(lengths: np.ndarray, seed: int) -> np.ndarray:
    """A permutation with no fixed point that sends each sentence to one of the same length, or the nearest:
    random pairs that are not translations but are as long as translation pairs.

    Length alone makes a random encoder's sentence vectors of one length alike in every language (a random
    init's centred cosine of length-matched random pairs is close to that of its translation pairs), so a
    baseline of random pairs of any length would credit an encoder with alignment it does not have."""
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(lengths)), np.asarray(lengths)))  # by length, ties in random order
    matched = np.empty(len(order), dtype=np.int64)
    matched[order] = np.roll(order, -1)  # each sentence -> the next in that order: one cycle, no fixed point
    return matched


def unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


class Side:
    """One language's vectors at one layer, with what every pair involving them reuses."""

    def __init__(self, x: np.ndarray, masks: np.ndarray):
        x = np.asarray(x, dtype=np.float64)
        self.vectors = x
        centred = x - x.mean(axis=0)
        self.unit = unit_rows(x).astype(np.float32)  # cosines and rankings: float32 is exact enough
        self.centred_unit = unit_rows(centred).astype(np.float32)
        # Unbiased HSIC is unchanged by translating or scaling the features; centring and scaling to unit
        # mean squared norm first keeps the float32 products below well conditioned.
        scale = np.sqrt(np.mean(np.sum(centred**2, axis=1))) or 1.0
        scaled = (centred / scale).astype(np.float32)
        self.gram = scaled @ scaled.T
        self.diag = np.diag(self.gram).astype(np.float64)
        self.masks = masks
        # (K w) per mask; through the features when they are narrower than the sample (fewer operations)
        low_rank = 2 * scaled.shape[1] < len(scaled)
        self.row_sums = ((masks @ scaled) @ scaled.T if low_rank else masks @ self.gram).astype(np.float64)
        self.self_hsic = _hsic(self, self)

    def permuted(self, order: np.ndarray) -> Side:
        """The same vectors with rows reordered."""
        return Side(self.vectors[order], self.masks)


def _hsic(a: Side, b: Side) -> np.ndarray:
    """Unbiased HSIC (Song et al. 2012, eq. 5) of the linear kernels on each mask's sentences.

    Eq. 5's sums over the subset, written with its 0/1 mask w: tr(K~L~) = w'(K*L)w - w.(diag K * diag L),
    1'K~1 = w'Kw - w.diag K, 1'K~L~1 = sum_j w_j ((Kw)_j - K_jj)((Lw)_j - L_jj); one matrix product per
    term serves every mask at once."""
    w = a.masks.astype(np.float64)
    m = w.sum(axis=1)
    trace = np.einsum("rn,rn->r", (a.masks @ (a.gram * b.gram)).astype(np.float64), w) - w @ (a.diag * b.diag)
    sum_a = np.einsum("rn,rn->r", a.row_sums, w) - w @ a.diag
    sum_b = np.einsum("rn,rn->r", b.row_sums, w) - w @ b.diag
    chain = np.einsum("rn,rn->r", w * (a.row_sums - a.diag), b.row_sums - b.diag)
    return (trace + sum_a * sum_b / ((m - 1) * (m - 2)) - 2 * chain / (m - 2)) / (m * (m - 3))


def cka(a: Side, b: Side) -> np.ndarray:
    """Linear CKA per mask (row 0: the full sample); NaN where a side has no variance."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _hsic(a, b) / np.sqrt(a.self_hsic * b.self_hsic)


def nearest_hits(x_unit: np.ndarray, y_unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sentence, 1.0 where its nearest neighbour (cosine) on the other side is its translation:
    (x queries against y, y queries against x). Ties go to the lowest index."""
    rows = np.arange(len(x_unit))
    forward = (x_unit @ y_unit.T).argmax(axis=1) == rows
    backward = (y_unit @ x_unit.T).argmax(axis=1) == rows  # a second product: faster than a column argmax
    return forward.astype(float), backward.astype(float)


def pair_measures(base: Side, shuffled: Side, other: Side) -> dict[str, np.ndarray]:
    """Every measure of `MEASURES` per mask (row 0: the full sample). `shuffled` is `base` with its rows
    in a `matched_derangement`'s order, so its pairs with `other` are random pairs of matched length."""
    masks = base.masks.astype(np.float64)

    def mean(units: np.ndarray) -> np.ndarray:
        return np.asarray(masks @ units / masks.sum(axis=1))

    def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.asarray(np.sum(a * b, axis=1, dtype=np.float64))

    cos, cos_random = cosines(base.unit, other.unit), cosines(shuffled.unit, other.unit)
    centred = cosines(base.centred_unit, other.centred_unit)
    centred_random = cosines(shuffled.centred_unit, other.centred_unit)
    translations, shuffled_pairs = cka(base, other), cka(shuffled, other)
    raw_hits = nearest_hits(base.unit, other.unit)
    centred_hits = nearest_hits(base.centred_unit, other.centred_unit)
    return {
        "cos": mean(cos),
        "cos_random": mean(cos_random),
        "cos_gap": mean(cos - cos_random),
        "cos_centred": mean(centred),
        "cos_centred_random": mean(centred_random),
        "cos_centred_gap": mean(centred - centred_random),
        "cka": translations,
        "cka_shuffled": shuffled_pairs,
        "cka_gap": translations - shuffled_pairs,
        "p1_raw_base2lang": mean(raw_hits[0]),
        "p1_raw_lang2base": mean(raw_hits[1]),
        "p1_centred_base2lang": mean(centred_hits[0]),
        "p1_centred_lang2base": mean(centred_hits[1]),
    }


def interval(draws: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the resampled rows (row 0, the full sample, left out); NaN rows ignored."""
    finite = draws[1:][np.isfinite(draws[1:])]
    if not finite.size:
        return float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)
