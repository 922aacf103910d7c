"""Deep prompt tuning (P-tuning v2 / prefix tuning): trainable keys and values prepended in every layer.

Hand-written rather than PEFT's prefix tuning, which goes through HF's cache API and fails on XLM-R
with current transformers (see `xlt.methods.common` for how the layers are run).
"""

from __future__ import annotations

import torch
from torch import nn

from xlt.encoders import Layout
from xlt.methods.base import Backbone, Method, register
from xlt.methods.common import PromptedEncoder, PromptOptions, run_layers


class DeepPromptOptions(PromptOptions):
    # An MLP over a P x hidden embedding produces the prefixes (P-tuning v2's "prefix projection");
    # it learned only at lr <= 3e-3 in the synthetic benchmark, so lower `lr` when turning it on.
    reparameterize: bool = False
    reparam_hidden_size: int = 512
    prompt_dropout: float = 0.1  # on the prefix keys/values, as P-tuning v2; independent of encoder dropout
    # True (the papers' code, HF's behaviour with a cache): real tokens start at position 2 + P;
    # False: real tokens keep the positions they had in pretraining.
    shift_positions: bool = True


class PrefixTable(nn.Module):
    """The prefix keys and values of every layer, [layers, 2, P, width], free or through an MLP (`width`: a layer's
    key width, the hidden size but under grouped-query attention)."""

    def __init__(self, layers: int, hidden: int, width: int, options: DeepPromptOptions):
        super().__init__()
        self.shape = (layers, 2, options.prompt_length, width)
        if options.reparameterize:
            self.embedding = nn.Parameter(torch.randn(options.prompt_length, hidden) * options.init_std)
            self.mlp = nn.Sequential(
                nn.Linear(hidden, options.reparam_hidden_size),
                nn.Tanh(),
                nn.Linear(options.reparam_hidden_size, layers * 2 * width),
            )
        else:
            self.table = nn.Parameter(torch.randn(self.shape) * options.init_std)

    def forward(self) -> torch.Tensor:
        if not hasattr(self, "mlp"):
            return self.table
        layers, _, length, width = self.shape
        # columns ordered layer by layer, key before value (the P-tuning v2 / PEFT layout)
        return self.mlp(self.embedding).view(length, layers, 2, width).permute(1, 2, 0, 3)


class DeepPromptEncoder(PromptedEncoder):
    def __init__(self, backbone: Backbone, options: DeepPromptOptions):
        super().__init__(backbone, options)
        config = backbone.config
        width = self.family.kv_width(config)
        self.prompts = PrefixTable(config.num_hidden_layers, config.hidden_size, width, options)
        self.prompt_dropout = nn.Dropout(options.prompt_dropout)
        self.position_offset = options.prompt_length if options.shift_positions else 0

    @property
    def max_input_length(self) -> int:
        return self.family.max_input_length(self.backbone.config, self.position_offset)

    def forward(self, input_ids, attention_mask, output_hidden_states: bool = False, token_type_ids=None):
        hidden = self.embed(input_ids, attention_mask, self.position_offset, token_type_ids)
        table = self.prompts()
        prefixes = self.prompt_dropout(table.unsqueeze(2).expand(-1, -1, input_ids.shape[0], -1, -1))
        layout = Layout(self.prompt_key_mask(attention_mask), prefix=self.prompt_length, offset=self.position_offset)
        states = run_layers(self.backbone, hidden, layout, prefixes)
        return self.output(states, output_hidden_states)


@register
class DeepPrompt(Method[DeepPromptOptions]):
    name = "deep_prompt"
    Options = DeepPromptOptions

    def adapt(self, backbone: Backbone, options: DeepPromptOptions) -> DeepPromptEncoder:
        return DeepPromptEncoder(backbone, options)
