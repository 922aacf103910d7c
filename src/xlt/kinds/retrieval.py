"""Sentence retrieval within parallel pairs (Tatoeba): embed queries and candidates, match by cosine.

One tower embeds both sides: a hidden layer pooled into a sentence vector (the official Tatoeba rule
by default: mean over all tokens, specials included; XTREME reads XLM-R large's hidden_states[14],
"layer": 14; the default here is the last layer). Each feature holds an example's query and its
candidate, so the same features train and evaluate: training is the in-batch softmax of XTREME-R's
dual encoders (every other candidate of the batch is a negative). A task without training pairs
trains on its `train_task` (Tatoeba: SQuAD) or not at all (`steps: 0`). The pieces here serve the
pooled kinds too (`ranking`, `mining`).
"""

from __future__ import annotations

import zlib
from typing import ClassVar, Iterable, Literal

import torch
from torch import nn
from torch.nn import functional as F

from xlt.errors import XltError
from xlt.kinds.base import HeadOptions, Kind, register
from xlt.kinds.common import collate, encode, feature_rows, masked_mean, tokenize
from xlt.methods.base import Encoder

QUERY, CANDIDATE, PAIR = "query", "candidate", "pair"
CONTEXT = "candidate_context"  # a candidate's context, encoded as its second segment (LAReQA: the paragraph)
SCALE = 20.0  # inverse softmax temperature on cosine similarities (sentence-transformers' default)
PAIR_KEYS = ("input_ids", "attention_mask", "candidate_input_ids", "candidate_attention_mask", "candidate_key")


class RetrievalHeadOptions(HeadOptions):
    layer: int = -1  # index into hidden_states (0 = embeddings, -1 = last layer)
    pooling: Literal["mean", "cls"] = "mean"


