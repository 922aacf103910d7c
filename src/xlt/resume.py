"""Resume points of a training stage (in its `resume/` folder) and of pretraining (`xlt.pretrain`).

A point is the trainable tensors of one step (`step-{n}/`, written first) and `state.pt` (optimizer,
scheduler, step, losses, what else the loop needs), which names that folder and the sha256 of its tensors.
A kill between the two writes leaves `state.pt` naming the previous point, whose folder is removed only after
the new state is written; so there is always one consistent point to resume from. A state that does not
match its tensors (or cannot be read) is reported in one line and the run starts again from step 0:
deterministic, so it ends with the same weights, only later.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import torch
from rich.console import Console
from torch import nn

from xlt.model import WEIGHTS, load_trainable, save_tensors
from xlt.runtime.io import atomic_write_bytes, file_digest

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


def load_point(directory: Path, model: nn.Module) -> dict | None:
    """The saved state, with the model's trainable tensors restored from it; None to start from step 0."""
    state = read_point(directory)
    if state is not None:
        load_trainable(model, directory / state["tensors"])
    return state


def read_point(directory: Path, what: str = "the stage") -> dict | None:
    """The saved state, checked against its tensors (`directory / state["tensors"]`); None to start from step 0
    (`what` starts again, a warning says)."""
    path = directory / STATE
    if not path.is_file():
        return None
    try:
        state = torch.load(path, weights_only=True)  # tensors and plain data only: no code is unpickled
    except Exception as err:  # noqa: BLE001 (a truncated or foreign file fails in many ways inside torch)
        _restart(path, f"cannot be read ({type(err).__name__})", what)
        return None
    if not isinstance(state, dict) or "tensors_sha256" not in state:
        _restart(path, "is not a resume state of this xlt version", what)
        return None
    tensors = directory / state["tensors"] / WEIGHTS
    if not tensors.is_file() or file_digest(tensors) != state["tensors_sha256"]:
        _restart(path, f"does not match its tensors {tensors.relative_to(directory)}", what)
        return None
    if state["step"] != len(state["losses"]):
        _restart(path, f"is inconsistent (step {state['step']}, {len(state['losses'])} losses)", what)
        return None
    return state


def _restart(path: Path, problem: str, what: str) -> None:
    say(f"warning: the resume checkpoint {path} {problem}; {what} starts again from step 0")


def say(line: str) -> None:
    """A line on stderr, as written (no rich markup or highlighting)."""
    Console(stderr=True).print(line, markup=False, highlight=False, soft_wrap=True)
