"""Sequence-labelling scores (UD-POS, PAN-X) under both seqeval readings XTREME results use.

XTREME's published numbers and its mock golden scores come from seqeval 0.0.12; the project pins
seqeval 1.2.2 and the two cannot be installed side by side. They differ only in how a tag splits
into (prefix, type): 0.0.12 keeps what follows the last "-" (a bare "NOUN" keeps type "NOUN"), 1.2.2
drops the first character ("NOUN" -> "OUN", so "CCONJ" and "SCONJ" share type "CONJ"). The chunk
boundary rules are identical, so the 0.0.12 reading below reuses seqeval's own `start_of_chunk` /
`end_of_chunk` and hand-writes only the entity-extraction loop. IOB2 tags (PAN-X) score the same
under both readings.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from xlt.errors import XltError
from xlt.metrics.common import check_same_length, percent

Entity = tuple[str, int, int]


def entities_0012(sentences: Sequence[Sequence[str]]) -> list[set[Entity]]:
    """seqeval 0.0.12 `get_entities` over the corpus, grouped by the sentence each entity starts in.

    Like 0.0.12, the sentences are flattened with an "O" after each one and offsets are global, so
    the union of the groups is exactly the entity set 0.0.12 scores.
    """
    # seqeval imports scikit-learn (seconds): load it only when tagging is scored.
    from seqeval.metrics.sequence_labeling import end_of_chunk, start_of_chunk

    flat: list[str] = []
    owner: list[int] = []
    for index, sentence in enumerate(sentences):
        flat += [*sentence, "O"]
        owner += [index] * (len(sentence) + 1)
    grouped: list[set[Entity]] = [set() for _ in sentences]
    prev_tag, prev_type, begin = "O", "", 0
    for i, chunk in enumerate([*flat, "O"]):
        tag, type_ = chunk[0], chunk.split("-")[-1]
        if end_of_chunk(prev_tag, tag, prev_type, type_):
            grouped[owner[begin]].add((prev_type, begin, i - 1))
        if start_of_chunk(prev_tag, tag, prev_type, type_):
            begin = i
        prev_tag, prev_type = tag, type_
    return grouped


def _check_shapes(predictions: Sequence[Sequence[str]], golds: Sequence[Sequence[str]]) -> None:
    check_same_length(predictions, golds, "sentences")
    for index, (predicted, gold) in enumerate(zip(predictions, golds)):
        if len(predicted) != len(gold):
            raise XltError(
                f"sentence {index + 1} has {len(predicted)} predicted tags but {len(gold)} gold tags; "
                "predict one tag for every gold word"
            )


def _chunk_counts(predictions, golds) -> list[tuple[int, int, int]]:
    """Per sentence: (correct chunks, predicted chunks, gold chunks) in the 0.0.12 reading."""
    _check_shapes(predictions, golds)
    pairs = zip(entities_0012(predictions), entities_0012(golds))
    return [(len(p & g), len(p), len(g)) for p, g in pairs]


def _f1_units(counts):
    return [2.0 * tp for tp, _, _ in counts], [float(n_pred + n_gold) for _, n_pred, n_gold in counts]


def tagging_units(predictions, golds, lang: str | None = None):
    """Per sentence (2 * correct, predicted + gold chunks): their ratio is the 0.0.12 micro F1."""
    return _f1_units(_chunk_counts(predictions, golds))


def _seqeval_1_2(predictions, golds) -> dict[str, float]:
    """seqeval 1.2.2 default (conlleval-compatible) mode, as installed: the micro scores that its `f1_score`,
    `precision_score` and `recall_score` return, from the one call each of them makes (once, not three times:
    it extracts every entity and warns once per UD-POS tag)."""
    from seqeval.metrics.sequence_labeling import precision_recall_fscore_support

    y_true, y_pred = [list(s) for s in golds], [list(s) for s in predictions]
    with warnings.catch_warnings():  # "NOUN seems not to be NE tag" and zero-division warnings
        warnings.simplefilter("ignore")
        precision, recall, f1, _ = precision_recall_fscore_support(y_true, y_pred, average="micro")
    return {
        "f1_seqeval_1_2": 100 * float(f1),
        "precision_seqeval_1_2": 100 * float(precision),
        "recall_seqeval_1_2": 100 * float(recall),
    }


def token_accuracy_units(predictions, golds, lang: str | None = None):
    """Per sentence (correct tags, words): their ratio is token accuracy."""
    _check_shapes(predictions, golds)
    correct = [float(sum(p == g for p, g in zip(predicted, gold))) for predicted, gold in zip(predictions, golds)]
    return correct, [float(len(gold)) for gold in golds]


def token_accuracy(predictions, golds) -> float:
    return percent(*token_accuracy_units(predictions, golds))


def tagging(predictions, golds, lang: str | None = None) -> dict[str, float]:
    counts = _chunk_counts(predictions, golds)
    correct = sum(tp for tp, _, _ in counts)
    return {
        "f1": percent(*_f1_units(counts)),
        "precision": percent([correct], [sum(n for _, n, _ in counts)]),
        "recall": percent([correct], [sum(n for _, _, n in counts)]),
        **_seqeval_1_2(predictions, golds),
        "accuracy": token_accuracy(predictions, golds),
    }
