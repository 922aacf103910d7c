"""The contract every adaptation method follows (one module per method in `xlt.methods`).

A method turns a pretrained Hugging Face encoder (`AutoModel` of a family in `xlt.encoders`) into an `Encoder`:
an `nn.Module` whose forward maps (input_ids, attention_mask, and token_type_ids where the backbone embeds
them) to hidden states aligned with the *input* tokens (virtual prompt positions already stripped), and whose
trainable parameters are exactly what the method trains. Heads (`xlt.kinds`) sit on top and never know the method.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

import torch
from pydantic import BaseModel, ConfigDict
from torch import nn

from xlt.encoders.base import Backbone, family_of
from xlt.registry import Registry


class MethodOptions(BaseModel):
    """Hyperparameters of a method, including its training defaults (overridable from the config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lr: float = 5e-5  # learning rate of the method's own trainable tensors (encoder, prompts, LoRA)
    head_lr: float | None = None  # learning rate of the task head; None = lr
    weight_decay: float = 0.0
    warmup_ratio: float = 0.06
    steps_scale: float = 1.0  # multiplies a stage's step budget (prompt tuning wants longer budgets)


@dataclass
class EncoderOutput:
    last_hidden_state: torch.Tensor  # [batch, tokens, hidden], one row per input token
    hidden_states: tuple[torch.Tensor, ...] | None = None  # embeddings + every layer, when asked


class Encoder(nn.Module, ABC):
    """A backbone as adapted by a method. `backbone` is the Hugging Face model (its config, pooler)."""

    backbone: Backbone

    @property
    def hidden_size(self) -> int:
        return self.backbone.config.hidden_size

    @property
    def max_input_length(self) -> int:
        """Longest input (real tokens, specials included) this encoder accepts."""
        return family_of(self.backbone).max_input_length(self.backbone.config)

    @property
    def token_types(self) -> bool:
        """Whether the backbone embeds token types: only then are `token_type_ids` given to `forward`."""
        return family_of(self.backbone).token_types(self.backbone.config)

    @abstractmethod
    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        output_hidden_states: bool = False,
        token_type_ids: torch.Tensor | None = None,
    ) -> EncoderOutput: ...


OptionsT = TypeVar("OptionsT", bound=MethodOptions)


class Method(ABC, Generic[OptionsT]):
    name: ClassVar[str]
    Options: ClassVar[type[MethodOptions]] = MethodOptions

    @abstractmethod
    def adapt(self, backbone: Backbone, options: OptionsT) -> Encoder:
        """Wrap `backbone`; freeze what the method freezes; add what it trains."""


METHODS: Registry[type[Method[Any]]] = Registry("method", "xlt.methods")


def register(cls: type[Method[Any]]) -> type[Method[Any]]:
    METHODS.register(cls.name, cls)
    return cls


def get_method(name: str) -> type[Method[Any]]:
    return METHODS.get(name)
