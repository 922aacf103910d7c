"""Full fine-tuning: every backbone weight trains. `init: random` is the no-pretraining reference."""

from __future__ import annotations

from typing import Literal

from xlt.methods.base import Backbone, Method, MethodOptions, register
from xlt.methods.common import BackboneEncoder


class FinetuneOptions(MethodOptions):
    lr: float = 5e-5
    # "random": the same architecture freshly initialised from its config (torch's global RNG, seeded by
    # the caller) — shows how much of a transfer score pretraining explains.
    init: Literal["pretrained", "random"] = "pretrained"


@register
class Finetune(Method[FinetuneOptions]):
    name = "finetune"
    Options = FinetuneOptions

    def adapt(self, backbone: Backbone, options: FinetuneOptions) -> BackboneEncoder:
        if options.init == "random":
            pooled = {"add_pooling_layer": backbone.pooler is not None} if hasattr(backbone, "pooler") else {}
            fresh = type(backbone)(backbone.config, **pooled)
            backbone = fresh.to(device=backbone.device, dtype=backbone.dtype)
        backbone.requires_grad_(True)
        return BackboneEncoder(backbone)
