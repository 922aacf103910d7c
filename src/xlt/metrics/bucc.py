"""BUCC 2018's score: F1 of the mined pair set against the gold pairs (XTREME's bucc_f1).

The mining itself (margin search, threshold) is decoding and lives with the mining kind
(`xlt.kinds.margin`).
"""

from __future__ import annotations

from collections.abc import Iterable

Pair = tuple[str, ...]


def pair_set(pairs: Iterable) -> set[Pair]:
    """Pairs given as "src<TAB>trg" lines (the submission format) or as (src, trg) tuples."""
    return {tuple(p.split("\t")) if isinstance(p, str) else tuple(p) for p in pairs}


def bucc_f1(predictions: Iterable, golds: Iterable, lang: str | None = None) -> dict[str, float]:
    """Set-level: predictions and golds are the whole language's pair lists (order is irrelevant)."""
    predicted, gold = pair_set(predictions), pair_set(golds)
    correct = len(predicted & gold)
    if not correct:
        return {"f1": 0.0, "precision": 0.0, "recall": 0.0}
    precision, recall = correct / len(predicted), correct / len(gold)
    f1 = 2 * precision * recall / (precision + recall)
    return {"f1": f1 * 100, "precision": precision * 100, "recall": recall * 100}