class Embedder(nn.Module):
    """Sentence embeddings [batch, hidden]; a batch of pairs gives [batch, 2, hidden] (query, candidate)."""

    def __init__(self, encoder: Encoder, options: RetrievalHeadOptions):
        super().__init__()
        layers = encoder.backbone.config.num_hidden_layers
        if not -(layers + 1) <= options.layer <= layers:
            raise XltError(f"retrieval layer {options.layer} does not exist: the encoder has hidden_states 0..{layers}")
        self.layer, self.pooling = options.layer, options.pooling

    def embed(self, encoder: Encoder, input_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        output = encode(encoder, input_ids, mask, hidden_states=self.layer != -1)
        hidden = output.last_hidden_state if self.layer == -1 else output.hidden_states[self.layer]
        return masked_mean(hidden, mask) if self.pooling == "mean" else hidden[:, 0]

    def forward(self, encoder: Encoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        queries = self.embed(encoder, batch["input_ids"], batch["attention_mask"])
        if "candidate_input_ids" not in batch:
            return queries
        candidates = self.embed(encoder, batch["candidate_input_ids"], batch["candidate_attention_mask"])
        return torch.stack([queries, candidates], dim=1)


def sentence_features(
    tokenizer, spec, max_length: int, role: str, texts: Iterable[tuple[int, str]], contexts: list[str] | None = None
) -> list[dict]:
    """One feature per (example index, text), tagged with its role; with `contexts`, each text is encoded
    as a pair with its context (longest segment cut first)."""
    texts = list(texts)
    rows = tokenize(tokenizer, spec, max_length, [text for _, text in texts], contexts) if texts else []
    return [{"example_index": index, "role": role, "input_ids": ids, "attention_mask": [1] * len(ids)}
            for (index, _), (ids, _) in zip(texts, rows)]


def candidate_features(examples: list[dict], indices: Iterable[int], tokenizer, spec, max_length: int,
                       role: str) -> list[dict]:
    """The candidates of `examples[indices]`; those with a context as (sentence, context) pairs."""
    indices, features = list(indices), []
    for with_context in (False, True):
        part = [i for i in indices if bool(examples[i].get(CONTEXT)) == with_context]
        contexts = [examples[i][CONTEXT] for i in part] if with_context else None
        features += sentence_features(tokenizer, spec, max_length, role, [(i, examples[i][CANDIDATE]) for i in part],
                                      contexts)
    return features


def pair_features(examples: list[dict], tokenizer, spec, max_length: int, keys: list[str]) -> list[dict]:
    """One feature per (query, candidate) example; `keys` name the candidates (equal keys: one candidate)."""
    queries = sentence_features(tokenizer, spec, max_length, PAIR, [(i, e[QUERY]) for i, e in enumerate(examples)])
    candidates = candidate_features(examples, range(len(examples)), tokenizer, spec, max_length, PAIR)
    by_index = {candidate["example_index"]: candidate for candidate in candidates}
    features = []
    for query in queries:
        index = query["example_index"]
        features.append({**query, "candidate_input_ids": by_index[index]["input_ids"],
                         "candidate_attention_mask": by_index[index]["attention_mask"],
                         "candidate_key": zlib.crc32(keys[index].encode())})
    return features


def embeddings_by_role(outputs: list[torch.Tensor], features: list[dict]) -> dict[str, dict[int, torch.Tensor]]:
    """{role: {example index: embedding}}; a pair feature's output is its [query, candidate] rows."""
    found: dict[str, dict[int, torch.Tensor]] = {}
    for feature, row in feature_rows(outputs, features):
        found.setdefault(feature["role"], {})[feature["example_index"]] = row
    return found


def in_batch_loss(outputs: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Cross-entropy of each query over the batch's candidates by scaled cosine similarity."""
    if outputs.dim() != 3:
        raise XltError("retrieval trains on (query, candidate) pairs; the training examples hold lone sentences")
    queries, candidates = F.normalize(outputs[:, 0], dim=-1), F.normalize(outputs[:, 1], dim=-1)
    logits = SCALE * queries @ candidates.T
    # a batch may hold one candidate twice (two mentions of an entity): its other copy is no negative. Keys are
    # hashes of candidate names, equal across languages (batches mix them); a collision only drops a negative
    key = batch["candidate_key"]
    duplicate = (key[:, None] == key[None, :]) & ~torch.eye(len(key), dtype=torch.bool, device=key.device)
    logits = logits.masked_fill(duplicate, float("-inf"))
    return F.cross_entropy(logits, torch.arange(len(logits), device=logits.device))


class Retrieval(Kind):
    name: ClassVar[str] = "retrieval"
    HeadOptions: ClassVar[type[HeadOptions]] = RetrievalHeadOptions

    def featurize(self, examples, tokenizer, spec, max_length):
        unpaired = next((e for e in examples if e.get(QUERY) is None or e.get(CANDIDATE) is None), None)
        if unpaired is not None:
            raise XltError(
                f"{spec.name}: example {unpaired.get('id')!r} lacks a query or a candidate; the retrieval kind "
                "matches parallel pairs (mining is the `mining` kind, pool ranking the `ranking` kind)"
            )
        return pair_features(examples, tokenizer, spec, max_length, [e[CANDIDATE] for e in examples])

    def collate(self, features):
        return collate(features, dict.fromkeys(PAIR_KEYS, 0))

    def build_head(self, encoder, spec, options):
        return Embedder(encoder, options)

    def loss(self, outputs, batch):
        return in_batch_loss(outputs, batch)

    def decode(self, outputs, features, examples, spec):
        """Each query's nearest candidate by cosine similarity, named by the candidate's own index (its
        id's last number), so a loader may order queries freely (Tatoeba: sorted English)."""
        rows = embeddings_by_role(outputs, features)[PAIR]
        pairs = torch.stack([rows[i] for i in range(len(examples))])
        queries, candidates = F.normalize(pairs[:, 0], dim=-1), F.normalize(pairs[:, 1], dim=-1)
        return [self.gold(examples[j], spec) for j in (queries @ candidates.T).argmax(-1).tolist()]

    def gold(self, example, spec):
        """The gold candidate's index: retrieval loaders end each id with it ("test-de-17")."""
        position = str(example.get("id", "")).rsplit("-", 1)[-1]
        if not position.isdigit():
            raise XltError(
                f"{spec.name}: retrieval example id {example.get('id')!r} does not end with its position; "
                "the task loader must name examples '...-{index}' (as the Tatoeba loader does)"
            )
        return int(position)

    def majority(self, train_examples, examples, spec):
        """Chance: every query picks the first candidate (accuracy 1 / number of candidates)."""
        return [self.gold(examples[0], spec)] * len(examples)


register(Retrieval())
