"""Resume points of a training stage, in its `resume/` folder.

A point is the trainable tensors of one step (`step-{n}/`, written first) and `state.pt` (optimizer,
scheduler, step, losses), which names that folder and the sha256 of its tensors. A kill between the two
writes leaves `state.pt` naming the previous point, whose folder is removed only after the new state is
written; so there is always one consistent point to resume from. A state that does not match its tensors
(or cannot be read) is reported in one line and the stage starts again from step 0: deterministic, so it
ends with the same weights, only later.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import torch
from rich.console import Console

from xlt.io import atomic_write_bytes, file_digest
from xlt.model import WEIGHTS, TaskModel, load_trainable, save_tensors

STATE = "state.pt"


def save_point(directory: Path, tensors: dict[str, torch.Tensor], state: dict) -> None:
    name = f"step-{state['step']:08d}"
    digest = save_tensors(tensors, directory / name)
    buffer = io.BytesIO()
    torch.save({**state, "tensors": name, "tensors_sha256": digest}, buffer)
    atomic_write_bytes(directory / STATE, buffer.getvalue())
    for older in directory.glob("step-*"):
        if older.name != name:
            shutil.rmtree(older, ignore_errors=True)


def load_point(directory: Path, model: TaskModel) -> dict | None:
    """The saved state, with the model's trainable tensors restored from it; None to start from step 0."""
    path = directory / STATE
    if not path.is_file():
        return None
    try:
        state = torch.load(path, weights_only=True)  # tensors and plain data only: no code is unpickled
    except Exception as err:  # noqa: BLE001 (a truncated or foreign file fails in many ways inside torch)
        _restart(path, f"cannot be read ({type(err).__name__})")
        return None
    if not isinstance(state, dict) or "tensors_sha256" not in state:
        _restart(path, "is not a resume state of this xlt version")
        return None
    tensors = directory / state["tensors"] / WEIGHTS
    if not tensors.is_file() or file_digest(tensors) != state["tensors_sha256"]:
        _restart(path, f"does not match its tensors {tensors.relative_to(directory)}")
        return None
    if state["step"] != len(state["losses"]):
        _restart(path, f"is inconsistent (step {state['step']}, {len(state['losses'])} losses)")
        return None
    load_trainable(model, tensors.parent)
    return state


def _restart(path: Path, problem: str) -> None:
    Console(stderr=True).print(
        f"warning: the resume checkpoint {path} {problem}; the stage starts again from step 0",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return None
