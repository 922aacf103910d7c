"""Ranking a shared candidate pool (Mewsli-X, LAReQA): a dual encoder scores every candidate per query.

Evaluation examples are queries ({"id", "query", "relevant": [candidate ids]}) and pool entries
({"id", "candidate", "candidate_id"}, optionally "candidate_context", encoded as a second segment
as XTREME-R encodes LAReQA's answer sentence with its paragraph); each query gets the ids of its
TOP_K most cosine-similar candidates, best first (Mewsli-X's rule: L2-normalised inner products).
Training examples are (query, candidate) pairs (candidates with their context, if any), learned
with the in-batch softmax of the XTREME-R dual-encoder baselines: every other candidate of the
batch is a negative.
"""

from __future__ import annotations

import zlib
from typing import ClassVar

import torch
from torch.nn import functional as F

from xlt.errors import XltError
from xlt.kinds.base import HeadOptions, Kind, register
from xlt.kinds.common import collate
from xlt.kinds.retrieval import CANDIDATE, QUERY, Embedder, RetrievalHeadOptions, embeddings_by_role
from xlt.kinds.retrieval import sentence_features
from xlt.metrics.retrieval import TOP_K

PAIR = "pair"
CONTEXT = "candidate_context"
SCALE = 20.0  # inverse softmax temperature on cosine similarities (sentence-transformers' default)
_QUERY_CHUNK = 1024  # queries scored against the whole pool at once


class DualEmbedder(Embedder):
    """One tower for queries and candidates; a pair batch gives [batch, 2, hidden] (query, candidate)."""

    def forward(self, encoder, batch):
        queries = self.embed(encoder, batch["input_ids"], batch["attention_mask"])
        if "candidate_input_ids" not in batch:
            return queries
        candidates = self.embed(encoder, batch["candidate_input_ids"], batch["candidate_attention_mask"])
        return torch.stack([queries, candidates], dim=1)


class Ranking(Kind):
    name: ClassVar[str] = "ranking"
    HeadOptions: ClassVar[type[HeadOptions]] = RetrievalHeadOptions
    reuse_outputs: ClassVar[bool] = True  # every language of a task searches the same pool

    def featurize(self, examples, tokenizer, spec, max_length):
        pairs = [i for i, e in enumerate(examples) if e.get(QUERY) is not None and e.get(CANDIDATE) is not None]
        if pairs and len(pairs) < len(examples):
            raise XltError(
                f"{spec.name}: examples mix (query, candidate) pairs with lone queries or pool entries; a loader "
                "gives pairs (training) or queries plus a pool (evaluation)"
            )
        if pairs:
            return self._pair_features(examples, tokenizer, spec, max_length)
        queries = [(i, e[QUERY]) for i, e in enumerate(examples) if e.get(QUERY) is not None]
        pool = [i for i, e in enumerate(examples) if e.get(CANDIDATE) is not None]
        return (sentence_features(tokenizer, spec, max_length, QUERY, queries)
                + _candidate_features(examples, pool, tokenizer, spec, max_length, CANDIDATE))

    def _pair_features(self, examples, tokenizer, spec, max_length):
        enumerated = list(enumerate(examples))
        queries = sentence_features(tokenizer, spec, max_length, PAIR, [(i, e[QUERY]) for i, e in enumerated])
        candidates = _candidate_features(examples, range(len(examples)), tokenizer, spec, max_length, PAIR)
        by_example = {feature["example_index"]: feature for feature in candidates}
        features = []
        for query in queries:
            candidate, example = by_example[query["example_index"]], examples[query["example_index"]]
            features.append({**query, "candidate_input_ids": candidate["input_ids"],
                             "candidate_attention_mask": candidate["attention_mask"],
                             "candidate_key": zlib.crc32(self._candidate_id(example).encode())})
        return features

    def collate(self, features):
        keys = ("input_ids", "attention_mask", "candidate_input_ids", "candidate_attention_mask", "candidate_key")
        return collate(features, dict.fromkeys(keys, 0))

    def build_head(self, encoder, spec, options):
        return DualEmbedder(encoder, options)

    def loss(self, outputs, batch):
        if outputs.dim() != 3:
            raise XltError("ranking trains on (query, candidate) pairs; the training examples hold lone sentences")
        queries, candidates = F.normalize(outputs[:, 0], dim=-1), F.normalize(outputs[:, 1], dim=-1)
        logits = SCALE * queries @ candidates.T
        # a batch may hold one entity twice (two mentions of it): its other copy is no negative. Keys are
        # hashes of candidate ids, equal across languages (batches mix them); a collision only drops a negative
        key = batch["candidate_key"]
        duplicate = (key[:, None] == key[None, :]) & ~torch.eye(len(key), dtype=torch.bool, device=key.device)
        logits = logits.masked_fill(duplicate, float("-inf"))
        return F.cross_entropy(logits, torch.arange(len(logits), device=logits.device))

    def decode(self, outputs, features, examples, spec):
        """The top-TOP_K pool ids per query; the pool is every candidate given (pairs included), by id."""
        found = embeddings_by_role(outputs, features)
        pool: dict[str, torch.Tensor] = {}
        for index, row in found.get(PAIR, {}).items():
            pool.setdefault(self._candidate_id(examples[index]), row[1])
        for index, row in found.get(CANDIDATE, {}).items():
            pool.setdefault(self._candidate_id(examples[index]), row)
        queries = {**{i: row[0] for i, row in found.get(PAIR, {}).items()}, **found.get(QUERY, {})}
        order = [i for i, e in enumerate(examples) if e.get(QUERY) is not None]
        if not pool:
            raise XltError(f"{spec.name}: no candidate to rank; the evaluation examples hold no pool")
        return _top_ids(torch.stack([queries[i] for i in order]), list(pool), torch.stack(list(pool.values())))

    @staticmethod
    def _candidate_id(example: dict) -> str:
        return str(example.get("candidate_id", example["id"]))

    def gold(self, example, spec):
        return list(example.get("relevant") or [self._candidate_id(example)])

    def scored(self, examples):
        return [e for e in examples if e.get(QUERY) is not None]

    def majority(self, train_examples, examples, spec):
        """Chance: every query gets the pool's first TOP_K candidates, in pool order."""
        pool = list(dict.fromkeys(self._candidate_id(e) for e in examples if e.get(CANDIDATE) is not None))
        return [pool[:TOP_K] for _ in self.scored(examples)]


def _candidate_features(examples, indices, tokenizer, spec, max_length: int, role: str) -> list[dict]:
    """Candidate sentences, those with a context encoded as (sentence, context) pairs."""
    features = []
    for with_context in (False, True):
        part = [i for i in indices if bool(examples[i].get(CONTEXT)) == with_context]
        contexts = [examples[i][CONTEXT] for i in part] if with_context else None
        features += sentence_features(tokenizer, spec, max_length, role, [(i, examples[i][CANDIDATE]) for i in part],
                                      contexts)
    return features


def _top_ids(queries: torch.Tensor, ids: list[str], pool: torch.Tensor) -> list[list[str]]:
    queries, pool = F.normalize(queries.float(), dim=-1), F.normalize(pool.float(), dim=-1)
    k = min(TOP_K, len(ids))
    ranked = []
    for start in range(0, len(queries), _QUERY_CHUNK):
        top = (queries[start:start + _QUERY_CHUNK] @ pool.T).topk(k, dim=-1).indices
        ranked += [[ids[j] for j in row] for row in top.tolist()]
    return ranked


register(Ranking())
