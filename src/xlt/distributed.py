"""One process or several (`accelerate launch`, `torchrun`): which share of the work this process does,
and the rule that only the main process writes.

Every process runs the same plan. A training batch is split between the processes (each draws its share
of every global batch, `MixtureSampler.batch(step, rank, world)`) and accelerate's DDP reduces the
gradients; evaluation batches are dealt out and their outputs gathered. Files (caches, checkpoints,
markers, results, reports) are written by the main process alone, and the others wait for it wherever
they read what it wrote next. In one process every function here is a no-op or the identity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from accelerate import PartialState
from accelerate.utils import gather_object

from xlt.errors import XltError


def state() -> PartialState:
    """accelerate's process state (a singleton): under a launcher, the first call joins the process group."""
    return PartialState(cpu=not torch.cuda.is_available())  # several CPU processes need cpu=True (gloo)


def rank_world() -> tuple[int, int]:
    current = state()
    return current.process_index, current.num_processes


def is_main() -> bool:
    return state().is_main_process


def on_main(write: Callable[..., object], *args, **kwargs) -> None:
    """Run `write` on the main process alone; every process waits until it is done (what it wrote is read next)."""
    if is_main():
        write(*args, **kwargs)
    state().wait_for_everyone()


@contextmanager
def main_first() -> Iterator[None]:
    """The main process runs the block first (it writes what is missing: a cache, a benchmark, an encoder);
    the others run it once that is done, and find everything written."""
    with state().main_process_first():
        yield


def any_process(flag: bool) -> bool:
    """Whether `flag` holds on any process (a signal reaches each at its own moment; all must stop together)."""
    if rank_world()[1] == 1:
        return flag
    from accelerate.utils import reduce

    return bool(reduce(torch.tensor([float(flag)], device=state().device), "sum").item())


def from_main(value: object) -> object:
    """The main process's `value`, on every process (a decision the main process takes alone)."""
    if rank_world()[1] == 1:
        return value
    from accelerate.utils import broadcast_object_list

    return broadcast_object_list([value], from_process=0)[0]


def gather(values: list) -> list:
    """Every process's list, concatenated in rank order, on every process."""
    return values if rank_world()[1] == 1 else gather_object(values)


def check_batch_size(batch_size: int, where: str) -> None:
    """Each process takes an equal share of every global batch (in-batch negatives are gathered across them)."""
    world = rank_world()[1]
    if batch_size % world:
        raise XltError(
            f"{where}: batch_size {batch_size} does not split evenly across {world} processes; "
            f"use a multiple of {world}"
        )


def gather_rows(tensor: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every process's rows of `tensor` (equal shapes) in rank order, gradients flowing back to their owners
    (in-batch negatives of a global batch split across processes), and the indices of this process's rows."""
    rank, world = rank_world()
    own = torch.arange(len(tensor), device=tensor.device) + rank * len(tensor)
    if world == 1:
        return tensor, own
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(tensor.contiguous())), own
