"""What the benchmarks' transformers baselines share, importing nothing of xlt: the clock, the `Trainer`'s
arguments and datasets built from features. `peft_prefix.py` runs these under another Python (a transformers 4
environment, where PEFT's prefix tuning still runs on XLM-R), which cannot import xlt (transformers >= 5).
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path

import torch


def clock() -> float:
    """Seconds of work: on a GPU, wall time (after the queued kernels finish); on a CPU, the CPU time of this
    process's threads, which a shared machine's other jobs do not inflate as they inflate wall time (the
    contenders run on the same threads, so the ratios compare their work)."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
        return time.perf_counter()
    return time.process_time()


CLOCK = "wall seconds" if torch.cuda.is_available() else "CPU seconds of the timed process"


def trainer_arguments(
    out: Path,
    steps: int,
    batch_size: int,
    lr: float,
    warmup_ratio: float,
    grouped: bool,
    precision: str,
    eval_batch_size: int = 64,
):
    """The papers' Trainer setup (grouped=False) or the tuned one (grouped=True: length-grouped batches), with
    xlt's schedule: linear warm-up then linear decay, gradients clipped at 1, no weight decay."""
    from transformers import TrainingArguments

    # transformers 5 names the length-grouped sampler `train_sampling_strategy`; 4 had a `group_by_length` flag
    if "train_sampling_strategy" in inspect.signature(TrainingArguments).parameters:
        sampling = {"train_sampling_strategy": "group_by_length" if grouped else "random"}
    else:
        sampling = {"group_by_length": grouped}
    return TrainingArguments(
        output_dir=str(out),
        max_steps=steps,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=eval_batch_size,
        learning_rate=lr,
        warmup_steps=round(warmup_ratio * steps),
        lr_scheduler_type="linear",
        weight_decay=0.0,
        max_grad_norm=1.0,
        save_strategy="no",
        report_to="none",
        logging_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
        seed=0,
        bf16=precision == "bf16",
        use_cpu=not torch.cuda.is_available(),
        **sampling,
    )


def as_dataset(features: list[dict], keys: tuple[str, ...], pad_to: int | None = None, pad_values: dict | None = None):
    """Features as a `datasets.Dataset` for the Trainer, padded to `pad_to` (the papers' setup) or not."""
    from datasets import Dataset

    rows = [{key: feature[key] for key in keys} for feature in features]
    if pad_to is not None:
        for row in rows:
            for key in keys:
                if isinstance(row[key], list):
                    row[key] = row[key] + [(pad_values or {}).get(key, 0)] * (pad_to - len(row[key]))
    return Dataset.from_list(rows)
