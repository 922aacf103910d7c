"""Ranking scores: Mewsli-X "mAP@20" (really MRR@20), LAReQA mAP@20, and Tatoeba's gold order.

Hand-written to match XTREME's third_party/utils_mewslix.py and utils_lareqa.py exactly; they are
a few lines each and ship in no installable package.
"""

from __future__ import annotations

from collections.abc import Sequence

from xlt.errors import XltError
from xlt.metrics.common import check_same_length, percent

TOP_K = 20


def _ids(value: Sequence[str] | str | None) -> list[str]:
    """An id list as given, as one tab-separated submission line, or None (nothing ranked)."""
    if value is None:
        return []
    return value.split("\t") if isinstance(value, str) else list(value)


def reciprocal_rank(ranked: Sequence[str], gold: str, k: int = TOP_K) -> float:
    for rank, candidate in enumerate(ranked[:k], start=1):
        if candidate == gold:
            return 1.0 / rank
    return 0.0


def mewslix_units(predictions, golds, lang: str | None = None):
    """Per mention (1/rank of the gold entity in the top 20, 1); a missing ranking (None) scores 0.

    Predictions: ranked entity-id lists; golds: gold-id lists, of which only the first counts
    (Mewsli-X has one gold entity per mention and stores it as a singleton list).
    """
    check_same_length(predictions, golds, "mentions")
    gold_ids = [_ids(gold) for gold in golds]
    for index, gold in enumerate(gold_ids):
        if not gold:
            raise XltError(f"mention {index + 1} has no gold entity id; each Mewsli-X mention needs one")
    ranks = [reciprocal_rank(_ids(ranked), gold[0].strip()) for ranked, gold in zip(predictions, gold_ids)]
    return ranks, [1.0] * len(ranks)


def mewslix(predictions, golds, lang: str | None = None) -> dict[str, float]:
    return {"map@20": percent(*mewslix_units(predictions, golds, lang))}


def average_precision_at_k(ranked: Sequence[str], relevant: Sequence[str], k: int = TOP_K) -> float:
    """AP@k: sum over first hits at rank i <= k of hits_so_far / i, over min(|relevant|, k)."""
    targets, top = set(relevant), list(ranked[:k])
    hits, score = 0, 0.0
    for i, candidate in enumerate(top):
        if candidate in targets and candidate not in top[:i]:
            hits += 1
            score += hits / (i + 1)
    return score / min(len(targets), k)


def lareqa_units(predictions, golds, lang: str | None = None):
    """Per question (AP@20, 1). Predictions: candidate ids ranked over the whole multilingual pool;
    golds: the ids of the candidates sharing the question's xling_id. The official mean pools the
    questions of all languages: the task's `averaging` is "examples", which `xlt score` follows."""
    check_same_length(predictions, golds, "questions")
    relevant_sets = [[id_ for id_ in _ids(gold) if id_] for gold in golds]
    for index, relevant in enumerate(relevant_sets):
        if not relevant:
            raise XltError(f"question {index + 1} has no relevant candidate; each LAReQA question needs its answers")
    scores = [average_precision_at_k(_ids(ranked), relevant) for ranked, relevant in zip(predictions, relevant_sets)]
    return scores, [1.0] * len(scores)


def lareqa(predictions, golds, lang: str | None = None) -> dict[str, float]:
    return {"map@20": percent(*lareqa_units(predictions, golds, lang))}


def sorted_english_order(english: Sequence[str]) -> list[int]:
    """XTREME's Tatoeba submission order: the English sentences sorted (Python string order, stable
    for duplicates). Line i of a submission answers sorted English sentence i with the index of the
    nearest non-English sentence, and its gold is `sorted_english_order(english)[i]`, the original
    index. Accuracy is the same in any line order; only this order lines up with XTREME's files."""
    return sorted(range(len(english)), key=english.__getitem__)
