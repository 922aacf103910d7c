"""The sentence tower shared by the retrieval, ranking and mining kinds: one encoder embeds both sides.

A hidden layer pooled into a sentence vector (the official Tatoeba rule by default: mean over all
tokens, specials included; XTREME reads XLM-R large's hidden_states[14], "layer": 14; the default
here is the last layer). Trainable kinds learn it on (query, candidate) pairs with the in-batch
softmax of XTREME-R's dual encoders (every other candidate of the batch is a negative).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import ClassVar, Literal

import torch
from torch import nn
from torch.nn import functional as F

from xlt.errors import XltError
from xlt.kinds.base import HeadOptions, Kind
from xlt.kinds.common import TOKEN_TYPES, collate, encode, feature_rows, masked_mean, tokenize, with_token_types
from xlt.methods.base import Encoder
from xlt.runtime.distributed import gather_rows

QUERY, CANDIDATE, PAIR = "query", "candidate", "pair"
CONTEXT = "candidate_context"  # a candidate's context, encoded as its second segment (LAReQA: the paragraph)
SCALE = 20.0  # inverse softmax temperature on cosine similarities (sentence-transformers' default)
CANDIDATE_SIDE = "candidate_"  # the prefix of a pair feature's candidate inputs
INPUT_KEYS = ("input_ids", "attention_mask", TOKEN_TYPES)  # what a feature gives the encoder (token types: pairs)
PAIR_KEYS = (*INPUT_KEYS, *(CANDIDATE_SIDE + key for key in INPUT_KEYS), "candidate_key")


class EmbedderOptions(HeadOptions):
    layer: int = -1  # index into hidden_states (0 = embeddings, -1 = last layer)
    pooling: Literal["mean", "cls"] = "mean"


class Embedder(nn.Module):
    """Sentence embeddings [batch, hidden]; a batch of pairs gives [batch, 2, hidden] (query, candidate)."""

    def __init__(self, encoder: Encoder, options: EmbedderOptions):
        super().__init__()
        layers = encoder.backbone.config.num_hidden_layers
        if not -(layers + 1) <= options.layer <= layers:
            raise XltError(f"retrieval layer {options.layer} does not exist: the encoder has hidden_states 0..{layers}")
        self.layer, self.pooling = options.layer, options.pooling

    def embed(self, encoder: Encoder, input_ids: torch.Tensor, mask: torch.Tensor, token_type_ids=None) -> torch.Tensor:
        output = encode(encoder, input_ids, mask, hidden_states=self.layer != -1, token_type_ids=token_type_ids)
        if self.layer == -1:
            hidden = output.last_hidden_state
        else:
            assert output.hidden_states is not None  # asked for above
            hidden = output.hidden_states[self.layer]
        return masked_mean(hidden, mask) if self.pooling == "mean" else hidden[:, 0]

    def forward(self, encoder: Encoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        queries = self.embed(encoder, batch["input_ids"], batch["attention_mask"], batch.get(TOKEN_TYPES))
        if "candidate_input_ids" not in batch:
            return queries
        candidates = self.embed(
            encoder,
            batch["candidate_input_ids"],
            batch["candidate_attention_mask"],
            batch.get(CANDIDATE_SIDE + TOKEN_TYPES),
        )
        return torch.stack([queries, candidates], dim=1)


class DualEncoderKind(Kind):
    """The tower as head and its collation; each kind adds how it decodes (and, if it trains, its loss)."""

    HeadOptions: ClassVar[type[HeadOptions]] = EmbedderOptions

    def collate(self, features):
        return collate(features, dict.fromkeys(PAIR_KEYS, 0))

    def build_head(self, encoder, spec, options):
        return Embedder(encoder, options)


def sentence_features(
    tokenizer, spec, max_length: int, role: str, texts: Iterable[tuple[int, str]], contexts: list[str] | None = None
) -> list[dict]:
    """One feature per (example index, text), tagged with its role; with `contexts`, each text is encoded
    as a pair with its context (longest segment cut first)."""
    texts = list(texts)
    rows = tokenize(tokenizer, spec, max_length, [text for _, text in texts], contexts) if texts else []
    return [
        with_token_types(
            {
                "example_index": index,
                "role": role,
                "input_ids": row.input_ids,
                "attention_mask": [1] * len(row.input_ids),
            },
            row,
        )
        for (index, _), row in zip(texts, rows)
    ]


def candidate_features(
    examples: list[dict], indices: Iterable[int], tokenizer, spec, max_length: int, role: str
) -> list[dict]:
    """The candidates of `examples[indices]`; those with a context as (sentence, context) pairs."""
    indices, features = list(indices), []
    for with_context in (False, True):
        part = [i for i in indices if bool(examples[i].get(CONTEXT)) == with_context]
        contexts = [examples[i][CONTEXT] for i in part] if with_context else None
        features += sentence_features(
            tokenizer, spec, max_length, role, [(i, examples[i][CANDIDATE]) for i in part], contexts
        )
    return features


def pair_features(examples: list[dict], tokenizer, spec, max_length: int, keys: list[str]) -> list[dict]:
    """One feature per (query, candidate) example; `keys` name the candidates (equal keys: one candidate)."""
    queries = sentence_features(tokenizer, spec, max_length, PAIR, [(i, e[QUERY]) for i, e in enumerate(examples)])
    candidates = candidate_features(examples, range(len(examples)), tokenizer, spec, max_length, PAIR)
    by_index = {candidate["example_index"]: candidate for candidate in candidates}
    features = []
    for query in queries:
        index = query["example_index"]
        candidate = {key: value for key, value in by_index[index].items() if key in INPUT_KEYS}
        features.append(
            {
                **query,
                **{CANDIDATE_SIDE + key: value for key, value in candidate.items()},
                "candidate_key": zlib.crc32(keys[index].encode()),
            }
        )
    return typed_alike(features)


def typed_alike(features: list[dict]) -> list[dict]:
    """Token types on every input where any feature has them: one feature set mixes single sequences (queries,
    candidates without a context) with pairs, and is one Arrow table in the feature cache (the first feature names
    its columns) and one tensor in a batch. A single sequence is type 0 throughout, as its encoder would take it."""
    for side in ("", CANDIDATE_SIDE):
        if any(side + TOKEN_TYPES in feature for feature in features):
            for feature in features:
                if side + "input_ids" in feature:
                    feature.setdefault(side + TOKEN_TYPES, [0] * len(feature[side + "input_ids"]))
    return features


def embeddings_by_role(outputs: list[torch.Tensor], features: list[dict]) -> dict[str, dict[int, torch.Tensor]]:
    """{role: {example index: embedding}}; a pair feature's output is its [query, candidate] rows."""
    found: dict[str, dict[int, torch.Tensor]] = {}
    for feature, row in feature_rows(outputs, features):
        found.setdefault(feature["role"], {})[feature["example_index"]] = row
    return found


def in_batch_loss(outputs: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Cross-entropy of each query over the batch's candidates by scaled cosine similarity. A global batch split
    across processes scores each query against the candidates of every share."""
    if outputs.dim() != 3:
        raise XltError("retrieval trains on (query, candidate) pairs; the training examples hold lone sentences")
    queries = F.normalize(outputs[:, 0], dim=-1)
    candidates, own = gather_rows(F.normalize(outputs[:, 1], dim=-1))
    logits = SCALE * queries @ candidates.T
    # a batch may hold one candidate twice (two mentions of an entity): its other copy is no negative. Keys are
    # hashes of candidate names, equal across languages (batches mix them); a collision only drops a negative
    key = batch["candidate_key"]
    duplicate = key[:, None] == gather_rows(key)[0][None, :]
    duplicate[torch.arange(len(key)), own] = False
    logits = logits.masked_fill(duplicate, float("-inf"))
    return F.cross_entropy(logits, own)
