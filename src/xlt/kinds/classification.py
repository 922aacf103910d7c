"""Sentence and sentence-pair classification (XNLI, PAWS-X, the synthetic NLI-like task).

Examples: ``classification`` {"id", "text", "label": str}; ``pair_classification`` {"id", "text_a", "text_b",
"label": str}. A prediction is a label string; submissions hold one label a line.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from torch import nn
from torch.nn import functional as F

from xlt.errors import XltError
from xlt.kinds.base import HeadOptions, Kind, register
from xlt.kinds.common import (
    TOKEN_TYPES,
    SentencePooler,
    collate,
    feature_rows,
    label_id,
    last_hidden,
    masked_mean,
    most_common,
    tokenize,
    with_token_types,
)
from xlt.methods.base import Encoder

SEGMENT_A, SEGMENT_B = 1, 2  # segment ids of a pair's tokens; specials and padding are 0


class ClassificationHeadOptions(HeadOptions):
    # "cls_pooler": the P-tuning-v2 / Tu et al. path; "cls_dense": transformers' RobertaClassificationHead;
    # "pair" (pairs only): mean-pool each segment, classify [u, v, u-v, u*v]
    pooling: Literal["cls_pooler", "cls_dense", "mean", "pair"] = "cls_dense"


class SentenceHead(nn.Module):
    def __init__(self, encoder: Encoder, num_labels: int, options: ClassificationHeadOptions):
        super().__init__()
        pooling = options.pooling
        assert pooling != "pair", "PairHead owns pair pooling"
        self.pooler = SentencePooler(encoder, pooling, options.dropout)
        self.dropout = nn.Dropout(options.dropout)
        self.classifier = nn.Linear(encoder.hidden_size, num_labels)

    def forward(self, encoder: Encoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        hidden = last_hidden(encoder, batch)
        return self.classifier(self.dropout(self.pooler(encoder, hidden, batch["attention_mask"])))


class PairHead(nn.Module):
    """Siamese-style features over one joint encoding: on small encoders this let deep prompts learn
    the synthetic NLI-like task (base accuracy 0.985 against 0.72-0.88 with <s> or mean pooling, measured on the
    demo's encoder)."""

    def __init__(self, encoder: Encoder, num_labels: int, options: ClassificationHeadOptions):
        super().__init__()
        self.dropout = nn.Dropout(options.dropout)
        self.classifier = nn.Linear(4 * encoder.hidden_size, num_labels)

    def forward(self, encoder: Encoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        hidden = last_hidden(encoder, batch)
        u = masked_mean(hidden, batch["segments"] == SEGMENT_A)
        v = masked_mean(hidden, batch["segments"] == SEGMENT_B)
        return self.classifier(self.dropout(torch.cat([u, v, u - v, u * v], dim=-1)))


class Classification(Kind):
    name: ClassVar[str] = "classification"
    metrics: ClassVar[tuple[str, ...]] = ("accuracy",)
    scorer: ClassVar[str] = "accuracy"
    HeadOptions: ClassVar[type[HeadOptions]] = ClassificationHeadOptions
    text_fields: ClassVar[tuple[str, ...]] = ("text",)

    def featurize(self, examples, tokenizer, spec, max_length):
        columns = [[example[key] for example in examples] for key in self.text_fields]
        encoded = tokenize(tokenizer, spec, max_length, *columns)
        features = []
        for index, (example, row) in enumerate(zip(examples, encoded)):
            ids = row.input_ids
            feature = with_token_types(
                {"example_index": index, "input_ids": ids, "attention_mask": [1] * len(ids)}, row
            )
            if len(self.text_fields) == 2:
                feature["segments"] = [0 if s is None else SEGMENT_A + s for s in row.sequence_ids]
            if example.get("label") is not None:
                feature["labels"] = label_id(example["label"], spec, f"example {example.get('id', index)!r}")
            features.append(feature)
        return features

    def collate(self, features):
        return collate(features, {"input_ids": 0, "attention_mask": 0, TOKEN_TYPES: 0, "segments": 0, "labels": -100})

    def build_head(self, encoder, spec, options):
        if options.pooling == "pair":
            if len(self.text_fields) != 2:
                raise XltError(f"{spec.name}: pooling 'pair' needs a pair task; choose cls_pooler, cls_dense or mean")
            return PairHead(encoder, len(spec.labels), options)
        return SentenceHead(encoder, len(spec.labels), options)

    def loss(self, outputs, batch):
        return F.cross_entropy(outputs, batch["labels"])

    def decode(self, outputs, features, examples, spec):
        predictions: list = [None] * len(examples)
        for feature, logits in feature_rows(outputs, features):
            predictions[feature["example_index"]] = spec.labels[int(logits.argmax())]
        return predictions

    def gold(self, example, spec):
        return example["label"]

    def majority(self, train_examples, examples, spec):
        label = most_common(example["label"] for example in train_examples)
        return [label] * len(examples)


class PairClassification(Classification):
    name: ClassVar[str] = "pair_classification"
    text_fields: ClassVar[tuple[str, ...]] = ("text_a", "text_b")
    pairs: ClassVar[bool] = True


register(Classification())
register(PairClassification())
