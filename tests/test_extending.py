"""A new kind, method and task come from their own module alone: here, this test file registers a toy kind
(sentence labels by the mean of the last layer), a toy method (BitFit: only bias terms train) and a toy task,
and a whole study trains, evaluates, scores and reports them with no other file touched."""

from __future__ import annotations

import contextlib
import csv
import json
import zlib

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from xlt.config import validate_study
from xlt.kinds import KINDS, Kind
from xlt.kinds import register as register_kind
from xlt.kinds.common import collate, encode, masked_mean
from xlt.methods import METHODS, Method, MethodOptions
from xlt.methods import register as register_method
from xlt.methods.common import BackboneEncoder
from xlt.pipeline.run.runner import run_study
from xlt.tasks import TASKS, TaskSpec
from xlt.tasks import register as register_task

pytestmark = pytest.mark.slow  # a whole study with a toy kind, method and task

WORDS = "the quick brown fox jumps over the lazy dog".split()


class MeanHead(nn.Module):
    def __init__(self, encoder, labels: int):
        super().__init__()
        self.linear = nn.Linear(encoder.hidden_size, labels)

    def forward(self, encoder, batch):
        hidden = encode(encoder, batch["input_ids"], batch["attention_mask"]).last_hidden_state
        return self.linear(masked_mean(hidden, batch["attention_mask"]))


class ToyKind(Kind):
    name = "toy_labels"
    metrics = ("accuracy",)
    scorer = "accuracy"

    def featurize(self, examples, tokenizer, spec, max_length):
        encoded = tokenizer([e["text"] for e in examples], truncation=True, max_length=max_length)["input_ids"]
        return [
            {
                "example_index": i,
                "input_ids": ids,
                "attention_mask": [1] * len(ids),
                "labels": spec.labels.index(e["label"]),
            }
            for i, (e, ids) in enumerate(zip(examples, encoded))
        ]

    def collate(self, features):
        return collate(features, {"input_ids": 0, "attention_mask": 0, "labels": -100})

    def build_head(self, encoder, spec, options):
        return MeanHead(encoder, len(spec.labels))

    def loss(self, outputs, batch):
        return F.cross_entropy(outputs, batch["labels"])

    def decode(self, outputs, features, examples, spec):
        return [spec.labels[int(row.argmax())] for row in outputs]

    def gold(self, example, spec):
        return example["label"]

    def majority(self, train_examples, examples, spec):
        return [train_examples[0]["label"]] * len(examples)


class BitFit(Method):
    """Only the backbone's bias terms train (Ben Zaken et al. 2022)."""

    name = "toy_bitfit"
    Options = MethodOptions

    def adapt(self, backbone, options):
        for name, parameter in backbone.named_parameters():
            parameter.requires_grad_(name.endswith(".bias"))
        return BackboneEncoder(backbone)


def toy_examples(split: str, lang: str, data_dir) -> list[dict]:
    """A word said once to three times; its label says whether it names an animal (as much in every language)."""
    generator = torch.Generator().manual_seed(zlib.crc32(f"{split}-{lang}".encode()))
    examples = []
    for index in range(60):
        word = WORDS[int(torch.randint(len(WORDS), (1,), generator=generator))]
        times = int(torch.randint(1, 4, (1,), generator=generator))
        examples.append(
            {
                "id": f"{split}-{lang}-{index}",
                "text": " ".join([word] * times),
                "label": "animal" if word in ("fox", "dog") else "other",
            }
        )
    return examples


@contextlib.contextmanager
def toys():
    register_kind(ToyKind())
    register_method(BitFit)
    register_task(
        TaskSpec(
            name="toy-task",
            kind="toy_labels",
            languages={"toy": ("en", "de")},
            labels=("other", "animal"),
            load=toy_examples,
        )
    )
    try:
        yield
    finally:
        TASKS.unregister("toy-task")
        METHODS.unregister("toy_bitfit")
        KINDS.unregister("toy_labels")


def toy_study(model_dir, tmp_path) -> dict:
    """A study of the toy method on the toy task (the plugin test runs the same one)."""
    return {
        "name": "toys",
        "benchmark": "toy",
        "model": {"name_or_path": str(model_dir)},
        "data": {"dir": str(tmp_path)},
        "methods": [{"name": "toy_bitfit", "options": {"lr": 3e-2}}],
        "targets": [{"task": "toy-task", "training": {"steps": 120, "batch_size": 16, "max_length": 16}}],
        "output_dir": str(tmp_path / "study"),
    }


def test_a_kind_method_and_task_registered_from_one_file_run_a_whole_study(tiny_model_dir, tmp_path):
    with toys():
        study = validate_study(toy_study(tiny_model_dir, tmp_path), "toys")
        outcome = run_study(study, progress=False)
    with open(outcome.out_dir / "results.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["primary"] == "1"]
    scores = {(row["method"], row["eval_language"]): float(row["value"]) for row in rows}
    assert set(scores) == {(m, lang) for m in ("toy_bitfit", "majority") for lang in ("en", "de")}
    assert scores[("toy_bitfit", "en")] > scores[("majority", "en")] + 10, scores  # it learned, from the biases alone
    record = next(iter(json.loads((outcome.out_dir / "provenance.json").read_text())["stages"].values()))
    assert 0 < record["parameters"]["trainable"] < record["parameters"]["total"] / 10
    assert (outcome.out_dir / "predictions/toy_bitfit.none.seed0/toy-task/test-de.tsv").is_file()
    assert "toy-task" in (outcome.out_dir / "report.md").read_text()
