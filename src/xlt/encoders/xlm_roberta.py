"""XLM-R (and Glot500, multilingual-e5-base/large, RoBERTa): BERT's layers with fairseq's positions, which count
from padding_idx + 1 for real tokens and give padding padding_idx."""

from __future__ import annotations

from typing import ClassVar

import torch

from xlt.encoders.base import register
from xlt.encoders.bert import Bert


class XlmRoberta(Bert):
    name = "xlm-roberta"
    model_types: ClassVar[tuple[str, ...]] = ("xlm-roberta", "roberta")

    def max_input_length(self, config, offset=0):
        return config.max_position_embeddings - 2 - offset  # positions 0 and 1 are never a token's

    def position_ids(self, backbone, attention_mask: torch.Tensor, offset: int) -> torch.Tensor:
        """Real tokens count up from pad_token_id + 1 + offset; padding gets pad_token_id (as fairseq)."""
        mask = attention_mask.long()
        return (torch.cumsum(mask, dim=1) + offset) * mask + backbone.embeddings.padding_idx


register(XlmRoberta())
