"""Parallel-sentence mining (BUCC 2018): find the translation pairs hidden in two comparable corpora.

Examples carry a source sentence ("id", "query"), a target sentence ("candidate_id", "candidate"),
or both when they are a gold pair; "calibration": True marks examples that only fix the threshold.
Each side is embedded by the dual-encoder tower, pairs are mined with XTREME's margin rule
(`xlt.kinds.margin`) and kept above a score threshold that maximises F1 on gold pairs: those of the
examples marked "calibration" (BUCC test is mined with dev's threshold, as XTREME's test gold is
withheld), else the mined examples' own (the official script's behaviour on dev). The prediction is
the language's whole pair list (a submission line "src<TAB>trg" each), which the BUCC scorer compares
as a set. Nothing trains here: an encoder reaches mining trained on another task, or untrained.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch

from xlt.kinds.base import register
from xlt.kinds.dual_encoder import CANDIDATE, QUERY, DualEncoderKind, embeddings_by_role, sentence_features
from xlt.kinds.margin import BitextSide, bucc_candidates, bucc_extract, bucc_threshold

CALIBRATION = "calibration"
_KNN_BLOCK = 4096  # query rows scored against the whole other side at once


class Mining(DualEncoderKind):
    name: ClassVar[str] = "mining"
    metrics: ClassVar[tuple[str, ...]] = ("f1", "precision", "recall")
    scorer: ClassVar[str] = "bucc"
    per_example: ClassVar[bool] = False
    majority_counts_labels: ClassVar[bool] = False

    def featurize(self, examples, tokenizer, spec, max_length):
        """Each source sentence (query), then each target sentence (candidate), alone."""
        features = []
        for role in (QUERY, CANDIDATE):
            texts = [(i, e[role]) for i, e in enumerate(examples) if e.get(role) is not None]
            features += sentence_features(tokenizer, spec, max_length, role, texts)
        return features

    def decode(self, outputs, features, examples, spec):
        embeddings = embeddings_by_role(outputs, features)
        calibration = [i for i, e in enumerate(examples) if e.get(CALIBRATION)]
        mined = [i for i, e in enumerate(examples) if not e.get(CALIBRATION)]
        candidates = _candidates(examples, mined, embeddings)
        reference = _candidates(examples, calibration, embeddings) if calibration else candidates
        gold = [self.gold(examples[i], spec) for i in (calibration or mined) if _is_pair(examples[i])]
        return bucc_extract(candidates, bucc_threshold(reference, gold))

    def gold(self, example, spec):
        return (example["id"], example["candidate_id"])

    def scored(self, examples):
        return [e for e in examples if _is_pair(e) and not e.get(CALIBRATION)]

    def majority(self, train_examples, examples, spec):
        """Nothing to guess from: no pair is predicted (F1 0)."""
        return []


def _is_pair(example: dict) -> bool:
    return example.get(QUERY) is not None and example.get(CANDIDATE) is not None


def _candidates(examples: list[dict], indices: list[int], embeddings: dict) -> dict:
    sides = []
    for role, id_key in ((QUERY, "id"), (CANDIDATE, "candidate_id")):
        rows = [i for i in indices if examples[i].get(role) is not None]
        vectors = torch.stack([embeddings[role][i] for i in rows]).float().numpy()
        sides.append(BitextSide([examples[i][id_key] for i in rows], [examples[i][role] for i in rows], vectors))
    return bucc_candidates(sides[0], sides[1], knn=torch_knn)


def torch_knn(queries: np.ndarray, database: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """`xlt.kinds.margin.exhaustive_knn` with torch, on the GPU when there is one: BUCC's test corpora hold
    ~400k sentences a side, an exhaustive search numpy does in hours on a few cores."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    base = torch.from_numpy(database).to(device)
    similarities, rows = [], []
    for start in range(0, len(queries), _KNN_BLOCK):
        top = (torch.from_numpy(queries[start : start + _KNN_BLOCK]).to(device) @ base.T).topk(k, dim=1)
        similarities.append(top.values.double().cpu().numpy())
        rows.append(top.indices.cpu().numpy())
    return np.concatenate(similarities), np.concatenate(rows)


register(Mining())
