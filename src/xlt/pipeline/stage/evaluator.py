"""A model scored on a task's examples: its outputs batched by length across the processes of a launch, decoded by
the task's kind and scored with the official metrics. The one evaluator of a zero-shot evaluation sweep
(`evaluate`) and of checkpoint selection on dev sets (`selection`)."""

from __future__ import annotations

import hashlib

import torch

from xlt.kinds import get_kind
from xlt.kinds.common import feature_length
from xlt.metrics import SCORERS
from xlt.model import TaskModel
from xlt.runtime.distributed import deal, gather, sharded
from xlt.tasks import TaskSpec


class Evaluator:
    """`model`'s predictions on `spec`'s examples. With `reuse_outputs` (kinds whose outputs depend on the inputs
    alone), inputs already run by this evaluator are not run again: a candidate pool shared by every language is
    embedded once."""

    def __init__(self, model: TaskModel, spec: TaskSpec, batch_size: int, reuse_outputs: bool = False):
        self.model, self.spec, self.kind, self.batch_size = model, spec, get_kind(spec.kind), batch_size
        self.seen: dict | None = {} if reuse_outputs else None

    def predict(self, examples: list[dict], features: list[dict]) -> list:
        outputs = run_model(self.model, self.kind, features, self.batch_size, self.seen)
        return self.kind.decode(outputs, features, examples, self.spec)

    def primary_score(self, lang: str, examples: list[dict], features: list[dict]) -> float:
        """The task's official primary metric on one language's examples."""
        scores, _ = official_scores(self.spec, lang, examples, self.predict(examples, features))
        return scores[self.spec.primary_metric]


def official_scores(spec: TaskSpec, lang: str, examples: list[dict], predictions: list) -> tuple[dict, list]:
    """The task's official metrics on one language, and the golds they were computed against."""
    kind = get_kind(spec.kind)
    golds = [kind.gold(example, spec) for example in kind.scored(examples)]
    return SCORERS[spec.scorer](predictions, golds, lang), golds


def run_model(model: TaskModel, kind, features: list[dict], batch_size: int, seen: dict | None = None):
    """The head's output for every feature, in feature order. With `seen` (kinds whose outputs depend on
    the inputs alone), inputs already run in this evaluation are not run again: a candidate pool shared
    by every language is embedded once."""
    if seen is None:
        return _forward(model, kind, features, batch_size)
    keys = [_input_key(feature) for feature in features]
    new = {key: feature for key, feature in zip(keys, features) if key not in seen}
    seen.update(zip(new, _forward(model, kind, list(new.values()), batch_size)))
    return [seen[key] for key in keys]


def _input_key(feature: dict) -> bytes:
    """A digest of the feature's model inputs (its list fields; bookkeeping such as example indices is left
    out): a million-entity pool keeps 16 bytes per entity rather than its token lists."""
    inputs = [(name, value) for name, value in sorted(feature.items()) if isinstance(value, list)]
    return hashlib.blake2b(repr(inputs).encode(), digest_size=16).digest()


@torch.inference_mode()
def _forward(model: TaskModel, kind, features: list[dict], batch_size: int) -> list[torch.Tensor]:
    """Batches cut from the features sorted by length (each pads little), dealt out among the processes (a
    sharded model's in lockstep); the outputs come back in feature order."""
    device = next(model.parameters()).device
    by_length = sorted(range(len(features)), key=lambda i: -feature_length(features[i]))
    batches = [by_length[start : start + batch_size] for start in range(0, len(features), batch_size)]
    mine: list[tuple[int, torch.Tensor]] = []
    for indices, kept in deal(batches, lockstep=sharded(model)):
        batch = {k: v.to(device) for k, v in kind.collate([features[i] for i in indices]).items()}
        result = model(batch)
        if kept:
            mine.extend(zip(indices, result.float().cpu().unbind(0)))
    outputs: list[torch.Tensor] = [torch.empty(0)] * len(features)
    for index, output in gather(mine):
        outputs[index] = output
    return outputs
