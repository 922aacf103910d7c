"""Training and evaluation throughput of every encoder family (`xlt.encoders`) under xlt's methods.

Each family at the same small shape (4 layers, hidden 256, 4 heads, feed-forward 1024; EuroBERT with 2 key-value
heads, ModernBERT with local windows of 128 as mmBERT), random weights, a token-classification head (17 UD-POS
tags) on random token ids, batch 32 x 128 tokens. Training: forward, backward and an AdamW step of the stage's
model (`xlt.model.TaskModel`); evaluation: a forward pass without gradients. Figures are input tokens per second of
the timed process (`baselines.clock`), the median over rounds, after a warm-up.

    python families.py --steps 6 --repeats 3
"""

from __future__ import annotations

import argparse
import copy
import statistics

import torch
import transformers

from baselines import CLOCK, clock
from common import device_name
from xlt.kinds import HeadOptions, get_kind
from xlt.methods import get_method
from xlt.model import TaskModel
from xlt.tasks.spec import TaskSpec

SHAPE = {"num_hidden_layers": 4, "hidden_size": 256, "num_attention_heads": 4, "intermediate_size": 1024}
VOCAB, BATCH, LENGTH, TAGS = 8000, 32, 128, 17
METHODS = {"finetune": {}, "deep_prompt": {"prompt_length": 16}, "shallow_prompt": {"prompt_length": 16}, "lora": {}}


def backbones() -> dict[str, torch.nn.Module]:
    common = {"vocab_size": VOCAB, "max_position_embeddings": 514, "pad_token_id": 1, **SHAPE}
    configs = {
        "xlm-roberta": transformers.XLMRobertaConfig(type_vocab_size=1, **common),
        "bert": transformers.BertConfig(**common),
        "deberta-v2": transformers.DebertaV2Config(
            relative_attention=True, position_buckets=256, pos_att_type=["p2c", "c2p"], share_att_key=True,
            norm_rel_ebd="layer_norm", position_biased_input=False, type_vocab_size=0, **common,
        ),
        "modernbert": transformers.ModernBertConfig(local_attention=128, **common),
        "eurobert": transformers.EuroBertConfig(num_key_value_heads=2, **common),
    }  # fmt: skip
    torch.manual_seed(0)
    return {name: transformers.AutoModel.from_config(config) for name, config in configs.items()}


def task_model(backbone, method: str) -> TaskModel:
    cls = get_method(method)
    encoder = cls().adapt(copy.deepcopy(backbone), cls.Options(**METHODS[method]))
    spec = TaskSpec(name="pos", kind="tagging", metrics=("f1",), scorer="tagging", languages={"x": ("en",)},
                    load=lambda split, lang, data_dir: [], labels=tuple(f"T{i}" for i in range(TAGS)))  # fmt: skip
    return TaskModel(encoder, get_kind("tagging").build_head(encoder, spec, HeadOptions()))


def batch() -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(LENGTH // 2, LENGTH + 1, (BATCH,), generator=generator)
    mask = (torch.arange(LENGTH)[None] < lengths[:, None]).long()
    ids = torch.randint(5, VOCAB, (BATCH, LENGTH), generator=generator).masked_fill(mask == 0, 1)
    labels = torch.randint(0, TAGS, (BATCH, LENGTH), generator=generator).masked_fill(mask == 0, -100)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def train_seconds(model: TaskModel, inputs, steps: int) -> float:
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    kind = get_kind("tagging")
    model.train()
    start = clock()
    for _ in range(steps):
        kind.loss(model(inputs), inputs).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return clock() - start


def eval_seconds(model: TaskModel, inputs, steps: int) -> float:
    model.eval()
    start = clock()
    with torch.no_grad():
        for _ in range(steps):
            model(inputs)
    return clock() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    inputs = batch()
    tokens = int(inputs["attention_mask"].sum()) * args.steps
    print(f"{device_name()}; {CLOCK}; {args.steps} steps of {BATCH} x {LENGTH} ({tokens // args.steps} real tokens)")
    print("| family | " + " | ".join(f"train {m}" for m in METHODS) + " | eval |")
    print("|---|" + "---|" * (len(METHODS) + 1))
    figures = []
    for family, backbone in backbones().items():
        cells = []
        for method in METHODS:
            model = task_model(backbone, method)
            train_seconds(model, inputs, 1)  # warm-up
            seconds = statistics.median(train_seconds(model, inputs, args.steps) for _ in range(args.repeats))
            cells.append(tokens / seconds)
        model = task_model(backbone, "finetune")
        eval_seconds(model, inputs, 1)
        cells.append(tokens / statistics.median(eval_seconds(model, inputs, args.steps) for _ in range(args.repeats)))
        print(f"| {family} | " + " | ".join(f"{cell:,.0f}" for cell in cells) + " |", flush=True)
        figures.append(
            f"{family.replace('-', '_')}_train_ft={cells[0]:.0f} {family.replace('-', '_')}_eval={cells[-1]:.0f}"
        )
    print(" ".join(figures))


if __name__ == "__main__":
    main()
