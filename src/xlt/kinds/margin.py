"""Margin-based bitext mining and the F1-optimal score threshold (BUCC 2018), in numpy.

Follows XTREME's third_party/utils_retrieve.py (after LASER): deduplicate sentences, L2-normalise,
k=4 nearest neighbours both ways, ratio margin cos(x, y) / ((mean_knn(x) + mean_knn(y)) / 2), the
"max" strategy (forward and backward best pairs accepted greedily one-to-one by score). Exhaustive,
blocked inner products, so no faiss is needed; a caller with an accelerator passes its own `knn` (the
mining kind searches with torch). XTREME's test gold is withheld, so pick the threshold with
`bucc_threshold` on dev candidates and apply it to test with `bucc_extract`.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Iterable, NamedTuple, Sequence

import numpy as np

from xlt.metrics.bucc import Pair, pair_set

# (queries, database, k) -> ([n, k] similarities as float64, [n, k] database rows), best first
Knn = Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]
_BLOCK_ENTRIES = 2**25  # similarities held at once by the exhaustive k-NN search (~128 MB of float32)


class BitextSide(NamedTuple):
    ids: Sequence[str]  # e.g. "de-000413461"
    sentences: Sequence[str]
    embeddings: np.ndarray  # one row per sentence


def _unique_normalized(side: BitextSide) -> tuple[list[str], np.ndarray]:
    first_row: dict[str, int] = {}
    for row, sentence in enumerate(side.sentences):
        first_row.setdefault(sentence, row)
    vectors = np.asarray(side.embeddings, dtype=np.float64)[list(first_row.values())]
    # float32 like faiss: similarities as the official search returns them, at half the memory
    return list(first_row), (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def exhaustive_knn(queries: np.ndarray, database: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k inner products per query row, best first (float64 for the margin arithmetic)."""
    sims, inds = [], []
    block = max(1, _BLOCK_ENTRIES // len(database))
    for start in range(0, len(queries), block):
        scores = queries[start : start + block] @ database.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        inds.append(top)
        sims.append(np.take_along_axis(scores, top, axis=1).astype(np.float64))
    return np.concatenate(sims), np.concatenate(inds)


def _best_by_margin(x: np.ndarray, y: np.ndarray, neighbours: int, knn: Knn):
    """For each row of x and of y: its best partner on the other side and the ratio-margin score."""
    fwd_sim, fwd_ind = knn(x, y, min(len(y), neighbours))
    bwd_sim, bwd_ind = knn(y, x, min(len(x), neighbours))
    fwd_mean, bwd_mean = fwd_sim.mean(axis=1), bwd_sim.mean(axis=1)
    fwd_scores = fwd_sim / ((fwd_mean[:, None] + bwd_mean[fwd_ind]) / 2)
    bwd_scores = bwd_sim / ((bwd_mean[:, None] + fwd_mean[bwd_ind]) / 2)
    fwd_best = fwd_ind[np.arange(len(x)), fwd_scores.argmax(axis=1)]
    bwd_best = bwd_ind[np.arange(len(y)), bwd_scores.argmax(axis=1)]
    return fwd_best, fwd_scores.max(axis=1), bwd_best, bwd_scores.max(axis=1)


def _mine_max(x: np.ndarray, y: np.ndarray, neighbours: int, knn: Knn) -> list[tuple[int, int, float]]:
    """The "max" strategy: pool both directions' best pairs, accept by score, one-to-one, score > 0."""
    fwd_best, fwd_score, bwd_best, bwd_score = _best_by_margin(x, y, neighbours, knn)
    src = np.concatenate([np.arange(len(x)), bwd_best])
    trg = np.concatenate([fwd_best, np.arange(len(y))])
    scores = np.concatenate([fwd_score, bwd_score])
    seen_src, seen_trg, mined = set(), set(), []
    for i in np.argsort(-scores, kind="stable"):
        if src[i] in seen_src or trg[i] in seen_trg:
            continue
        seen_src.add(src[i])
        seen_trg.add(trg[i])
        if scores[i] > 0:
            mined.append((int(src[i]), int(trg[i]), float(scores[i])))
    return mined


def _unambiguous_ids(side: BitextSide) -> dict[str, str]:
    """Sentence -> id, leaving out sentences that occur more than once (their id is ambiguous)."""
    counts = Counter(side.sentences)
    return {sentence: id_ for id_, sentence in zip(side.ids, side.sentences) if counts[sentence] == 1}


def bucc_candidates(
    src: BitextSide, trg: BitextSide, neighbours: int = 4, knn: Knn = exhaustive_knn
) -> dict[Pair, float]:
    """Mined (src_id, trg_id) -> margin score, as XTREME's candidate files hold them."""
    src_texts, x = _unique_normalized(src)
    trg_texts, y = _unique_normalized(trg)
    src_ids, trg_ids = _unambiguous_ids(src), _unambiguous_ids(trg)
    candidates: dict[Pair, float] = {}
    for i, j, score in _mine_max(x, y, neighbours, knn):
        if src_texts[i] in src_ids and trg_texts[j] in trg_ids:
            pair = (src_ids[src_texts[i]], trg_ids[trg_texts[j]])
            candidates[pair] = max(score, candidates.get(pair, score))
    return candidates


def bucc_threshold(candidates: dict[Pair, float], gold: Iterable) -> float:
    """The score threshold that maximises F1 against `gold` (dev pairs): the midpoint between the
    last candidate kept and the next one, walking candidates from the best score down.

    XTREME's loop indexes past the end when the best F1 keeps every candidate; here the threshold
    is then the lowest score itself (`bucc_extract` keeps scores >= threshold, so all are kept).
    """
    gold_pairs = pair_set(gold)
    items = sorted(candidates.items(), key=lambda item: -item[1])
    correct, best_f1, threshold = 0, 0.0, 0.0
    for kept, (pair, score) in enumerate(items, start=1):
        correct += pair in gold_pairs
        if not correct:
            continue
        precision, recall = correct / kept, correct / len(gold_pairs)
        f1 = 2 * precision * recall / (precision + recall)
        if f1 > best_f1:
            best_f1 = f1
            threshold = (score + items[kept][1]) / 2 if kept < len(items) else score
    return threshold


def bucc_extract(candidates: dict[Pair, float], threshold: float) -> list[Pair]:
    return [pair for pair, score in candidates.items() if score >= threshold]
