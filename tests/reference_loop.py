"""A plain transformers + torch (+ peft) training loop, written from those libraries' public APIs alone.

It imports nothing from xlt (tests/test_training_reference.py checks that), so it shares none of xlt's code:
its features come from the tokenizer's own word alignment, its batches from transformers' data collators, its
model and loss from `AutoModelFor{Token,Sequence}Classification`, LoRA from `peft.get_peft_model`, the
schedule from `transformers.get_linear_schedule_with_warmup`, the weight-decay exclusions from the rule of
transformers' Trainer. What it takes from outside is only what a replay needs: which examples each step
trained on, each step's dropout seed and the starting tensors of what is freshly initialised (head, LoRA).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from torch import nn
from transformers import (
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    DataCollatorForTokenClassification,
    DataCollatorWithPadding,
    get_linear_schedule_with_warmup,
)
from transformers.trainer_pt_utils import get_parameter_names

IGNORED = -100  # cross-entropy's ignore_index: subwords after a word's first, and special tokens


@dataclass(frozen=True)
class Recipe:
    steps: int
    lr: float  # the encoder's trainable tensors (all of it, or its LoRA matrices)
    head_lr: float  # the classifier
    weight_decay: float
    warmup_ratio: float
    max_grad_norm: float = 1.0

    @property
    def warmup_steps(self) -> int:
        return math.ceil(self.warmup_ratio * self.steps)  # as transformers' TrainingArguments.get_warmup_steps


def tagging_features(examples: list[dict], tokenizer, labels: list[str], max_length: int) -> list[dict]:
    """One feature per sentence: each word's first subword carries its tag, every other token is ignored."""
    features = []
    for example in examples:
        encoded = tokenizer(example["tokens"], is_split_into_words=True)
        words = encoded.word_ids()
        _check_fits(encoded["input_ids"], max_length)
        if set(range(len(example["tokens"]))) - set(words):
            raise ValueError(f"a word of {example['tokens']} has no subword")
        firsts = [word is not None and word != words[i - 1] for i, word in enumerate(words)]
        tags = [labels.index(example["tags"][w]) if first else IGNORED for w, first in zip(words, firsts)]
        features.append(
            {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"], "labels": tags}
        )
    return features


def pair_features(examples: list[dict], tokenizer, labels: list[str], max_length: int) -> list[dict]:
    """One feature per pair, the tokenizer's own pair template."""
    features = []
    for example in examples:
        encoded = tokenizer(example["text_a"], example["text_b"])
        _check_fits(encoded["input_ids"], max_length)
        label = labels.index(example["label"])
        features.append(
            {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"], "labels": label}
        )
    return features


def _check_fits(input_ids: list[int], max_length: int) -> None:
    if len(input_ids) > max_length:  # the replay needs one feature per example, uncut
        raise ValueError(f"an input of {len(input_ids)} tokens exceeds max_length {max_length}")


def collator(task: str, tokenizer):
    """Pads a list of features to the batch's longest: input ids with the pad id, tags with IGNORED."""
    if task == "tagging":
        return DataCollatorForTokenClassification(tokenizer, label_pad_token_id=IGNORED)
    return DataCollatorWithPadding(tokenizer)


def build_model(path: str, task: str, num_labels: int, dropout: float, lora: dict | None) -> nn.Module:
    """The pretrained encoder under transformers' own head (for pairs its RobertaClassificationHead: dropout,
    dense, tanh, dropout, projection); `lora`: LoraConfig fields, the encoder frozen but for its LoRA matrices."""
    auto = AutoModelForTokenClassification if task == "tagging" else AutoModelForSequenceClassification
    model = auto.from_pretrained(path, num_labels=num_labels, classifier_dropout=dropout)
    if lora is None:
        return model
    model = get_peft_model(model, LoraConfig(**lora))
    head(model).requires_grad_(True)  # peft freezes everything it did not add; the classifier trains
    return model


def head(model: nn.Module) -> nn.Module:
    base = model.get_base_model() if isinstance(model, PeftModel) else model
    return base.classifier


def start_from(model: nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    """Copy `tensors` (named as in the unwrapped transformers model) in; they must cover every trainable tensor."""
    base = model.get_base_model() if isinstance(model, PeftModel) else model
    own = dict(base.named_parameters())
    trainable = {name for name, parameter in own.items() if parameter.requires_grad}
    if not trainable <= set(tensors) <= set(own):
        raise ValueError(f"missing {sorted(trainable - set(tensors))}, unknown {sorted(set(tensors) - set(own))}")
    with torch.no_grad():
        for name, tensor in tensors.items():
            own[name].copy_(tensor)


def optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.AdamW:
    """AdamW, the classifier at head_lr; no weight decay on biases and LayerNorm tensors (transformers' Trainer:
    `get_decay_parameter_names`)."""
    decayed = set(get_parameter_names(model, [nn.LayerNorm], ["bias", "layernorm"]))
    in_head = {id(parameter) for parameter in head(model).parameters()}
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            groups.setdefault((id(parameter) in in_head, name in decayed), []).append(parameter)
    return torch.optim.AdamW(
        [
            {
                "params": params,
                "lr": recipe.head_lr if is_head else recipe.lr,
                "weight_decay": recipe.weight_decay if is_decayed else 0.0,
            }
            for (is_head, is_decayed), params in groups.items()
        ]
    )


def train(model: nn.Module, batches: list[dict], seeds: list[int], recipe: Recipe) -> list[float]:
    """The per-step losses of training `model` on collated `batches`, step i's dropout seeded with seeds[i]."""
    adamw = optimizer(model, recipe)
    schedule = get_linear_schedule_with_warmup(adamw, recipe.warmup_steps, recipe.steps)
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    model.train()
    losses = []
    for batch, seed in zip(batches, seeds, strict=True):
        torch.manual_seed(seed)
        loss = model(**batch).loss
        loss.backward()
        nn.utils.clip_grad_norm_(trainable, recipe.max_grad_norm)
        adamw.step()
        schedule.step()
        adamw.zero_grad()
        losses.append(loss.item())
    return losses
