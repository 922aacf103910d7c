"""A task model is an adapted encoder plus a kind's head; its checkpoint is its trainable tensors only.

Saving only what trains makes a prompt or LoRA stage a few hundred kilobytes instead of a copy of the
encoder, and the same rule saves everything under full fine-tuning, so no method needs its own format.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save
from torch import nn

from xlt.io import atomic_write_bytes, atomic_write_json
from xlt.methods.base import Encoder

WEIGHTS = "trainable.safetensors"
META = "trainable.json"


class TaskModel(nn.Module):
    def __init__(self, encoder: Encoder, head: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.head = head

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


def save_trainable(model: TaskModel, directory: Path, meta: dict | None = None) -> None:
    """Write the trainable tensors (safetensors) and their metadata atomically into `directory`."""
    tensors = {name: t.contiguous().cpu() for name, t in model.trainable_state().items()}
    atomic_write_bytes(directory / WEIGHTS, save(tensors))
    atomic_write_json(directory / META, meta or {})


def load_trainable(model: TaskModel, directory: Path, prefix: str = "") -> list[str]:
    """Copy saved tensors whose names start with `prefix` into `model`; returns the names loaded."""
    saved = {k: v for k, v in load_file(str(directory / WEIGHTS)).items() if k.startswith(prefix)}
    own = dict(model.named_parameters())
    missing = sorted(set(saved) - set(own))
    if missing:
        raise ValueError(f"{directory}: checkpoint tensors {missing[:3]} do not exist in the model")
    with torch.no_grad():
        for name, tensor in saved.items():
            own[name].copy_(tensor)
    return sorted(saved)

