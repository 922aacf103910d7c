"""The one carry-over rule: what a stage takes from the stage before it, and which head options it uses.

- A training stage with a parent (an intermediate stage, or the previous task of a chain such as
  SIQA -> COPA) takes the parent's encoder side — backbone weights under fine-tuning, prompts under
  prompt tuning, LoRA tensors under LoRA: every tensor under `encoder.` — and starts a fresh head.
- An evaluation takes everything from the stage it evaluates when both tasks are of one kind (the
  trained head answers the task), else the encoder side with a fresh head (Tatoeba evaluated with a
  SQuAD-trained encoder: the span head has no use for retrieval).
- A target's `head` configures the evaluated task's head; its training stage uses those options only
  when the training task is of the same kind, else the training kind's defaults.

The provenance text recorded for every stage is `policy(...)`, generated from the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlt.kinds import HeadOptions, get_kind

ENCODER = "encoder."  # TaskModel's parameter prefix of the adapted encoder (backbone and method tensors)
_ENCODER_SIDE = "from {source} (backbone weights and method tensors: prompts, LoRA)"


@dataclass(frozen=True)
class Carry:
    prefix: str  # checkpoint tensors whose names start with it are loaded ("" = all of them)
    head: str  # "trained" or "fresh"

    def policy(self, source: str) -> dict[str, str]:
        encoder = _ENCODER_SIDE.format(source=source)
        return {"encoder": encoder, "head": "from " + source if self.head == "trained" else "fresh"}


def into_training() -> Carry:
    return Carry(ENCODER, "fresh")


def into_evaluation(trained_kind: str, evaluated_kind: str) -> Carry:
    return Carry("", "trained") if trained_kind == evaluated_kind else Carry(ENCODER, "fresh")


def training_head(evaluated: HeadOptions, evaluated_kind: str, training_kind: str) -> HeadOptions:
    return evaluated if training_kind == evaluated_kind else get_kind(training_kind).HeadOptions()
