"""Peak training memory of deep prompt tuning against full fine-tuning at XLM-R base shape (12 layers,
hidden 768, 250,002 embeddings, random weights), batch 8 of 128 tokens, UD-POS's 17-tag head.

    python bench/memory.py [--steps 2]

Each method trains in a fresh process with xlt's model, optimizer (`xlt.pipeline.stage.train.optimizer_for`) and
loss. The figure is the peak over the steps of what training holds: on a GPU the peak of allocated memory, on a
CPU the peak resident set minus the process's resident set before the model was built (weights, gradients,
optimizer state and activations; the frozen backbone's weights count for deep prompts too).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource

import torch

import common

METHODS = ("finetune", "deep_prompt")


def resident_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def peak_mib(method: str, steps: int, batch: int, length: int) -> float:
    """One method's training peak, measured in this (fresh) process."""
    from transformers import XLMRobertaConfig, XLMRobertaModel

    from xlt.kinds import HeadOptions, get_kind
    from xlt.methods import get_method
    from xlt.model import TaskModel
    from xlt.pipeline.stage.train import optimizer_for
    from xlt.tasks import get_task

    cuda = torch.cuda.is_available()
    before = resident_mib()
    layers, hidden, heads, ffn = common.SHAPES["base"]
    config = XLMRobertaConfig(
        vocab_size=250_002,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=ffn,
        max_position_embeddings=514,
        type_vocab_size=1,
    )
    torch.manual_seed(0)
    spec, kind = get_task("udpos"), get_kind("tagging")
    options = get_method(method).Options()
    encoder = get_method(method)().adapt(XLMRobertaModel(config), options)
    model = TaskModel(encoder, kind.build_head(encoder, spec, HeadOptions())).to("cuda" if cuda else "cpu").train()
    optimizer = optimizer_for(model, options)
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, config.vocab_size, (batch, length), generator=generator)
    labels = torch.randint(0, len(spec.labels), (batch, length), generator=generator)
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}
    inputs = {key: value.to(model.head.classifier.weight.device) for key, value in inputs.items()}
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    for _ in range(steps):
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda and torch.cuda.is_bf16_supported()):
            loss = kind.loss(model(inputs), inputs)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    if cuda:
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10 - before


def measure(method: str, steps: int, batch: int, length: int) -> float:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(peak_mib, (method, steps, batch, length))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--length", type=int, default=128)
    args = parser.parse_args()
    peaks = {}
    for method in METHODS:
        common.log(f"training {method}")
        peaks[method] = measure(method, args.steps, args.batch_size, args.length)
    print(
        f"\npeak training memory, XLM-R base shape, batch {args.batch_size} x {args.length} tokens, "
        f"{args.steps} steps\n{common.device_name()}, torch {torch.__version__}"
    )
    for method, mib in peaks.items():
        print(f"{method:<12} {mib:9.0f} MiB")
    print(f"pt_ft_memory_ratio={peaks['deep_prompt'] / peaks['finetune']:.3f}")


if __name__ == "__main__":
    main()
