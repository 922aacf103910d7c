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

`UNANSWERED[name]` says what the official evaluator does with a gold example a submission does not
answer, and so what `xlt score` does (docs/scoring.md is its table, `xlt.scoring.unanswered_table`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple

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


class Unanswered(NamedTuple):
    """The official rule for a gold example a submission leaves unanswered.

    rule "zero": the submission is keyed by id; an unanswered id scores 0 and stays in the denominator
    (`xlt score` warns, one line a file). "refuse": the submission is line-aligned and the official
    evaluator stops (or would misalign every later line); `xlt score` refuses the file in one line.
    "set": the submission is a set compared as a whole; nothing is unanswered, what is not predicted
    only lowers recall.
    """

    rule: Literal["zero", "refuse", "set"]
    official: str  # what the official code does, and where


_LINES = "evaluate.py asserts as many {} as the gold file has (AssertionError, no score)"
UNANSWERED: dict[str, Unanswered] = {
    "accuracy": Unanswered("refuse", _LINES.format("lines") + "; line i answers gold line i"),
    "tagging": Unanswered(
        "refuse", _LINES.format("sentences") + "; a sentence short of tags passes and shifts every later entity"
    ),
    "squad": Unanswered(
        "zero", 'third_party/evaluate_squad.py: "Unanswered question <id> will receive score 0.", still counted'
    ),
    "mlqa": Unanswered("zero", "third_party/evaluate_mlqa.py: the same rule as the SQuAD script"),
    "bucc": Unanswered("set", "bucc_f1 compares the predicted pair set with the gold one"),
    "mewslix": Unanswered(
        "zero", "third_party/utils_mewslix.py: `predictions.get(id, [])` ranks nothing, reciprocal rank 0, counted"
    ),
    "lareqa": Unanswered(
        "refuse", "evaluate.py scores no LAReQA file (its language list is empty); xlt's file has one ranking a line"
    ),
}

__all__ = ["SCORERS", "UNANSWERED", "UNITS", "Scorer", "Unanswered", "Units"]
