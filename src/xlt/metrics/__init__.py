"""The official XTREME / XTREME-R scoring rules, in pure Python and numpy (no torch).

`SCORERS[name](predictions, golds, lang)` returns metric -> value x 100, the primary metric first.
`UNITS[name][metric](predictions, golds, lang)` returns per-example (numerators, denominators)
with 100 * sum(num) / sum(den) == that metric exactly (for bootstrap resampling); every scorer's
primary metric has units except set-level ones (BUCC). Input shapes per scorer:

- accuracy: labels (str or int; compared as strings)
- tagging:  tag lists per sentence
- squad, mlqa: answer strings (None = unanswered, scores 0) / lists of gold answer strings
- bucc:     whole-language pair lists, "src<TAB>trg" strings or (src, trg) tuples
- mewslix:  ranked entity-id lists / singleton gold-id lists
- lareqa:   ranked candidate-id lists over the pooled candidates / relevant-id lists
"""

from __future__ import annotations

from collections.abc import Callable

from xlt.metrics import bucc, classification, qa, retrieval, tagging

Scorer = Callable[[list, list, str], dict[str, float]]
Units = Callable[[list, list, str], tuple[list[float], list[float]]]

SCORERS: dict[str, Scorer] = {
    "accuracy": classification.accuracy,
    "tagging": tagging.tagging,
    "squad": qa.squad,
    "mlqa": qa.mlqa,
    "bucc": bucc.bucc_f1,
    "mewslix": retrieval.mewslix,
    "lareqa": retrieval.lareqa,
}

UNITS: dict[str, dict[str, Units]] = {
    "accuracy": {"accuracy": classification.accuracy_units},
    "tagging": {"f1": tagging.tagging_units, "accuracy": tagging.token_accuracy_units},
    "squad": {"f1": qa.squad_units},
    "mlqa": {"f1": qa.mlqa_units},
    "mewslix": {"map@20": retrieval.mewslix_units},
    "lareqa": {"map@20": retrieval.lareqa_units},
}

__all__ = ["SCORERS", "UNITS", "Scorer", "Units"]
