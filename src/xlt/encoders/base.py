"""The contract every encoder family follows (one module per family in `xlt.encoders`).

A family knows how its Hugging Face model embeds tokens (which positions, whether and how token types), how one
of its layers runs with extra prefix keys and values under its own attention, how long an input may be, which
layer class FSDP shards and which linears LoRA adapts. Methods ask the family of their backbone (`family_of`) and never
name one. docs/encoders.md gives each family's design decisions and their sources.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from xlt.errors import XltError
from xlt.registry import Registry

# A Hugging Face encoder (`AutoModel`); families reach into it by name, which nn.Module's typing cannot express.
Backbone = Any


@dataclass
class Layout:
    """Where the rows of a prompted forward pass come from.

    Keys are `prefix` prefix keys (deep prompts), then the query rows: `virtual` prompt rows (shallow prompts),
    then the input tokens. `key_mask` [batch, prefix + virtual + tokens] (bool) says which keys a query sees;
    `offset` is how many positions the input tokens are shifted by (deep prompts' `shift_positions`)."""

    key_mask: torch.Tensor
    prefix: int = 0
    virtual: int = 0
    offset: int = 0

    @property
    def attention_mask(self) -> torch.Tensor:
        """The input tokens' own mask [batch, tokens]."""
        return self.key_mask[:, self.prefix + self.virtual :]


class Family(ABC):
    """One encoder architecture family; instances are stateless and registered under `name`."""

    name: ClassVar[str]
    model_types: ClassVar[tuple[str, ...]]  # the `config.model_type`s of its Hugging Face models
    lora_targets: ClassVar[tuple[str, ...]]  # LoRA's default target modules: the query and value projections
    deep_prompts: ClassVar[bool] = True  # whether its attention takes prefix keys and values (see `refusal`)

    @abstractmethod
    def layers(self, backbone: Backbone) -> torch.nn.ModuleList: ...

    def layer_class(self, backbone: Backbone) -> str:
        """The name of the transformer layer class FSDP shards one by one."""
        return type(self.layers(backbone)[0]).__name__

    def max_input_length(self, config: Any, offset: int = 0) -> int:
        """The longest input (specials included) when the input tokens' positions are shifted by `offset`."""
        return config.max_position_embeddings - offset

    def kv_width(self, config: Any) -> int:
        """The width of one layer's keys (and values): what a prefix key holds."""
        return config.hidden_size

    def token_types(self, config: Any) -> bool:
        """Whether the model embeds token types (a pair's second segment as type 1, as BERT was pretrained): where
        its config has more than one. Pair features carry them only then (`xlt.data.features`)."""
        return getattr(config, "type_vocab_size", 0) > 1

    @abstractmethod
    def embed(
        self,
        backbone: Backbone,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        offset: int,
        token_type_ids: torch.Tensor | None,
    ):
        """Layer-0 hidden states of the input tokens, their positions shifted by `offset`; `token_type_ids` (None:
        all 0) only where `token_types` says the model embeds them."""

    def context(self, backbone: Backbone, hidden: torch.Tensor, layout: Layout) -> Any:
        """What every layer of one forward pass shares (masks, rotary angles, relative embeddings)."""
        return layout.key_mask[:, None, None, :]  # broadcast over heads and queries

    @abstractmethod
    def layer(self, layer: Any, hidden: torch.Tensor, prefix: torch.Tensor | None, context: Any) -> torch.Tensor:
        """One layer on `hidden` [batch, rows, hidden] with `prefix` [2, batch, P, kv_width] keys and values."""

    def outputs(self, backbone: Backbone, states: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The last hidden state and the hidden states the model's own forward returns, from the embeddings and
        each layer's output (a final norm, where the family has one, as the model applies it)."""
        return states[-1], states

    def refusal(self, backbone: Backbone, method: str) -> str | None:
        """Why `method` cannot run on this backbone, or None when it can."""
        if method == "deep_prompt" and not self.deep_prompts:
            return f"the {self.name} family's attention takes no prefix keys"
        return None


FAMILIES: Registry[Family] = Registry("encoder family", "xlt.encoders")
_BY_MODEL_TYPE: dict[str, Family] = {}


def register(family: Family) -> Family:
    FAMILIES.register(family.name, family)
    for model_type in family.model_types:
        _BY_MODEL_TYPE[model_type] = family
    return family


def family_of(backbone: Backbone) -> Family:
    return family_for(backbone.config)


def family_for(config: Any) -> Family:
    """The family of a model with this config (what `family_of` asks of a loaded backbone)."""
    model_type = config.model_type
    list(FAMILIES)  # a plugin's families register at the registry's first lookup
    if model_type not in _BY_MODEL_TYPE:
        known = ", ".join(sorted(_BY_MODEL_TYPE))
        raise XltError(
            f"xlt has no encoder family for model type {model_type!r} (known: {known}); "
            "choose a checkpoint of a listed family or add one (docs/encoders.md)"
        )
    return _BY_MODEL_TYPE[model_type]


def split_heads(x: torch.Tensor, head_size: int) -> torch.Tensor:
    """[batch, rows, heads x head_size] -> [batch, heads, rows, head_size]."""
    return x.view(x.shape[0], x.shape[1], x.shape[2] // head_size, head_size).transpose(1, 2)


def with_prefix(key: torch.Tensor, value: torch.Tensor, prefix: torch.Tensor | None):
    """Keys and values [batch, kv heads, rows, head_size] with the prefix's prepended; cast: under autocast the
    projections are half precision, the prompts float32."""
    if prefix is None:
        return key, value
    head_size = key.shape[-1]
    key = torch.cat([split_heads(prefix[0].to(key.dtype), head_size), key], dim=2)
    value = torch.cat([split_heads(prefix[1].to(value.dtype), head_size), value], dim=2)
    return key, value


def rotary_rows(layout: Layout, rows: int, device: torch.device) -> torch.Tensor:
    """Rotary positions [1, rows] of the query rows: virtual rows at 0, which leaves them unrotated like prefix
    keys; input tokens from `offset` on."""
    tokens = torch.arange(rows - layout.virtual, device=device) + layout.offset
    return torch.cat([torch.zeros(layout.virtual, dtype=torch.long, device=device), tokens])[None]


def attend(module: Any, query, key, value, mask, dropout: float, scale: float) -> torch.Tensor:
    """Scaled dot-product attention, merged back to [batch, rows, heads x head_size]."""
    context = F.scaled_dot_product_attention(
        query, key, value, attn_mask=mask, dropout_p=dropout if module.training else 0.0, scale=scale
    )
    batch, heads, rows, head_size = context.shape
    return context.transpose(1, 2).reshape(batch, rows, heads * head_size)
