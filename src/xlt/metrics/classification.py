"""Accuracy, as XTREME's evaluate.py computes it for XNLI, PAWS-X, XCOPA and Tatoeba."""

from __future__ import annotations

from collections.abc import Sequence

from xlt.metrics.common import check_same_length, percent


def accuracy_units(predictions: Sequence, golds: Sequence, lang: str | None = None):
    """Per example (correct, 1). Labels compare as strings, as the official files are read:
    an int prediction 1 matches a gold label "1"."""
    check_same_length(predictions, golds, "labels")
    correct = [float(str(p) == str(g)) for p, g in zip(predictions, golds)]
    return correct, [1.0] * len(correct)


def accuracy(predictions: Sequence, golds: Sequence, lang: str | None = None) -> dict[str, float]:
    return {"accuracy": percent(*accuracy_units(predictions, golds, lang))}
