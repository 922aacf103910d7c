"""Sentence spans of an English paragraph, for turning SQuAD into answer-sentence retrieval.

A sentence ends at ".", "?" or "!" (with any closing quotes or brackets) when whitespace and then a
capital letter or digit (after an optional opening quote or bracket) follow. XTREME-R splits SQuAD
with a longer list of SQuAD- and Wikipedia-specific rules (abbreviations, initials); this rule is the
core of it, so a few sentences after "Dr." or "U.S." are split where XTREME-R would not.
"""

from __future__ import annotations

import re

_BREAK = re.compile(r"""[.?!][)"'\u201d\]]*(\s+)(?=["'(\[\u201c]?[A-Z0-9])""")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences, whitespace between them left out."""
    spans, start = [], 0
    for match in _BREAK.finditer(text):
        spans.append((start, match.start(1)))
        start = match.end(1)
    if start < len(text.rstrip()):
        spans.append((start, len(text.rstrip())))
    return spans
