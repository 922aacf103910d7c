"""A task model is an adapted encoder plus a kind's head; its checkpoint is its trainable tensors only.

Saving only what trains makes a prompt or LoRA stage a few hundred kilobytes instead of a copy of the
encoder, and the same rule saves everything under full fine-tuning, so no method needs its own format.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from torch import nn

from xlt.encoders import family_of
from xlt.errors import XltError
from xlt.methods.base import Encoder
from xlt.runtime.io import atomic_write_bytes, atomic_write_json

WEIGHTS = "trainable.safetensors"
META = "trainable.json"


class TaskModel(nn.Module):
    def __init__(self, encoder: Encoder, head: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.head = head
        # what accelerate's FSDP shards one unit at a time when the launch's config names no layer class
        self._no_split_modules = [family_of(encoder.backbone).layer_class(encoder.backbone)]

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.head(self.encoder, batch)

    def trainable_state(self) -> dict[str, torch.Tensor]:
        return {name: p.detach() for name, p in self.named_parameters() if p.requires_grad}

    def count_parameters(self) -> dict[str, int]:
        params = list(self.parameters())
        return {
            "trainable": sum(p.numel() for p in params if p.requires_grad),
            "total": sum(p.numel() for p in params),
        }


def save_trainable(model: TaskModel, directory: Path, meta: dict | None = None) -> str:
    """Write the trainable tensors (safetensors) and their metadata atomically into `directory`;
    returns the sha256 of the tensors file."""
    return save_tensors(model.trainable_state(), directory, meta)


def save_tensors(tensors: dict[str, torch.Tensor], directory: Path, meta: dict | None = None) -> str:
    """`save_trainable` of tensors already taken from a model (`xlt.runtime.distributed.trainable_tensors`)."""
    data = save({name: t.contiguous().cpu() for name, t in tensors.items()})
    atomic_write_bytes(directory / WEIGHTS, data)
    atomic_write_json(directory / META, meta or {})
    return hashlib.sha256(data).hexdigest()


def load_trainable(model: nn.Module, directory: Path, prefix: str = "") -> list[str]:
    """Copy saved tensors whose names start with `prefix` into `model`; returns the names loaded.

    A missing or unreadable file, or tensors that do not fit the model (a prompt saved for another
    encoder's hidden size), raise one XltError before any tensor is copied."""
    path = directory / WEIGHTS
    try:
        saved = {k: v for k, v in load_file(str(path)).items() if k.startswith(prefix)}
    except (OSError, SafetensorError) as err:
        raise XltError(
            f"cannot read the checkpoint {path} ({err}); delete its stage directory to train it again"
        ) from None
    own = dict(model.named_parameters())
    unknown = sorted(set(saved) - set(own))
    if unknown:
        raise XltError(
            f"{path}: checkpoint tensor {unknown[0]!r} does not exist in the model; it was saved for"
            f" another method or encoder: delete its stage directory or use the model it was trained with"
        )
    for name, tensor in saved.items():
        if tensor.shape != own[name].shape:
            raise XltError(
                f"{path}: tensor {name!r} has shape {tuple(tensor.shape)} but the model needs"
                f" {tuple(own[name].shape)}: it was saved for an encoder of another size (hidden size, layers);"
                f" use the encoder it was trained with, or delete its stage directory to train it again"
            )
    with torch.no_grad():
        for name, tensor in saved.items():
            own[name].copy_(tensor)
    return sorted(saved)
