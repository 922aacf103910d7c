"""Extractive-QA scores: the SQuAD v1.1 script (XQuAD, TyDiQA-GoldP) and MLQA's per-language one.

Hand-written because XTREME's third_party/evaluate_{squad,mlqa}.py ship in no installable package
and the numbers must match them quirk for quirk (English-only normalisation for XQuAD's Chinese
and Thai; MLQA's Arabic article rule and Chinese character segmentation).
"""

from __future__ import annotations

import functools
import re
import string
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence

from xlt.errors import XltError
from xlt.metrics.common import check_same_length, percent

Normalizer = Callable[[str], str]

_ASCII_PUNCTUATION = frozenset(string.punctuation)
_CJK = re.compile("[\u4e00-\u9fa5]")
_SQUAD_ARTICLES = re.compile(r"\b(a|an|the)\b")
# MLQA's Arabic rule is re.sub('\\sال^|ال', ' ', text): the first branch can never match (a "^"
# after characters), so every "ال" anywhere in a word becomes a space: "والطالب" -> "و ط ب".
_MLQA_ARTICLES = {
    "en": _SQUAD_ARTICLES,
    "es": re.compile(r"\b(un|una|unos|unas|el|la|los|las)\b"),
    "de": re.compile(r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b"),
    "vi": re.compile(r"\b(của|là|cái|chiếc|những)\b"),
    "ar": re.compile("ال"),
    "hi": None,
    "zh": None,
}
MLQA_LANGUAGES = tuple(sorted(_MLQA_ARTICLES))


@functools.cache
def _unicode_punctuation() -> frozenset[str]:
    """Every character of a Unicode P* category plus ASCII punctuation (MLQA's PUNCT)."""
    chars = (chr(i) for i in range(sys.maxunicode))
    return frozenset(c for c in chars if unicodedata.category(c).startswith("P")) | _ASCII_PUNCTUATION


def squad_normalize(text: str) -> str:
    text = "".join(c for c in text.lower() if c not in _ASCII_PUNCTUATION)
    return " ".join(_SQUAD_ARTICLES.sub(" ", text).split())


def _mixed_segmentation(text: str, punctuation: frozenset[str]) -> list[str]:
    """MLQA's Chinese tokens: each CJK (U+4E00-U+9FA5) or punctuation char alone, the rest split on
    whitespace."""
    tokens: list[str] = []
    pending = ""
    for char in text:
        if _CJK.search(char) or char in punctuation:
            tokens += pending.split() + [char]
            pending = ""
        else:
            pending += char
    return tokens + pending.split()


def mlqa_normalizer(lang: str) -> Normalizer:
    if lang not in _MLQA_ARTICLES:
        raise XltError(f"MLQA has no normalisation rules for language {lang!r}; use one of {', '.join(MLQA_LANGUAGES)}")
    articles = _MLQA_ARTICLES[lang]

    def normalize(text: str) -> str:
        punctuation = _unicode_punctuation()
        text = "".join(c for c in text.lower() if c not in punctuation)
        if articles is not None:
            text = articles.sub(" ", text)
        tokens = _mixed_segmentation(text, punctuation) if lang == "zh" else text.split()
        return " ".join(t for t in tokens if t.strip())

    return normalize


def token_f1(prediction: str, gold: str, normalize: Normalizer) -> float:
    predicted, expected = normalize(prediction).split(), normalize(gold).split()
    same = sum((Counter(predicted) & Counter(expected)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(expected)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, gold: str, normalize: Normalizer) -> float:
    return float(normalize(prediction) == normalize(gold))


def _best_over_golds(metric, prediction: str | None, answers: Sequence[str], normalize: Normalizer) -> float:
    """Max over the gold answers; an unanswered question (None) scores 0, as in the official script."""
    if prediction is None:
        return 0.0
    if not isinstance(prediction, str):
        raise XltError(f"QA prediction {prediction!r} is not a string; predict the answer text")
    return max(metric(prediction, answer, normalize) for answer in answers)


def _per_question(metric, predictions, golds, normalize: Normalizer) -> list[float]:
    check_same_length(predictions, golds, "questions")
    for index, answers in enumerate(golds):
        if not answers:
            raise XltError(f"question {index + 1} has no gold answer; every scored question needs at least one")
    return [_best_over_golds(metric, p, answers, normalize) for p, answers in zip(predictions, golds)]


def _units(predictions, golds, normalize: Normalizer):
    f1s = _per_question(token_f1, predictions, golds, normalize)
    return f1s, [1.0] * len(f1s)


def _scores(predictions, golds, normalize: Normalizer) -> dict[str, float]:
    matches = _per_question(exact_match, predictions, golds, normalize)
    f1 = percent(*_units(predictions, golds, normalize))
    return {"f1": f1, "exact_match": percent(matches, [1.0] * len(matches))}


def squad_units(predictions, golds, lang: str | None = None):
    """Per question (F1, 1). Predictions: answer strings, None where unanswered; golds: answer lists."""
    return _units(predictions, golds, squad_normalize)


def squad(predictions, golds, lang: str | None = None) -> dict[str, float]:
    return _scores(predictions, golds, squad_normalize)


def mlqa_units(predictions, golds, lang: str):
    return _units(predictions, golds, mlqa_normalizer(lang))


def mlqa(predictions, golds, lang: str) -> dict[str, float]:
    return _scores(predictions, golds, mlqa_normalizer(lang))
