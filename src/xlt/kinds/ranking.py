"""Ranking a shared candidate pool (Mewsli-X, LAReQA): a dual encoder scores every candidate per query.

Evaluation examples are queries ({"id", "query", "relevant": [candidate ids]}) and pool entries
({"id", "candidate", "candidate_id"}, optionally "candidate_context", encoded as a second segment
as XTREME-R encodes LAReQA's answer sentence with its paragraph); each query gets the ids of its
TOP_K most similar candidates, best first (the prediction; a submission line holds them tab-separated):
by cosine (Mewsli-X's rule: L2-normalised inner products) or, where the task's settings say
`similarity: dot`, by raw inner products (LAReQA's official evaluation).
Training examples are (query, candidate) pairs (candidates with their context, if any), learned
with the in-batch softmax of the XTREME-R dual-encoder baselines: every other candidate of the
batch is a negative.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from torch.nn import functional as F

from xlt.errors import XltError
from xlt.kinds.base import KindSettings, register
from xlt.kinds.dual_encoder import (
    CANDIDATE,
    PAIR,
    QUERY,
    DualEncoderKind,
    candidate_features,
    embeddings_by_role,
    in_batch_loss,
    pair_features,
    sentence_features,
    typed_alike,
)
from xlt.metrics.retrieval import TOP_K

_QUERY_CHUNK = 1024  # queries scored against the whole pool at once


class RankingSettings(KindSettings):
    similarity: Literal["cosine", "dot"] = "cosine"


class Ranking(DualEncoderKind):
    """The dual-encoder tower ranking a pool; trained on (query, candidate) pairs with the in-batch softmax."""

    name: ClassVar[str] = "ranking"
    metrics: ClassVar[tuple[str, ...]] = ("map@20",)
    scorer: ClassVar[str] = "lareqa"  # mAP@20 over each query's relevant set
    Settings: ClassVar[type[KindSettings]] = RankingSettings
    reuse_outputs: ClassVar[bool] = True  # every language of a task searches the same pool
    majority_counts_labels: ClassVar[bool] = False
    pairs: ClassVar[bool] = True

    def featurize(self, examples, tokenizer, spec, max_length):
        pairs = [i for i, e in enumerate(examples) if e.get(QUERY) is not None and e.get(CANDIDATE) is not None]
        if pairs and len(pairs) < len(examples):
            raise XltError(
                f"{spec.name}: examples mix (query, candidate) pairs with lone queries or pool entries; a loader "
                "gives pairs (training) or queries plus a pool (evaluation)"
            )
        if pairs:
            return pair_features(examples, tokenizer, spec, max_length, [self._candidate_id(e) for e in examples])
        queries = [(i, e[QUERY]) for i, e in enumerate(examples) if e.get(QUERY) is not None]
        pool = [i for i, e in enumerate(examples) if e.get(CANDIDATE) is not None]
        return typed_alike(
            sentence_features(tokenizer, spec, max_length, QUERY, queries)
            + candidate_features(examples, pool, tokenizer, spec, max_length, CANDIDATE)
        )

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
        cosine = spec.settings.similarity == "cosine"
        return _top_ids(torch.stack([queries[i] for i in order]), list(pool), torch.stack(list(pool.values())), cosine)

    def loss(self, outputs, batch):
        return in_batch_loss(outputs, batch)

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


def _top_ids(queries: torch.Tensor, ids: list[str], pool: torch.Tensor, cosine: bool) -> list[list[str]]:
    queries, pool = queries.float(), pool.float()
    if cosine:
        queries, pool = F.normalize(queries, dim=-1), F.normalize(pool, dim=-1)
    k = min(TOP_K, len(ids))
    ranked = []
    for start in range(0, len(queries), _QUERY_CHUNK):
        top = (queries[start : start + _QUERY_CHUNK] @ pool.T).topk(k, dim=-1).indices
        ranked += [[ids[j] for j in row] for row in top.tolist()]
    return ranked


register(Ranking())
