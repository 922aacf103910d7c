"""`xlt run CONFIG` in one process of a launch, recording for tests/test_distributed.py what this process did:
the training examples it drew at each step, the files it wrote, and its trainable tensors after each stage.

    python -m torch.distributed.run --standalone --nproc_per_node 2 tests/distributed_worker.py CONFIG RECORD_DIR
    accelerate launch --config_file configs/accelerate/fsdp.yaml tests/distributed_worker.py CONFIG RECORD_DIR

Under the FSDP config on a machine without a GPU, accelerate would quietly fall back to DDP (its state turns
FSDP on for GPU-like devices only); `shard_on_cpu` lets it shard there, over gloo, as it does on GPUs.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
from pathlib import Path

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT


def shard_on_cpu() -> None:
    """accelerate's FSDP on CPU processes: the config's plugin, which AcceleratorState leaves out under MULTI_CPU."""
    from accelerate.state import AcceleratorState
    from accelerate.utils import DistributedType, FullyShardedDataParallelPlugin

    original_init = AcceleratorState.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        if self.distributed_type == DistributedType.MULTI_CPU:
            self.distributed_type = DistributedType.FSDP
            self.fsdp_plugin = FullyShardedDataParallelPlugin()  # from the FSDP_* variables the launcher set

    AcceleratorState.__init__ = init


def main(config: str, record_dir: str) -> None:
    import torch
    from safetensors.torch import save_file

    from xlt.cli import main as cli
    from xlt.data.mixing import MixtureSampler
    from xlt.pipeline.run import stage_jobs
    from xlt.runtime.distributed import trainable_tensors

    rank = int(os.environ.get("RANK", 0))
    record = Path(record_dir) / f"rank{rank}"
    record.mkdir(parents=True, exist_ok=True)
    watched = [os.path.realpath(os.environ["XLT_CACHE"]), os.path.realpath(Path(config).parent)]
    writes: list[str] = []
    drawn: list[dict] = []

    def audit(event: str, args: tuple) -> None:
        path = args[0] if event == "open" else args[1] if event == "os.rename" else None
        if event == "open" and not (isinstance(args[2], int) and args[2] & WRITE_FLAGS or "w" in str(args[1])):
            return
        if isinstance(path, (str, Path)):
            path = os.path.realpath(path)
            if any(path.startswith(root + os.sep) for root in watched) and not path.startswith(str(record)):
                writes.append(path)

    original_batch = MixtureSampler.batch

    samplers: list = []  # every stage's sampler, kept alive: a freed one's id() could name the next

    def recorded_batch(self, step, rank=0, world=1):
        share = original_batch(self, step, rank, world)
        if not any(sampler is self for sampler in samplers):
            samplers.append(self)
        stage = next(n for n, sampler in enumerate(samplers) if sampler is self)
        drawn.append({"stage": stage, "step": step, "examples": share})
        return share

    original_train = stage_jobs.train_stage

    def recorded_train(stage, ctx):
        model = original_train(stage, ctx)
        state = trainable_tensors(model)  # a sharded model's gathered: whole on the main process, none elsewhere
        tensors = {name: t.detach().clone().contiguous() for name, t in state.items()}
        save_file(tensors, str(record / f"{stage.hash}.safetensors"))
        return model

    def dump() -> None:
        (record / "drawn.json").write_text(json.dumps(drawn))
        (record / "writes.json").write_text(json.dumps(writes))

    if os.environ.get("ACCELERATE_USE_FSDP") == "true" and not torch.cuda.is_available():
        shard_on_cpu()
    MixtureSampler.batch = recorded_batch
    stage_jobs.train_stage = recorded_train
    atexit.register(dump)
    sys.addaudithook(audit)
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)  # float rounding far below the 1e-6 the test allows between runs
    sys.argv = ["xlt", "run", config]
    cli()


if __name__ == "__main__":
    main(*sys.argv[1:3])
