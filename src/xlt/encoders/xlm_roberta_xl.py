"""XLM-R XL and XXL: XLM-R's positions and attention in pre-LN layers (a norm before attention and before the
feed-forward block) and one more norm after the last layer."""

from __future__ import annotations

from typing import ClassVar

from xlt.encoders.base import register
from xlt.encoders.bert import self_attention
from xlt.encoders.xlm_roberta import XlmRoberta


class XlmRobertaXl(XlmRoberta):
    name = "xlm-roberta-xl"
    model_types: ClassVar[tuple[str, ...]] = ("xlm-roberta-xl",)

    def layer(self, layer, hidden, prefix, context):
        normed = layer.attention.self_attn_layer_norm(hidden)
        attended = layer.attention.output(self_attention(layer.attention.self, normed, prefix, context), hidden)
        return layer.output(layer.intermediate(layer.LayerNorm(attended)), attended)

    def outputs(self, backbone, states):
        last = backbone.encoder.LayerNorm(states[-1])
        return last, [*states[:-1], last]


register(XlmRobertaXl())
