"""Sentence retrieval within parallel pairs (Tatoeba): embed queries and candidates, match by cosine.

There is nothing to train: the "head" only pools a hidden layer into sentence embeddings, and a
study trains the encoder on the task's `train_task` (XTREME-R: SQuAD) or not at all (`steps: 0`).
The defaults are the official Tatoeba rule (mean over all tokens, specials included); XTREME reads
XLM-R large's hidden_states[14] ("layer": 14), the default here is the last layer. The embedding
pieces here serve the pooled kinds too (`ranking`, `mining`).
"""

from __future__ import annotations

from typing import ClassVar, Iterable, Literal

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

    def embed(self, encoder: Encoder, input_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """[batch, hidden] sentence embeddings."""
        output = encode(encoder, input_ids, mask, hidden_states=self.layer != -1)
        hidden = output.last_hidden_state if self.layer == -1 else output.hidden_states[self.layer]
        return masked_mean(hidden, mask) if self.pooling == "mean" else hidden[:, 0]

    def forward(self, encoder: Encoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.embed(encoder, batch["input_ids"], batch["attention_mask"])


def sentence_features(
    tokenizer, spec, max_length: int, role: str, texts: Iterable[tuple[int, str]], contexts: list[str] | None = None
) -> list[dict]:
    """One feature per (example index, text), tagged with its role; with `contexts`, each text is encoded
    as a pair with its context (longest segment cut first)."""
    texts = list(texts)
    rows = tokenize(tokenizer, spec, max_length, [text for _, text in texts], contexts) if texts else []
    return [{"example_index": index, "role": role, "input_ids": ids, "attention_mask": [1] * len(ids)}
            for (index, _), (ids, _) in zip(texts, rows)]


def role_features(examples: list[dict], tokenizer, spec, max_length: int) -> list[dict]:
    """The queries' features, then the candidates', for the examples that hold one."""
    return [feature for role in (QUERY, CANDIDATE) for feature in sentence_features(
        tokenizer, spec, max_length, role, [(i, e[role]) for i, e in enumerate(examples) if e.get(role) is not None])]


def embeddings_by_role(outputs: list[torch.Tensor], features: list[dict]) -> dict[str, dict[int, torch.Tensor]]:
    """{role: {example index: embedding}}."""
    found: dict[str, dict[int, torch.Tensor]] = {}
    for feature, row in feature_rows(outputs, features):
        found.setdefault(feature["role"], {})[feature["example_index"]] = row
    return found


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
        return role_features(examples, tokenizer, spec, max_length)

    def collate(self, features):
        return collate(features, {"input_ids": 0, "attention_mask": 0})

    def build_head(self, encoder, spec, options):
        return Embedder(encoder, options)

    def loss(self, outputs, batch):
        raise XltError(f"{self.name} has no training objective: train the encoder on the task's train_task, "
                       "or evaluate it untrained (training steps: 0)")

    def decode(self, outputs, features, examples, spec):
        """Each query's nearest candidate by cosine similarity, named by the candidate's own index (its
        id's last number), so a loader may order queries freely (Tatoeba: sorted English)."""
        embeddings = embeddings_by_role(outputs, features)
        queries, candidates = (F.normalize(torch.stack([embeddings[role][i] for i in range(len(examples))]), dim=-1)
                               for role in (QUERY, CANDIDATE))
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
