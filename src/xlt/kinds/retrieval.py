"""Sentence retrieval (Tatoeba): embed queries and candidates separately, match by cosine similarity.

There is nothing to train: the "head" only pools a hidden layer into sentence embeddings. The
defaults are the official Tatoeba rule (mean over all tokens, specials included); XTREME reads
XLM-R large's hidden_states[14] ("layer": 14), the default here is the last layer.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from torch import nn
from torch.nn import functional as F

from xlt.errors import XltError
from xlt.kinds.base import HeadOptions, Kind, register
from xlt.kinds.common import collate, encode, feature_rows, masked_mean, tokenize
from xlt.methods.base import Encoder

QUERY, CANDIDATE = "query", "candidate"


class RetrievalHeadOptions(HeadOptions):
    layer: int = -1  # index into hidden_states (0 = embeddings, -1 = last layer)
    pooling: Literal["mean", "cls"] = "mean"


class Embedder(nn.Module):
    def __init__(self, encoder: Encoder, options: RetrievalHeadOptions):
        super().__init__()
        layers = encoder.backbone.config.num_hidden_layers
        if not -(layers + 1) <= options.layer <= layers:
            raise XltError(f"retrieval layer {options.layer} does not exist: the encoder has hidden_states 0..{layers}")
        self.layer, self.pooling = options.layer, options.pooling

    def forward(self, encoder: Encoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """[batch, hidden] sentence embeddings."""
        mask = batch["attention_mask"]
        output = encode(encoder, batch["input_ids"], mask, hidden_states=self.layer != -1)
        hidden = output.last_hidden_state if self.layer == -1 else output.hidden_states[self.layer]
        return masked_mean(hidden, mask) if self.pooling == "mean" else hidden[:, 0]


class Retrieval(Kind):
    name: ClassVar[str] = "retrieval"
    HeadOptions: ClassVar[type[HeadOptions]] = RetrievalHeadOptions

    def featurize(self, examples, tokenizer, spec, max_length):
        unpaired = next((e for e in examples if e.get(QUERY) is None or e.get(CANDIDATE) is None), None)
        if unpaired is not None:
            raise XltError(
                f"{spec.name}: example {unpaired.get('id')!r} lacks a query or a candidate; this kind retrieves "
                "within parallel pairs (Tatoeba) and does not mine (BUCC) or rank a shared pool (Mewsli-X, LAReQA)"
            )
        features = []
        for role in (QUERY, CANDIDATE):
            rows = tokenize(tokenizer, spec, max_length, [example[role] for example in examples])
            features += [
                {"example_index": index, "role": role, "input_ids": ids, "attention_mask": [1] * len(ids)}
                for index, (ids, _) in enumerate(rows)
            ]
        return features

    def collate(self, features):
        return collate(features, {"input_ids": 0, "attention_mask": 0})

    def build_head(self, encoder, spec, options):
        return Embedder(encoder, options)

    def loss(self, outputs, batch):
        raise XltError("retrieval has no training objective: evaluate it zero-shot with an encoder tuned on a task")

    def decode(self, outputs, features, examples, spec):
        """Each query's nearest candidate by cosine similarity (L2-normalised dot product)."""
        embeddings = {QUERY: [None] * len(examples), CANDIDATE: [None] * len(examples)}
        for feature, row in feature_rows(outputs, features):
            embeddings[feature["role"]][feature["example_index"]] = row
        queries, candidates = (F.normalize(torch.stack(embeddings[role]), dim=-1) for role in (QUERY, CANDIDATE))
        return (queries @ candidates.T).argmax(-1).tolist()

    def gold(self, example, spec):
        """The gold candidate's index. Examples are parallel, so it is the example's own position, which
        `gold` cannot see: retrieval loaders end each id with it ("test-de-17", "de-test-17")."""
        position = str(example.get("id", "")).rsplit("-", 1)[-1]
        if not position.isdigit():
            raise XltError(
                f"{spec.name}: retrieval example id {example.get('id')!r} does not end with its position; "
                "the task loader must name examples '...-{index}' (as the Tatoeba loader does)"
            )
        return int(position)

    def majority(self, train_examples, examples, spec):
        """Chance: every query picks the first candidate (accuracy 1 / number of candidates)."""
        return [0] * len(examples)


register(Retrieval())
