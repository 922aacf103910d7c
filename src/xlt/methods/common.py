"""Pieces shared by the method modules: the plain Hugging Face encoder and the frozen, prompted one.

Prompted encoders run the backbone's own submodules layer by layer instead of calling its forward:
HF's attention dispatch, mask helpers and cache API have changed several times across transformers
releases (PEFT's prefix tuning on XLM-R broke that way), while the submodules (embeddings, q/k/v
linears, attention output, feed-forward) have kept their shape. Owning the attention step keeps
prefix keys/values and virtual tokens working whatever `_attn_implementation` or cache class is current; how a
layer of each architecture runs is its family's (`xlt.encoders`).
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from xlt.encoders import Layout, family_of
from xlt.methods.base import Backbone, Encoder, EncoderOutput, MethodOptions


class PromptOptions(MethodOptions):
    """What every prompt method shares; the defaults are the recipe measured to learn on the synthetic benchmark."""

    lr: float = 3e-2  # prompts; 1e-2 was too low, 1e-1 never learned
    head_lr: float | None = 3e-3
    steps_scale: float = 2.0  # prompts need a longer budget than fine-tuning to learn the same task
    prompt_length: int = Field(16, ge=0)  # 0: no prompt, the frozen encoder under a trainable head
    init_std: float = Field(0.5, gt=0)  # prompts start as N(0, init_std^2)
    # False: the frozen backbone stays in eval mode (no dropout) while prompts train, which learned better;
    # True: the papers' code, where the backbone's dropout stays on.
    encoder_dropout: bool = False


def freeze(module: nn.Module) -> nn.Module:
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module


def run_layers(backbone: Backbone, hidden: torch.Tensor, layout: Layout, prefixes=None) -> list[torch.Tensor]:
    """Run every transformer layer of `backbone` on `hidden` [batch, rows, hidden], as its family runs them.

    `layout` says which rows are virtual and which keys each query sees; `prefixes` [layers, 2, batch, P, kv width]
    holds the keys and values prepended in each layer (None: none). Returns the input and every layer's output.
    """
    from xlt.runtime.distributed import as_forward  # here: xlt.methods loads without accelerate

    family = family_of(backbone)
    context = family.context(backbone, hidden, layout)
    states = [hidden]
    for index, layer in enumerate(family.layers(backbone)):
        prefix = None if prefixes is None else prefixes[index]
        hidden = as_forward(layer, family.layer)(hidden, prefix, context)  # FSDP gathers a sharded layer for it
        states.append(hidden)
    return states


class BackboneEncoder(Encoder):
    """The backbone's own forward (full fine-tuning, LoRA): nothing virtual, every row is an input token."""

    def __init__(self, backbone: Backbone):
        super().__init__()
        self.backbone = backbone

    def forward(
        self, input_ids, attention_mask, output_hidden_states: bool = False, token_type_ids=None
    ) -> EncoderOutput:
        # token types only when given: ModernBERT's and EuroBERT's forwards take none
        types = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        out = self.backbone(
            input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=output_hidden_states, **types
        )
        return EncoderOutput(out.last_hidden_state, out.hidden_states if output_hidden_states else None)


class PromptedEncoder(Encoder):
    """A frozen backbone (pooler included) under trainable prompts, run by `run_layers`."""

    def __init__(self, backbone: Backbone, options: PromptOptions):
        super().__init__()
        self.backbone = freeze(backbone)
        self.family = family_of(backbone)
        self.prompt_length = options.prompt_length
        self.encoder_dropout = options.encoder_dropout

    def train(self, mode: bool = True) -> PromptedEncoder:
        super().train(mode)
        if not self.encoder_dropout:
            self.backbone.eval()
        return self

    def embed(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, offset: int, token_type_ids: torch.Tensor | None
    ) -> torch.Tensor:
        """The input tokens' layer-0 hidden states, their token types embedded by the family. Prompts count as
        type 0 (segment A): they come before the first segment and belong to no second one, the segment BERT
        learned type 1 for (PEFT's prompt tuning gives its virtual tokens type 0 likewise). Being trained vectors
        set after the embeddings (virtual rows, prefix keys and values), they get no type vector added, as they get
        no position vector: a constant added to a freely trained vector changes nothing it can learn."""
        if input_ids.shape[1] > self.max_input_length:  # else an index error deep inside the embeddings
            raise ValueError(
                f"inputs of {input_ids.shape[1]} tokens exceed this encoder's max_input_length "
                f"{self.max_input_length}; truncate features to encoder.max_input_length"
            )
        return self.family.embed(self.backbone, input_ids, attention_mask, offset, token_type_ids)

    def prompt_key_mask(self, attention_mask: torch.Tensor) -> torch.Tensor:
        """Prompt keys are always visible, padding keys never."""
        visible = attention_mask.new_ones(attention_mask.shape[0], self.prompt_length, dtype=torch.bool)
        return torch.cat([visible, attention_mask.bool()], dim=1)

    def output(self, states: list[torch.Tensor], output_hidden_states: bool, strip: int = 0) -> EncoderOutput:
        """The family's outputs, without the first `strip` (virtual) rows so every row is an input token."""
        last, states = self.family.outputs(self.backbone, states)
        states = [state[:, strip:] for state in states]
        return EncoderOutput(last[:, strip:], tuple(states) if output_hidden_states else None)
