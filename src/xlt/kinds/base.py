"""The contract every task kind follows (one module per kind in `xlt.kinds`), and what a kind owns.

A kind is the single owner of everything tasks of its shape share: its name in the kind registry,
the example shape its loaders produce, its default metrics and scorer, its submission format, its
typed task settings (QA windows, ranking similarity), its head options, and the code that featurises
examples with a fast tokenizer (offsets, windows: never silent truncation), the head that sits on an
`Encoder`, the loss, and decoding per-feature outputs back into one prediction per example. A
`TaskSpec` states only what differs from its kind's defaults. A kind never knows which task or
method uses it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from pydantic import BaseModel, ConfigDict
from torch import nn

from xlt.errors import XltError
from xlt.methods.base import Encoder
from xlt.registry import Registry

if TYPE_CHECKING:
    from xlt.tasks.spec import TaskSpec


class HeadOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dropout: float = 0.1


AnyHeadOptions = HeadOptions  # the name for annotations inside Kind, whose attribute HeadOptions shadows it


class KindSettings(BaseModel):
    """Task-level preprocessing and decoding settings of a kind (a task's `settings`); none by default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Kind(ABC):
    name: ClassVar[str]
    metrics: ClassVar[tuple[str, ...]]  # a task's result metrics unless it names its own, primary first
    scorer: ClassVar[str]  # key of `xlt.metrics.SCORERS` unless the task names another
    submission: ClassVar[str] = "lines"  # XTREME submission format (`xlt.submission.FORMATS`) unless the task's
    HeadOptions: ClassVar[type[HeadOptions]] = HeadOptions
    Settings: ClassVar[type[KindSettings]] = KindSettings
    # True when a feature's output depends on its inputs alone and whole feature sets recur across the
    # languages of one evaluation (a shared candidate pool): the evaluator then runs each input once
    reuse_outputs: ClassVar[bool] = False
    # False when a prediction is not one example's (mining predicts the language's pair list): no per-example file
    per_example: ClassVar[bool] = True
    # False when `majority` reads no training labels (chance, or no answer): a task without a train split of its
    # own then needs none for its majority reference (`TaskSpec.majority_task`)
    majority_counts_labels: ClassVar[bool] = True
    # True when its features may encode two segments (a sentence pair, a question and its context, a candidate and
    # its context): for an encoder that embeds token types they carry the pair's, which its stage hashes then name
    pairs: ClassVar[bool] = False

    @abstractmethod
    def featurize(self, examples: list[dict], tokenizer: Any, spec: TaskSpec, max_length: int) -> list[dict]:
        """Model-ready features (lists of ints), each with an "example_index" into `examples`."""

    @abstractmethod
    def collate(self, features: list[dict]) -> dict[str, torch.Tensor]:
        """Pad a list of features into a batch (labels included when the features have them)."""

    @abstractmethod
    def build_head(self, encoder: Encoder, spec: TaskSpec, options: AnyHeadOptions) -> nn.Module:
        """A module whose forward(encoder, batch) runs the encoder as it needs and returns outputs."""

    def loss(self, outputs: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        raise XltError(
            f"the {self.name} kind has no training objective: train the encoder on the task's "
            "train_task, or evaluate it untrained (training steps: 0)"
        )

    def loss_terms(self, features: list[dict]) -> int:
        """How many terms `loss` averages over for these features (one per example unless the loss is per
        token): a global batch split across processes weighs each share's loss by its terms."""
        return len(features)

    @abstractmethod
    def decode(self, outputs: list[torch.Tensor], features: list[dict], examples: list[dict], spec: TaskSpec) -> list:
        """One prediction per scored example, of the type the kind's module docstring names."""

    @abstractmethod
    def gold(self, example: dict, spec: TaskSpec) -> Any:
        """The reference for one scored example, in the form the task's scorer takes."""

    @abstractmethod
    def majority(self, train_examples: list[dict], examples: list[dict], spec: TaskSpec) -> list:
        """Predictions of the reference that always predicts the most frequent training label (or chance)."""

    def scored(self, examples: list[dict]) -> list[dict]:
        """The examples that get a prediction and a gold: all of them, unless the kind also reads examples
        that are only searched (a candidate pool) or only calibrate (BUCC's dev threshold)."""
        return examples


KINDS: Registry[Kind] = Registry("task kind", "xlt.kinds")


def register(kind: Kind) -> Kind:
    KINDS.register(kind.name, kind)
    return kind


def get_kind(name: str) -> Kind:
    return KINDS.get(name)
