"""Shallow prompt tuning (Lester et al. style): P trainable vectors prepended to the input sequence only.

Positions: the prompts are inserted after the embedding layer, as ready layer-0 hidden states with no
position of their own (under rotary attention unrotated, under DeBERTa without relative terms: docs/encoders.md),
so real tokens keep the positions they had in pretraining and the usable input length is the backbone's. The
virtual rows are stripped from every output, so tagging and QA heads see one row per input token.
"""

from __future__ import annotations

import torch
from torch import nn

from xlt.encoders import Layout
from xlt.methods.base import Backbone, Method, register
from xlt.methods.common import PromptedEncoder, PromptOptions, run_layers


class ShallowPromptEncoder(PromptedEncoder):
    def __init__(self, backbone: Backbone, options: PromptOptions):
        super().__init__(backbone, options)
        self.prompts = nn.Parameter(torch.randn(options.prompt_length, backbone.config.hidden_size) * options.init_std)

    def forward(self, input_ids, attention_mask, output_hidden_states: bool = False, token_type_ids=None):
        hidden = self.embed(input_ids, attention_mask, 0, token_type_ids)
        prompts = self.prompts.to(hidden.dtype).unsqueeze(0).expand(input_ids.shape[0], -1, -1)
        layout = Layout(self.prompt_key_mask(attention_mask), virtual=self.prompt_length)
        states = run_layers(self.backbone, torch.cat([prompts, hidden], dim=1), layout)
        return self.output(states, output_hidden_states, strip=self.prompt_length)


@register
class ShallowPrompt(Method[PromptOptions]):
    name = "shallow_prompt"
    Options = PromptOptions

    def adapt(self, backbone: Backbone, options: PromptOptions) -> ShallowPromptEncoder:
        return ShallowPromptEncoder(backbone, options)
