"""One process or several (`accelerate launch`, `torchrun`): which share of the work this process does,
and the rule that only the main process writes.

Every process runs the same plan. A training batch is split between the processes (each draws its share
of every global batch, `MixtureSampler.batch(step, rank, world)`) and accelerate's DDP reduces the
gradients; evaluation batches are dealt out and their outputs gathered. Files (caches, checkpoints,
markers, results, reports) are written by the main process alone, and the others wait for it wherever
they read what it wrote next. In one process every function here is a no-op or the identity.

Under an accelerate config that asks for FSDP (configs/accelerate/fsdp.yaml) the training model is sharded
too: each process holds a slice of every tensor, its gradients and its optimizer state, and gathers a layer
whole only while it runs. What is written stays what one process would write: the trainable tensors and
the optimizer state are gathered whole first (every process takes part), then the main process writes them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from types import MethodType
from typing import TYPE_CHECKING, TypeVar

import torch
from accelerate import Accelerator, DistributedDataParallelKwargs, PartialState
from accelerate.utils import DistributedType, gather_object
from torch import nn

from xlt.errors import XltError

if TYPE_CHECKING:
    from xlt.model import TaskModel

T = TypeVar("T")


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


def accelerator(
    mixed_precision: str, model: nn.Module, probe: Callable[[torch.device], torch.Tensor] | None
) -> Accelerator:
    """The training stage's accelerator: DDP across processes, or FSDP2 where the launch's config asks for it.

    Under DDP a loss may leave a trainable tensor out (the backbone's pooler, which HF's forward runs, under a head
    that does not pool through it; the layers above the one a retrieval head reads), and DDP must then be told to
    look for such tensors after every backward, or the next step fails waiting for their gradients. Where none is,
    it is not told (the search would cost a graph traversal a step, and DDP warns that it found nothing): `probe`
    gives the loss of one batch (None: the stage trains no step), whose graph shows which tensors a step uses."""
    made = Accelerator(cpu=not torch.cuda.is_available(), mixed_precision=mixed_precision)
    if made.distributed_type == DistributedType.FSDP and not made.is_fsdp2:
        # FSDP1 flattens a layer's tensors into one: per-tensor names, shapes and requires_grad are gone
        raise XltError("xlt shards with FSDP2 only: set fsdp_version: 2 in the accelerate config")
    ddp = made.multi_device or made.distributed_type == DistributedType.MULTI_CPU  # as accelerate's prepare() decides
    if ddp and probe is not None:
        with made.autocast():
            loss = probe(made.device)
        if any_process(leaves_a_tensor_out(model, loss)):
            made.ddp_handler = DistributedDataParallelKwargs(find_unused_parameters=True)  # read by prepare()
    return made


def leaves_a_tensor_out(model: nn.Module, loss: torch.Tensor) -> bool:
    """Whether some trainable tensor of `model` is not a leaf of `loss`'s autograd graph (what DDP's search for
    unused tensors finds after a backward, found here without one)."""
    reached, seen, nodes = set(), set(), [loss.grad_fn]
    while nodes:
        node = nodes.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if hasattr(node, "variable"):  # AccumulateGrad: the node of a leaf tensor that takes a gradient
            reached.add(id(node.variable))
        nodes.extend(following for following, _ in node.next_functions)
    return any(id(p) not in reached for p in model.parameters() if p.requires_grad)


def sharded(module: nn.Module) -> bool:
    """Whether FSDP shards `module` (accelerate wraps the model itself and each layer its config names)."""
    fsdp = sys.modules.get("torch.distributed.fsdp")  # loaded by whatever sharded it; a second to import otherwise
    return fsdp is not None and isinstance(module, fsdp.FSDPModule)


def as_forward(module: nn.Module, step: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """`step(module, ...)`, run as `module`'s own forward would be: for code that uses a layer's tensors without
    calling the layer (the prompt methods run XLM-R's layers piece by piece). FSDP gathers a sharded layer's
    tensors in hooks around its forward only; registered as a forward method, `step` gets them too (and so does
    its backward)."""
    if not sharded(module):
        return partial(step, module)
    name = f"_xlt_{step.__name__}"
    if name not in module.__dict__:
        from torch.distributed.fsdp import register_fsdp_forward_method

        setattr(module, name, MethodType(step, module))
        register_fsdp_forward_method(module, name)
    return getattr(module, name)


def trainable_tensors(model: TaskModel) -> dict[str, torch.Tensor]:
    """The model's trainable tensors as `save_tensors` writes them: gathered one at a time from a sharded model (a
    collective: every process calls this; only the main one keeps them, on its CPU, the others get none)."""
    if not sharded(model):
        return model.trainable_state()
    from torch.distributed.tensor import DTensor

    tensors = {}
    for name, tensor in model.trainable_state().items():
        full = tensor.full_tensor() if isinstance(tensor, DTensor) else tensor
        if is_main():
            tensors[name] = full.cpu()
    return tensors


def optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    """The optimizer's state as one process holds it; a sharded model's is gathered whole, keyed by tensor name,
    onto the main process's CPU (a collective: every process calls this)."""
    if not sharded(model):
        return optimizer.state_dict()
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    return get_optimizer_state_dict(model, optimizer, options=options)


def load_optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer, state: dict) -> None:
    """Restore what `optimizer_state` returned; every process read the same file, each keeps its own slices."""
    if not sharded(model):
        optimizer.load_state_dict(state)
        return
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

    # not strict: a trainable tensor no batch reaches (the pooler under a token head) has no state to restore
    options = StateDictOptions(full_state_dict=True, strict=False)
    set_optimizer_state_dict(model, optimizer, state, options=options)


def deal(items: list[T], lockstep: bool) -> list[tuple[T, bool]]:
    """This process's share of `items` (every world-th from its rank), each with whether to keep its result.
    In lockstep (a sharded model: every forward pass gathers each layer from all processes, so all must run it)
    every process runs as many as the busiest one, those short of it repeating the first item for nothing."""
    rank, world = rank_world()
    mine = [(item, True) for item in items[rank::world]]
    if lockstep and items:
        mine += [(items[0], False)] * (-(-len(items) // world) - len(mine))
    return mine
