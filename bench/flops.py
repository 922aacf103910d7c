"""Achieved training FLOP/s of xlt's training stage as a fraction of this machine's measured dense matmul peak,
in the same dtype and on the same threads.

    python bench/flops.py [--method finetune|deep_prompt] [--shape small|base] [--steps 12]

The stage is bench/train.py's (UD-POS English, batch 32, max length 128, length-grouped batches). It runs twice
with the same batches: once under `torch.utils.flop_counter.FlopCounterMode`, which counts the FLOPs of every
step's forward and backward (matrix products and attention: the dense work, padding included), and once timed,
an optimizer hook stamping the end of each step. The first step is left out of both (it allocates). The peak is
the best of repeated square matmuls of several sizes (float32 on a CPU; bfloat16 on a GPU that has it).
"""

from __future__ import annotations

import argparse
import shutil

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook
from torch.utils.flop_counter import FlopCounterMode

import common


def matmul_peak(dtype: torch.dtype, device: str, sizes=(1024, 2048, 3072), repeats: int = 5) -> float:
    best = 0.0
    for n in sizes:
        a, b = (torch.randn(n, n, dtype=dtype, device=device) for _ in range(2))
        torch.mm(a, b)
        for _ in range(repeats):
            best = max(best, 2 * n**3 / common.timed(lambda a=a, b=b: torch.mm(a, b)))
    return best


def step_flops(run: common.XltRun) -> list[int]:
    """FLOPs of each training step (forward and backward), counted on a run of the stage."""
    counter, totals = FlopCounterMode(display=False), []
    handle = register_optimizer_step_post_hook(lambda *_: totals.append(counter.get_total_flops()))
    with counter:
        run.train()
    handle.remove()
    return [b - a for a, b in zip([0, *totals], totals)]


def step_ends(run: common.XltRun) -> list[float]:
    stamps: list[float] = []

    def stamp(*_):
        stamps.append(common.clock())

    handle = register_optimizer_step_post_hook(stamp)
    run.train()
    handle.remove()
    return stamps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--method", choices=("finetune", "deep_prompt"), default="finetune")
    parser.add_argument("--shape", choices=tuple(common.SHAPES), default="small")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    work = common.workdir("flops")
    model = common.make_encoder(work / "encoder", common.udpos_words(), args.shape)
    options = {"lr": 5e-5} if args.method == "finetune" else {"prompt_length": 16, "steps_scale": 1.0}
    training = {"steps": args.steps, "batch_size": 32, "max_length": 128, "checkpoint_every": 10**6}
    run = common.XltRun(work / "xlt", model, common.data_dir(), "udpos", args.method, options, training)
    flops = step_flops(run)[1:]
    bf16 = run.precision == "bf16"
    dtype, device = (torch.bfloat16 if bf16 else torch.float32), ("cuda" if torch.cuda.is_available() else "cpu")
    achieved, peaks = [], []
    for round_ in range(args.repeats):  # interleaved, so a drifting machine speed moves both alike
        ends = step_ends(run)
        achieved.append(sum(flops) / (ends[-1] - ends[0]))
        peaks.append(matmul_peak(dtype, device))
        common.log(f"round {round_ + 1}: {achieved[-1] / 1e9:.1f} GFLOP/s of a {peaks[-1] / 1e9:.1f} GFLOP/s peak")
    mfu = sorted(a / p for a, p in zip(achieved, peaks))[len(peaks) // 2]
    print(
        f"\ntraining FLOP/s: {args.method}, {args.shape} shape, {args.steps} steps of batch 32\n"
        f"{common.device_name()}, torch {torch.__version__}, {dtype}\n"
        f"{sum(flops) / len(flops) / 1e9:.1f} GFLOP a step; achieved {sorted(achieved)[len(achieved) // 2] / 1e9:.1f}"
        f" GFLOP/s; matmul peak {sorted(peaks)[len(peaks) // 2] / 1e9:.1f} GFLOP/s"
    )
    print(f"mfu={mfu:.3f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
