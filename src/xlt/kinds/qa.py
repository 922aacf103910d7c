"""Extractive QA (XQuAD, MLQA, TyDiQA-GoldP): question + context windows, n-best span decoding.

Follows transformers' `utils_qa` (as P-tuning v2 and MPT do): fast-tokenizer offsets locate the answer
and slice the predicted text straight out of the context, which also works for Chinese and Thai where
XTREME's `get_final_text` does not (xtreme#38). Windowing and decoding are task settings (`QASettings`),
defaulting to XTREME's.

Examples: {"id", "context", "question", "answers": [{"text": str, "answer_start": int}, ...]}. A prediction
is the answer string; submissions are JSON objects {question id: answer}.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import torch
from pydantic import Field
from torch import nn
from torch.nn import functional as F

from xlt.errors import XltError
from xlt.kinds.base import HeadOptions, Kind, KindSettings, register
from xlt.kinds.common import TOKEN_TYPES, collate, feature_rows, last_hidden
from xlt.methods.base import Encoder

log = logging.getLogger(__name__)


class QASettings(KindSettings):
    """XTREME's windows and n-best decoding (its run_squad.py defaults)."""

    doc_stride: int | None = Field(None, gt=0)  # tokens two windows share; None: max_length // 3 (128 at 384)
    max_query_length: int = Field(64, gt=0)
    n_best: int = Field(20, gt=0)
    max_answer_length: int = Field(30, gt=0)


class SpanHead(nn.Module):
    def __init__(self, encoder: Encoder, options: HeadOptions):
        super().__init__()
        self.dropout = nn.Dropout(options.dropout)
        self.span = nn.Linear(encoder.hidden_size, 2)

    def forward(self, encoder: Encoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """[batch, tokens, 2]: start and end logits."""
        hidden = last_hidden(encoder, batch)
        return self.span(self.dropout(hidden))


def short_questions(questions: list[str], tokenizer, limit: int) -> tuple[list[str], int]:
    """Questions cut to `limit` tokens (XTREME's max_query_length) at a token boundary of the text,
    and the longest one's length in tokens."""
    offsets = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    cut = [q[: spans[limit - 1][1]] if len(spans) > limit else q for q, spans in zip(questions, offsets)]
    long = sum(len(spans) > limit for spans in offsets)
    if long:
        log.warning("%d of %d questions were cut to max_query_length=%d tokens", long, len(questions), limit)
    return cut, min(limit, max((len(spans) for spans in offsets), default=0))


def answer_positions(offsets: list, answer: dict) -> tuple[int, int]:
    """Token span of the answer in one window, or (0, 0) (the template's first token) when the window does not
    hold all of it."""
    start_char = answer["answer_start"]
    end_char = start_char + len(answer["text"])
    context = [i for i, span in enumerate(offsets) if span is not None]
    if not context or offsets[context[0]][0] > start_char or offsets[context[-1]][1] < end_char:
        return 0, 0
    start = max(i for i in context if offsets[i][0] <= start_char)
    end = min(i for i in context if offsets[i][1] >= end_char)
    return start, end


def best_span(start_logits, end_logits, offsets, n_best: int, max_answer_length: int):
    """(score, start char, end char) of the best valid span among the n-best starts and ends, or None."""
    starts = torch.argsort(start_logits, descending=True)[:n_best].tolist()
    ends = torch.argsort(end_logits, descending=True)[:n_best].tolist()
    best = None
    for s in starts:
        for e in ends:
            if offsets[s] is None or offsets[e] is None or e < s or e - s + 1 > max_answer_length:
                continue
            score = float(start_logits[s] + end_logits[e])
            if best is None or score > best[0]:
                best = (score, offsets[s][0], offsets[e][1])
    return best


class QuestionAnswering(Kind):
    name: ClassVar[str] = "qa"
    metrics: ClassVar[tuple[str, ...]] = ("f1", "exact_match")
    scorer: ClassVar[str] = "squad"
    submission: ClassVar[str] = "json"
    Settings: ClassVar[type[KindSettings]] = QASettings
    majority_counts_labels: ClassVar[bool] = False
    pairs: ClassVar[bool] = True

    def featurize(self, examples, tokenizer, spec, max_length):
        settings = spec.settings
        stride = settings.doc_stride or max_length // 3
        questions, longest = short_questions(
            [e["question"].lstrip() for e in examples], tokenizer, settings.max_query_length
        )
        if stride >= max_length - tokenizer.num_special_tokens_to_add(pair=True) - longest:
            raise XltError(
                f"{spec.name}: doc_stride {stride} leaves no new context per window at max_length {max_length} "
                f"with questions of {longest} tokens; lower doc_stride or max_query_length, or raise max_length"
            )
        encoded = tokenizer(
            questions,
            [e["context"] for e in examples],
            truncation="only_second",
            max_length=max_length,
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            return_token_type_ids=True,
        )
        return [self._window(encoded, i, examples) for i in range(len(encoded["input_ids"]))]

    @staticmethod
    def _window(encoded, i: int, examples: list[dict]) -> dict:
        index = encoded["overflow_to_sample_mapping"][i]
        ids = encoded["input_ids"][i]
        spans = zip(encoded["offset_mapping"][i], encoded.sequence_ids(i))
        offsets = [tuple(span) if segment == 1 else None for span, segment in spans]  # context tokens only
        feature = {
            "example_index": index,
            "input_ids": ids,
            "attention_mask": [1] * len(ids),
            TOKEN_TYPES: encoded[TOKEN_TYPES][i],
            "offsets": offsets,
        }
        answers = examples[index].get("answers")
        if answers is not None:  # an unanswerable question points at the first token, as an answer outside the window
            positions = answer_positions(offsets, answers[0]) if answers else (0, 0)
            feature["start_positions"], feature["end_positions"] = positions
        return feature

    def collate(self, features):
        pad_values = {"input_ids": 0, "attention_mask": 0, TOKEN_TYPES: 0, "start_positions": 0, "end_positions": 0}
        return collate(features, pad_values)

    def build_head(self, encoder, spec, options):
        return SpanHead(encoder, options)

    def loss(self, outputs, batch):
        logits = outputs.masked_fill((batch["attention_mask"] == 0).unsqueeze(-1), -1e4)
        start = F.cross_entropy(logits[..., 0], batch["start_positions"])
        end = F.cross_entropy(logits[..., 1], batch["end_positions"])
        return (start + end) / 2

    def decode(self, outputs, features, examples, spec):
        n_best, max_answer_length = spec.settings.n_best, spec.settings.max_answer_length
        spans: list[list] = [[] for _ in examples]
        for feature, logits in feature_rows(outputs, features):
            offsets = feature["offsets"]
            start, end = logits[: len(offsets)].unbind(-1)
            spans[feature["example_index"]].append(best_span(start, end, offsets, n_best, max_answer_length))
        predictions = []
        for example, candidates in zip(examples, spans):
            best = max((span for span in candidates if span is not None), default=None)
            # strip: sentencepiece offsets of a word-initial piece include the space before it
            predictions.append("" if best is None else example["context"][best[1] : best[2]].strip())
        return predictions

    def gold(self, example, spec):
        return [answer["text"] for answer in example["answers"]]

    def majority(self, train_examples, examples, spec):
        """Chance is not defined for span extraction: the reference answers nothing."""
        return [""] * len(examples)


register(QuestionAnswering())
