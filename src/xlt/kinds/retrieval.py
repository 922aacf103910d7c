"""Sentence retrieval within parallel pairs (Tatoeba): embed queries and candidates, match by cosine.

Examples: {"id", "query": str, "candidate": str}, parallel (query i's gold is candidate i; the id ends with
the candidate's index). A prediction is the chosen candidate's index; submissions hold one a line.

Each feature holds an example's query and its candidate (`xlt.kinds.dual_encoder`), so the same features
train (in-batch softmax) and evaluate. A task without training pairs trains on its `train_task`
(Tatoeba: SQuAD) or not at all (`steps: 0`).
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch.nn import functional as F

from xlt.errors import XltError
from xlt.kinds.base import register
from xlt.kinds.dual_encoder import (
    CANDIDATE,
    PAIR,
    QUERY,
    DualEncoderKind,
    embeddings_by_role,
    in_batch_loss,
    pair_features,
)


class Retrieval(DualEncoderKind):
    name: ClassVar[str] = "retrieval"
    metrics: ClassVar[tuple[str, ...]] = ("accuracy",)
    scorer: ClassVar[str] = "accuracy"
    majority_counts_labels: ClassVar[bool] = False
    pairs: ClassVar[bool] = True

    def featurize(self, examples, tokenizer, spec, max_length):
        unpaired = next((e for e in examples if e.get(QUERY) is None or e.get(CANDIDATE) is None), None)
        if unpaired is not None:
            raise XltError(
                f"{spec.name}: example {unpaired.get('id')!r} lacks a query or a candidate; the retrieval kind "
                "matches parallel pairs (mining is the `mining` kind, pool ranking the `ranking` kind)"
            )
        return pair_features(examples, tokenizer, spec, max_length, [e[CANDIDATE] for e in examples])

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
