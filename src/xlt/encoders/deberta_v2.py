"""DeBERTa-v2 and -v3 (mDeBERTa-v3): disentangled attention, where a score is content-to-content plus
content-to-position and position-to-content terms over bucketed relative positions; v3 has no absolute
positions (`position_biased_input: false`) and no token types.

Prefix keys and virtual prompt rows have no position, as in P-tuning v2's DeBERTa (THUDM/P-tuning-v2,
model/debertaV2.py, `DisentangledSelfAttention.forward`): their relative-position terms are zero and only the
content-to-content term scores them, under the same scale; the relative terms between input tokens are the
model's own. The attention runs eagerly, as transformers runs DeBERTa (it has no SDPA path).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from xlt.encoders.base import Family, Layout, register, split_heads, with_prefix


@dataclass
class _Context:
    mask: torch.Tensor  # [batch, 1, 1, keys] bool
    rel_embeddings: torch.Tensor | None
    skip: int  # leading query rows that are virtual (no position)


class DebertaV2(Family):
    name = "deberta-v2"
    model_types: ClassVar[tuple[str, ...]] = ("deberta-v2",)
    lora_targets = ("query_proj", "value_proj")

    def layers(self, backbone):
        return backbone.encoder.layer

    def max_input_length(self, config, offset=0):
        # relative positions only when position_biased_input is false: a prefix uses up no position
        return config.max_position_embeddings - (offset if config.position_biased_input else 0)

    def embed(self, backbone, input_ids, attention_mask, offset, token_type_ids):
        length = attention_mask.shape[1]
        positions = (torch.arange(length, device=input_ids.device) + offset).expand_as(input_ids)
        return backbone.embeddings(
            input_ids=input_ids, token_type_ids=token_type_ids, position_ids=positions, mask=attention_mask
        )

    def context(self, backbone, hidden, layout: Layout) -> _Context:
        return _Context(layout.key_mask[:, None, None, :], backbone.encoder.get_rel_embedding(), layout.virtual)

    def layer(self, layer, hidden, prefix, context):
        attended = layer.attention.output(_disentangled(layer.attention.self, hidden, prefix, context), hidden)
        return layer.output(layer.intermediate(attended), attended)

    def refusal(self, backbone, method):
        if method in ("deep_prompt", "shallow_prompt") and backbone.encoder.conv is not None:
            return "the convolution after DeBERTa-v2's first layer (conv_kernel_size > 0) is not run under prompts"
        return super().refusal(backbone, method)


def _disentangled(attention, hidden: torch.Tensor, prefix, context: _Context) -> torch.Tensor:
    """transformers' DisentangledSelfAttention.forward with prefix keys and values; the relative terms come from
    the module's own `disentangled_attention_bias` over the input tokens and are zero for any row without a
    position."""
    batch, rows, _ = hidden.shape
    heads, size = attention.num_attention_heads, attention.attention_head_size
    query, key, value = (
        split_heads(linear(hidden), size) for linear in (attention.query_proj, attention.key_proj, attention.value_proj)
    )
    scale_factor = 1 + ("c2p" in attention.pos_att_type) + ("p2c" in attention.pos_att_type)
    scale = torch.sqrt(torch.tensor(size, dtype=torch.float) * scale_factor).to(query.dtype)
    real_query, real_key = query[:, :, context.skip :], key[:, :, context.skip :]
    key, value = with_prefix(key, value, prefix)
    scores = query @ key.transpose(-1, -2) / scale
    if attention.relative_attention:
        rel_embeddings = attention.pos_dropout(context.rel_embeddings)
        flat = [t.reshape(batch * heads, -1, size) for t in (real_query, real_key)]
        relative = attention.disentangled_attention_bias(*flat, None, rel_embeddings, scale_factor)
        tokens = real_query.shape[2]
        before = (key.shape[2] - tokens, 0, rows - tokens, 0)  # zeros for the rows and keys without a position
        scores = scores + F.pad(relative.view(batch, heads, tokens, tokens), before)
    scores = scores.masked_fill(~context.mask, torch.finfo(query.dtype).min)
    probs = attention.dropout(torch.softmax(scores, dim=-1))
    return (probs @ value).transpose(1, 2).reshape(batch, rows, heads * size)


register(DebertaV2())
