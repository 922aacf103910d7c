"""Build a stage's model: the backbone from its source, adapted by the method, topped by the kind's head."""

from __future__ import annotations

from functools import lru_cache

import torch
import transformers

from xlt.errors import XltError
from xlt.kinds import HeadOptions, get_kind
from xlt.methods import MethodOptions, get_method
from xlt.model import TaskModel
from xlt.pipeline.plan.resources import Resources
from xlt.tasks import TaskSpec


def _source_kwargs(res: Resources) -> dict:
    return {"revision": res.revision, "trust_remote_code": res.trust_remote_code}


def load_tokenizer(res: Resources):
    return _tokenizer(res.model_path, res.revision, res.trust_remote_code)


@lru_cache(maxsize=4)
def _tokenizer(path: str, revision: str | None, trust_remote_code: bool):
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            path, revision=revision, trust_remote_code=trust_remote_code
        )
    except (OSError, ValueError) as err:
        raise XltError(f"cannot load the tokenizer of {path!r}: {_first_line(err)}") from None
    if not tokenizer.is_fast:
        raise XltError(f"{path!r} has no fast tokenizer; xlt needs offset mappings (a tokenizer.json)")
    return tokenizer


def load_backbone(res: Resources) -> torch.nn.Module:
    try:
        return transformers.AutoModel.from_pretrained(res.model_path, use_safetensors=True, **_source_kwargs(res))
    except (OSError, ValueError) as err:
        raise XltError(f"cannot load the encoder {res.model_path!r}: {_first_line(err)}") from None


def build_task_model(
    method: str, method_options: MethodOptions, spec: TaskSpec, head_options: HeadOptions, res: Resources, seed: int
) -> TaskModel:
    torch.manual_seed(seed)  # method tensors (prompts, LoRA) and the head start from the seed
    encoder = get_method(method)().adapt(load_backbone(res), method_options)
    return TaskModel(encoder, get_kind(spec.kind).build_head(encoder, spec, head_options))


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    line = text.splitlines()[0] if text else type(err).__name__
    if "custom code" in text or "trust_remote_code" in text:  # xlt never runs a checkpoint's code unless told to
        line += " (it needs its own code: set model.trust_remote_code: true only if you have read and trust it)"
    return line
