"""Pieces every kind shares: label ids, padding, running the encoder, pooling, per-feature outputs."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Literal, NamedTuple

import torch
from torch import nn

from xlt.errors import XltError
from xlt.methods.base import Encoder, EncoderOutput

if TYPE_CHECKING:
    from xlt.tasks.spec import TaskSpec

log = logging.getLogger(__name__)

Pooling = Literal["cls_pooler", "cls_dense", "mean"]
TOKEN_TYPES = "token_type_ids"  # a pair feature's token types; "candidate_token_type_ids" those of its candidate


def label_id(label: str, spec: TaskSpec, where: str) -> int:
    if label not in spec.labels:
        raise XltError(f"{spec.name}: label {label!r} of {where} is not in the task's labels {list(spec.labels)}")
    return spec.labels.index(label)


def most_common(values: Iterable):
    """The most frequent value; ties go to the value seen first (deterministic)."""
    counts = Counter(values)
    if not counts:
        raise XltError("the majority reference needs labelled training examples; none were given")
    return counts.most_common(1)[0][0]


def warn_truncated(count: int, total: int, spec: TaskSpec, max_length: int) -> None:
    if count:
        log.warning("%s: %d of %d inputs exceed %d tokens and were truncated", spec.name, count, total, max_length)


class Encoded(NamedTuple):
    input_ids: list[int]
    sequence_ids: list[int | None]
    token_type_ids: list[int] | None  # a pair's, as its tokenizer's template gives them; None for one sequence


def tokenize(
    tokenizer, spec: TaskSpec, max_length: int, first: list[str], second: list[str] | None = None
) -> list[Encoded]:
    """Each input encoded by the tokenizer's own template; inputs over `max_length` are cut (longest segment first)
    and counted in a warning, since a sentence-level label cannot be spread over windows as tags and answers can."""
    columns = [first] if second is None else [first, second]
    rows = _encoded(tokenizer(*columns, return_token_type_ids=second is not None))
    long = [i for i, row in enumerate(rows) if len(row.input_ids) > max_length]
    if long:
        cut = tokenizer(
            *[[column[i] for i in long] for column in columns],
            truncation=True,
            max_length=max_length,
            return_token_type_ids=second is not None,
        )
        for i, row in zip(long, _encoded(cut)):
            rows[i] = row
    warn_truncated(len(long), len(rows), spec, max_length)
    return rows


def _encoded(encoding) -> list[Encoded]:
    types = encoding.get(TOKEN_TYPES)
    return [
        Encoded(ids, encoding.sequence_ids(i), None if types is None else types[i])
        for i, ids in enumerate(encoding["input_ids"])
    ]


def with_token_types(feature: dict, row: Encoded) -> dict:
    """`feature` with the row's token types, where it is a pair."""
    return feature if row.token_type_ids is None else {**feature, TOKEN_TYPES: row.token_type_ids}


def pad(rows: list, value: int) -> torch.Tensor:
    """Right-pad lists of ints (or lists of lists of ints, for choices) into one rectangular tensor."""
    if rows and isinstance(rows[0][0], list):
        width = max(len(r) for row in rows for r in row)
        return torch.stack([pad([r + [value] * (width - len(r)) for r in row], value) for row in rows])
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=torch.long)


def feature_length(feature: dict) -> int:
    """The length a batch pads this feature to: its longest row of input ids (a pair's query or candidate,
    a multiple-choice feature's longest choice)."""
    rows = [ids for key, ids in feature.items() if key.endswith("input_ids")]
    return max(max(map(len, ids)) if isinstance(ids[0], list) else len(ids) for ids in rows)


def collate(features: list[dict], pad_values: dict[str, int]) -> dict[str, torch.Tensor]:
    """Pad the keys of `pad_values` that the features carry; a padded input id is masked anyway."""
    keys = [key for key in pad_values if key in features[0]]
    return {key: _stack(features, key, pad_values[key]) for key in keys}


def _stack(features: list[dict], key: str, value: int) -> torch.Tensor:
    column = [f[key] for f in features]
    return pad(column, value) if isinstance(column[0], list) else torch.tensor(column, dtype=torch.long)


def encode(
    encoder: Encoder,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    hidden_states: bool = False,
    token_type_ids: torch.Tensor | None = None,
) -> EncoderOutput:
    """Run the encoder with padded positions set to the backbone's pad id (XLM-R derives positions from it; a
    model without one, such as EuroBERT's, masks padding whatever its ids), and a pair's token types where the
    encoder embeds them (features made for it carry them only then: `xlt.data.features`)."""
    pad_id = encoder.backbone.config.pad_token_id or 0
    input_ids = input_ids.masked_fill(attention_mask == 0, pad_id)
    # passed only when used, so an Encoder written before token types runs as it did
    types = {"token_type_ids": token_type_ids} if token_type_ids is not None and encoder.token_types else {}
    return encoder(input_ids, attention_mask, output_hidden_states=hidden_states, **types)


def last_hidden(encoder: Encoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The last hidden state of the batch's inputs, a pair's token types included."""
    return encode(
        encoder, batch["input_ids"], batch["attention_mask"], token_type_ids=batch.get(TOKEN_TYPES)
    ).last_hidden_state


def masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)


class SentencePooler(nn.Module):
    """One vector per sequence: <s> through the backbone's pooler, <s> through a trainable
    dense-tanh (transformers' RobertaClassificationHead), or the mean over real tokens."""

    def __init__(self, encoder: Encoder, pooling: Pooling, dropout: float):
        super().__init__()
        if pooling == "cls_pooler" and getattr(encoder.backbone, "pooler", None) is None:
            raise XltError("pooling 'cls_pooler' needs a backbone with a pooler; choose 'cls_dense' or 'mean'")
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(encoder.hidden_size, encoder.hidden_size) if pooling == "cls_dense" else None

    def forward(self, encoder: Encoder, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.pooling == "mean":
            return masked_mean(hidden, mask)
        if self.pooling == "cls_pooler":
            # called through `encoder` rather than stored here, so the pooler stays the method's tensor
            return encoder.backbone.pooler(hidden)
        assert self.dense is not None  # built for cls_dense, the one pooling left
        return torch.tanh(self.dense(self.dropout(hidden[:, 0])))


def feature_rows(outputs: list[torch.Tensor], features: list[dict]) -> Iterator[tuple[dict, torch.Tensor]]:
    """Pair each feature with its output: `outputs` holds one head output per feature, in feature
    order (a batch's output unbound along dim 0, padding rows of token outputs included)."""
    yield from zip(features, outputs, strict=True)
