"""ModernBERT (mmBERT): rotary positions, no position embeddings, pre-LN layers that alternate global attention
with local sliding-window attention (`layer_types`; a local query sees keys within `sliding_window` positions).

Prefix keys are not rotated: a rotation at position 0 is the identity, so a prefix key sits at position 0 in
every layer, as a cached prefix does in transformers and PEFT's prefix tuning for rotary models (they store keys
already rotated and never rotate them again); being trained, the key learns whatever it needs at that angle.
Input tokens keep positions 0, 1, ... (or start at P with `shift_positions`). Local layers see the prefix too:
prompts are global context for every query, as P-tuning v2 puts them in every layer; hiding them from two
layers in three would leave those layers' prefixes untrained. The window applies between input tokens only.
Virtual rows (shallow prompts) are likewise unrotated, global keys, and see every key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from transformers.models.modernbert.modeling_modernbert import apply_rotary_pos_emb

from xlt.encoders.base import Family, Layout, attend, register, rotary_rows, with_prefix


@dataclass
class _Context:
    masks: dict[str, torch.Tensor]  # by layer type: [batch, 1, rows, keys] bool
    angles: dict[str, tuple[torch.Tensor, torch.Tensor]]  # by layer type: the rows' rotary cos and sin


class ModernBert(Family):
    name = "modernbert"
    model_types: ClassVar[tuple[str, ...]] = ("modernbert",)
    lora_targets = ("Wqkv",)  # query, key and value share one linear

    def layers(self, backbone):
        return backbone.layers

    def embed(self, backbone, input_ids, attention_mask, offset, token_type_ids):
        return backbone.embeddings(input_ids=input_ids)  # its config has no token types: none are given

    def context(self, backbone, hidden, layout: Layout) -> _Context:
        rows, device = hidden.shape[1], hidden.device
        token = torch.arange(rows - layout.virtual, device=device)
        near = (token[:, None] - token[None, :]).abs() <= backbone.config.sliding_window
        window = torch.ones(rows, layout.prefix + rows, dtype=torch.bool, device=device)
        window[layout.virtual :, layout.prefix + layout.virtual :] = near
        keys = layout.key_mask[:, None, None, :]
        positions = rotary_rows(layout, rows, device)
        types = set(backbone.config.layer_types)
        return _Context(
            {"full_attention": keys, "sliding_attention": keys & window},
            {kind: backbone.rotary_emb(hidden, positions, kind) for kind in types},
        )

    def layer(self, layer, hidden, prefix, context):
        attention = layer.attn
        batch, rows, _ = hidden.shape
        qkv = attention.Wqkv(layer.attn_norm(hidden)).view(batch, rows, 3, -1, attention.head_dim)
        query, key, value = (t.transpose(1, 2) for t in qkv.unbind(dim=2))
        query, key = apply_rotary_pos_emb(query, key, *context.angles[layer.attention_type])
        key, value = with_prefix(key, value, prefix)
        mask = context.masks[layer.attention_type]
        attended = attend(attention, query, key, value, mask, attention.attention_dropout, attention.head_dim**-0.5)
        hidden = hidden + attention.out_drop(attention.Wo(attended))
        return hidden + layer.mlp(layer.mlp_norm(hidden))

    def outputs(self, backbone, states):
        last = backbone.final_norm(states[-1])
        return last, [*states[:-1], last]  # ModernBertModel reports the normed output as its last hidden state


register(ModernBert())
