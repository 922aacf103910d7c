"""LoRA through PEFT: low-rank updates injected into the backbone's attention linears, the rest frozen."""

from __future__ import annotations

from xlt.encoders import family_of
from xlt.methods.base import Backbone, Method, MethodOptions, register
from xlt.methods.common import BackboneEncoder


class LoraOptions(MethodOptions):
    lr: float = 5e-4
    r: int = 8
    alpha: int = 16
    dropout: float = 0.1
    target_modules: tuple[str, ...] | None = None  # None: the family's query and value projections


@register
class Lora(Method[LoraOptions]):
    name = "lora"
    Options = LoraOptions

    def adapt(self, backbone: Backbone, options: LoraOptions) -> BackboneEncoder:
        # imported here: peft takes seconds to import, and every `xlt` process (a cluster job's too) loads
        # the method registry, most without training LoRA
        from peft import LoraConfig, inject_adapter_in_model

        config = LoraConfig(
            r=options.r,
            lora_alpha=options.alpha,
            lora_dropout=options.dropout,
            target_modules=list(options.target_modules or family_of(backbone).lora_targets),
        )
        # injected in place, so the encoder's backbone stays the HF model (config, pooler) heads expect
        backbone = inject_adapter_in_model(config, backbone)
        for name, parameter in backbone.named_parameters():
            parameter.requires_grad_("lora_" in name)
        return BackboneEncoder(backbone)
