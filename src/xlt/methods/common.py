"""Pieces shared by the method modules: the plain Hugging Face encoder and the frozen, prompted one.

Prompted encoders run the backbone's own submodules layer by layer instead of calling its forward:
HF's attention dispatch, mask helpers and cache API have changed several times across transformers
releases (PEFT's prefix tuning on XLM-R broke that way), while the submodules (embeddings, q/k/v
linears, attention output, feed-forward) have kept their shape. Owning the attention step keeps
prefix keys/values and virtual tokens working whatever `_attn_implementation` or cache class is current.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from xlt.methods.base import Backbone, Encoder, EncoderOutput, MethodOptions


class PromptOptions(MethodOptions):
    """What every prompt method shares; the defaults are the recipe measured to learn on the synthetic benchmark."""

    lr: float = 3e-2  # prompts; 1e-2 was too low, 1e-1 never learned
    head_lr: float | None = 3e-3
    steps_scale: float = 2.0  # prompts need a longer budget than fine-tuning to learn the same task
    prompt_length: int = Field(16, ge=1)
    init_std: float = Field(0.5, gt=0)  # prompts start as N(0, init_std^2)
    # False: the frozen backbone stays in eval mode (no dropout) while prompts train, which learned better;
    # True: the papers' code, where the backbone's dropout stays on.
    encoder_dropout: bool = False


def freeze(module: nn.Module) -> nn.Module:
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module


def position_ids(attention_mask: torch.Tensor, padding_idx: int, offset: int = 0) -> torch.Tensor:
    """XLM-R positions (fairseq style): real tokens count up from padding_idx + 1 + offset, padding gets padding_idx."""
    mask = attention_mask.long()
    return (torch.cumsum(mask, dim=1) + offset) * mask + padding_idx


def run_layers(
    backbone: Backbone,
    hidden: torch.Tensor,
    key_mask: torch.Tensor,
    prefixes: torch.Tensor | None = None,
) -> list[torch.Tensor]:
    """Run every transformer layer of `backbone` on `hidden` [batch, tokens, hidden].

    `key_mask` [batch, P + tokens] (bool) says which keys each query may attend to, prefix keys first;
    `prefixes` [layers, 2, batch, P, hidden] holds the keys and values prepended in each layer (P = 0: none).
    Returns the input and every layer's output.
    """
    from xlt.distributed import as_forward  # here: xlt.methods loads without accelerate

    mask = key_mask[:, None, None, :]  # broadcast over heads and queries
    states = [hidden]
    for index, layer in enumerate(backbone.encoder.layer):
        prefix = None if prefixes is None else prefixes[index]
        hidden = as_forward(layer, _prompted_layer)(hidden, mask, prefix)  # FSDP gathers a sharded layer for it
        states.append(hidden)
    return states


def _prompted_layer(layer: Any, hidden: torch.Tensor, mask: torch.Tensor, prefix) -> torch.Tensor:
    attended = layer.attention.output(_self_attention(layer.attention.self, hidden, mask, prefix), hidden)
    return layer.output(layer.intermediate(attended), attended)


def _self_attention(attention: Any, hidden: torch.Tensor, mask: torch.Tensor, prefix) -> torch.Tensor:
    batch, length, _ = hidden.shape
    heads, head_size = attention.num_attention_heads, attention.attention_head_size

    def split_heads(x: torch.Tensor) -> torch.Tensor:
        return x.view(batch, -1, heads, head_size).transpose(1, 2)

    query, key, value = (split_heads(linear(hidden)) for linear in (attention.query, attention.key, attention.value))
    if prefix is not None:  # cast: under autocast the projections are half precision, the prompts float32
        key = torch.cat([split_heads(prefix[0].to(key.dtype)), key], dim=2)
        value = torch.cat([split_heads(prefix[1].to(value.dtype)), value], dim=2)
    context = F.scaled_dot_product_attention(
        query,
        key,
        value,
        attn_mask=mask,
        dropout_p=attention.dropout.p if attention.training else 0.0,
        scale=attention.scaling,
    )
    return context.transpose(1, 2).reshape(batch, length, heads * head_size)


class BackboneEncoder(Encoder):
    """The backbone's own forward (full fine-tuning, LoRA): nothing virtual, every row is an input token."""

    def __init__(self, backbone: Backbone):
        super().__init__()
        self.backbone = backbone

    def forward(self, input_ids, attention_mask, output_hidden_states: bool = False) -> EncoderOutput:
        out = self.backbone(
            input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=output_hidden_states
        )
        return EncoderOutput(out.last_hidden_state, out.hidden_states if output_hidden_states else None)


class PromptedEncoder(Encoder):
    """A frozen backbone (pooler included) under trainable prompts, run by `run_layers`."""

    def __init__(self, backbone: Backbone, options: PromptOptions):
        super().__init__()
        self.backbone = freeze(backbone)
        self.prompt_length = options.prompt_length
        self.encoder_dropout = options.encoder_dropout

    def train(self, mode: bool = True) -> PromptedEncoder:
        super().train(mode)
        if not self.encoder_dropout:
            self.backbone.eval()
        return self

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, offset: int) -> torch.Tensor:
        if input_ids.shape[1] > self.max_input_length:  # else an index error deep inside the embeddings
            raise ValueError(
                f"inputs of {input_ids.shape[1]} tokens exceed this encoder's max_input_length "
                f"{self.max_input_length}; truncate features to encoder.max_input_length"
            )
        positions = position_ids(attention_mask, self.backbone.embeddings.padding_idx, offset)
        return self.backbone.embeddings(input_ids=input_ids, position_ids=positions)

    def prompt_key_mask(self, attention_mask: torch.Tensor) -> torch.Tensor:
        """Prompt keys are always visible, padding keys never."""
        visible = attention_mask.new_ones(attention_mask.shape[0], self.prompt_length, dtype=torch.bool)
        return torch.cat([visible, attention_mask.bool()], dim=1)

    @staticmethod
    def output(states: list[torch.Tensor], output_hidden_states: bool, strip: int = 0) -> EncoderOutput:
        """Drop the first `strip` (virtual) rows so every row is an input token."""
        states = [state[:, strip:] for state in states]
        return EncoderOutput(states[-1], tuple(states) if output_hidden_states else None)
