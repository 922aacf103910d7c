"""Helpers every metric family shares: one ratio formula and one length check."""

from __future__ import annotations

from collections.abc import Sequence

from xlt.errors import XltError


def percent(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """100 * sum(num) / sum(den), 0 when nothing was counted.

    Every decomposable scorer computes its primary metric through this one formula, so the
    per-example units in `xlt.metrics.UNITS` reproduce it bit for bit.
    """
    total = sum(denominators)
    return 100 * sum(numerators) / total if total else 0.0


def check_same_length(predictions: Sequence, golds: Sequence, what: str) -> None:
    if len(predictions) != len(golds):
        raise XltError(
            f"{len(predictions)} predictions but {len(golds)} gold {what}; "
            "score a prediction for every gold example, in the same order"
        )
