"""BERT (mBERT, multilingual-e5-small / MiniLM): learned absolute positions from 0, token types, post-LN layers
of standard multi-head attention. A deep prompt's prefix keys and values are concatenated before the layer's
own (P-tuning v2); they have no position of their own, so nothing about them depends on the position scheme.
"""

from __future__ import annotations

from typing import ClassVar

import torch

from xlt.encoders.base import Family, attend, register, split_heads, with_prefix


class Bert(Family):
    name = "bert"
    model_types: ClassVar[tuple[str, ...]] = ("bert",)
    lora_targets = ("query", "value")

    def layers(self, backbone):
        return backbone.encoder.layer

    def position_ids(self, backbone, attention_mask: torch.Tensor, offset: int) -> torch.Tensor:
        """BERT's positions: 0, 1, ... (+ offset) for every row, padding included (its mask hides padding)."""
        length = attention_mask.shape[1]
        return (torch.arange(length, device=attention_mask.device) + offset).expand_as(attention_mask)

    def embed(self, backbone, input_ids, attention_mask, offset, token_type_ids):
        # token_type_ids None: segment A (0) throughout, as BertModel fills them when none are given
        return backbone.embeddings(
            input_ids=input_ids,
            position_ids=self.position_ids(backbone, attention_mask, offset),
            token_type_ids=token_type_ids,
        )

    def layer(self, layer, hidden, prefix, context):
        attended = layer.attention.output(self_attention(layer.attention.self, hidden, prefix, context), hidden)
        return layer.output(layer.intermediate(attended), attended)


def self_attention(attention, hidden: torch.Tensor, prefix, mask: torch.Tensor) -> torch.Tensor:
    """BERT-shaped self-attention (query, key, value linears; heads of `attention_head_size`) with a prefix."""
    size = attention.attention_head_size
    query, key, value = (
        split_heads(linear(hidden), size) for linear in (attention.query, attention.key, attention.value)
    )
    key, value = with_prefix(key, value, prefix)
    return attend(attention, query, key, value, mask, attention.dropout.p, attention.scaling)


register(Bert())
