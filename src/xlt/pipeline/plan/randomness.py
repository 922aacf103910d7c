"""Every source of randomness in a study, for its provenance: with these and the config, a CPU run repeats.

Seeds are the study's (`seeds`), the embedded benchmark's, pretraining's and the report bootstrap's; the
rules say how each stage derives its streams from its seed. Thread counts and the deterministic flags
are recorded too: on CPU the same thread count gives the same sums; on GPUs kernels may not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from xlt.config import Study
from xlt.pipeline.plan.resources import Resources
from xlt.runtime.machine import cpu_kernels

RULES = {  # where each stream is derived from its seed (the code is the definition)
    "model": "xlt.pipeline.stage.build.build_task_model: method tensors and head from the stage seed",
    "dropout": "xlt.pipeline.stage.train: the torch seed of every step from (stage seed, step)",
    "batches": "xlt.data.mixing.MixtureSampler: language draws and example order from the stage seed",
    "pretraining": "xlt.pretrain: tokenizer, weights and batches from the pretraining seed",
    "synthetic_data": "xlt.data.synthetic: one stream per (purpose, split, language) from the data seed",
    "bootstrap": "xlt.report.contrasts: the bootstrap seed and the contrast's key",
}


def randomness(study: Study, resources: Resources) -> dict[str, Any]:
    pretrain = study.model.pretrain
    synthetic = study.data.synthetic
    return {
        "study_seeds": list(study.seeds),
        "synthetic_data_seed": synthetic.seed if synthetic is not None else None,
        "pretraining_seed": pretrain.resolved.seed if pretrain is not None else None,
        "bootstrap_seed": _bootstrap_seed(),
        "rules": RULES,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "torch_threads": torch.get_num_threads(),
        "cpu_kernels": cpu_kernels(),  # torch's CPU instruction set (xlt.runtime.machine)
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "model_identity": resources.identity["model"],
    }


def _bootstrap_seed() -> int:
    from xlt.report.stats import BOOTSTRAP_SEED  # here: the report's plotting libraries load in seconds

    return BOOTSTRAP_SEED
