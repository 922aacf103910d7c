"""Multiple choice (XCOPA, and its English chain SIQA -> COPA): one score per (premise, choice) pair.

Examples: {"id", "premise", "question", "choices": [str, ...], "label": int}. A prediction is the chosen
choice's index; submissions hold one index a line (XCOPA's task asks for JSON lines).
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from xlt.errors import XltError
from xlt.kinds.base import HeadOptions, Kind, register
from xlt.kinds.common import (
    TOKEN_TYPES,
    Pooling,
    SentencePooler,
    collate,
    encode,
    feature_rows,
    most_common,
    tokenize,
)
from xlt.methods.base import Encoder

# COPA's two question types read as connectives ("The man fell because he slipped"); any other
# question (SIQA's "What will Alex want to do next?") is put before the choice as written.
CONNECTIVES = {"cause": "because", "effect": "so"}


class MultipleChoiceHeadOptions(HeadOptions):
    pooling: Pooling = "cls_pooler"  # transformers' RobertaForMultipleChoice scores the pooler output


class ChoiceHead(nn.Module):
    def __init__(self, encoder: Encoder, options: MultipleChoiceHeadOptions):
        super().__init__()
        self.pooler = SentencePooler(encoder, options.pooling, options.dropout)
        self.dropout = nn.Dropout(options.dropout)
        self.scorer = nn.Linear(encoder.hidden_size, 1)

    def forward(self, encoder: Encoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """[batch, choices] scores; every choice is encoded as its own sequence."""
        batch_size, choices, length = batch["input_ids"].shape
        ids, mask = batch["input_ids"].view(-1, length), batch["attention_mask"].view(-1, length)
        types = batch[TOKEN_TYPES].view(-1, length) if TOKEN_TYPES in batch else None
        hidden = encode(encoder, ids, mask, token_type_ids=types).last_hidden_state
        return self.scorer(self.dropout(self.pooler(encoder, hidden, mask))).view(batch_size, choices)


def continuation(example: dict, choice: str) -> str:
    return f"{CONNECTIVES.get(example['question'], example['question'])} {choice}"


class MultipleChoice(Kind):
    name: ClassVar[str] = "multiple_choice"
    metrics: ClassVar[tuple[str, ...]] = ("accuracy",)
    scorer: ClassVar[str] = "accuracy"
    HeadOptions: ClassVar[type[HeadOptions]] = MultipleChoiceHeadOptions
    pairs: ClassVar[bool] = True

    def featurize(self, examples, tokenizer, spec, max_length):
        sizes = {len(example["choices"]) for example in examples}
        if len(sizes) > 1:
            raise XltError(f"{spec.name}: examples have {sorted(sizes)} choices; one task needs one number of choices")
        premises = [example["premise"] for example in examples for _ in example["choices"]]
        endings = [continuation(example, choice) for example in examples for choice in example["choices"]]
        rows = iter(tokenize(tokenizer, spec, max_length, premises, endings))
        features = []
        for index, example in enumerate(examples):
            pairs = [next(rows) for _ in example["choices"]]
            ids = [pair.input_ids for pair in pairs]
            feature = {
                "example_index": index,
                "input_ids": ids,
                "attention_mask": [[1] * len(i) for i in ids],
                TOKEN_TYPES: [pair.token_type_ids for pair in pairs],
            }
            if example.get("label") is not None:
                feature["labels"] = int(example["label"])
            features.append(feature)
        return features

    def collate(self, features):
        return collate(features, {"input_ids": 0, "attention_mask": 0, TOKEN_TYPES: 0, "labels": -100})

    def build_head(self, encoder, spec, options):
        return ChoiceHead(encoder, options)

    def loss(self, outputs, batch):
        return F.cross_entropy(outputs, batch["labels"])

    def decode(self, outputs, features, examples, spec):
        predictions: list = [None] * len(examples)
        for feature, scores in feature_rows(outputs, features):
            predictions[feature["example_index"]] = int(scores.argmax())
        return predictions

    def gold(self, example, spec):
        return int(example["label"])

    def majority(self, train_examples, examples, spec):
        label = most_common(int(example["label"]) for example in train_examples)
        return [label] * len(examples)


register(MultipleChoice())
