"""EuroBERT: Llama's layers made bidirectional: rotary positions, RMSNorm, grouped-query attention (fewer key and
value heads than query heads, each shared by a group of query heads).

A prefix is sized by the key-value heads (P x kv_heads x head_dim per layer for keys and as many for values) and
repeated to the query heads as the model repeats its own keys (`repeat_kv`). Prefix keys are unrotated
(position 0), as in `xlt.encoders.modernbert` and for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from xlt.encoders.base import Family, Layout, attend, register, rotary_rows, split_heads, with_prefix


@dataclass
class _Context:
    mask: torch.Tensor  # [batch, 1, 1, keys] bool
    angles: tuple[torch.Tensor, torch.Tensor]  # the rows' rotary cos and sin


class EuroBert(Family):
    name = "eurobert"
    model_types: ClassVar[tuple[str, ...]] = ("eurobert",)
    lora_targets = ("q_proj", "v_proj")

    def layers(self, backbone):
        return backbone.layers

    def kv_width(self, config):
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        return config.num_key_value_heads * head_dim

    def embed(self, backbone, input_ids, attention_mask, offset, token_type_ids):
        return backbone.embed_tokens(input_ids)  # its config has no token types: none are given

    def context(self, backbone, hidden, layout: Layout) -> _Context:
        positions = rotary_rows(layout, hidden.shape[1], hidden.device)
        return _Context(layout.key_mask[:, None, None, :], backbone.rotary_emb(hidden, positions))

    def layer(self, layer, hidden, prefix, context):
        # imported here: transformers has EuroBERT since 5.x only, and xlt supports releases without it (5.2)
        from transformers.models.eurobert.modeling_eurobert import apply_rotary_pos_emb, repeat_kv

        attention = layer.self_attn
        normed = layer.input_layernorm(hidden)
        query, key, value = (
            split_heads(linear(normed), attention.head_dim)
            for linear in (attention.q_proj, attention.k_proj, attention.v_proj)
        )
        query, key = apply_rotary_pos_emb(query, key, *context.angles)
        key, value = with_prefix(key, value, prefix)
        groups = attention.num_key_value_groups
        key, value = repeat_kv(key, groups), repeat_kv(value, groups)
        attended = attend(attention, query, key, value, context.mask, attention.attention_dropout, attention.scaling)
        hidden = hidden + attention.o_proj(attended)
        return hidden + layer.mlp(layer.post_attention_layernorm(hidden))

    def outputs(self, backbone, states):
        last = backbone.norm(states[-1])
        return last, [*states[:-1], last]  # EuroBertModel reports the normed output as its last hidden state


register(EuroBert())
