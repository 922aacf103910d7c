"""An independent reference for training: xlt's per-step losses, reproduced by a loop that shares no xlt code.

xlt trains fine-tuning and LoRA stages of a tagging and a pair-classification task with its batch trace on
(`xlt.pipeline.stage.trace`); tests/reference_loop.py, a plain transformers + torch + peft loop, then trains the same
encoder from the same starting tensors on the traced batches with each step's traced dropout seed, under the
same recipe (AdamW with its groups and decay exclusions, linear warm-up and decay, clipping at norm 1), and
must find the losses of xlt's loss.json at every step.
"""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer

import reference_loop
from small_study import tiny_benchmark, tiny_encoder
from xlt.config import validate_study
from xlt.kinds import HeadOptions, get_kind
from xlt.methods import get_method
from xlt.model import TaskModel
from xlt.pipeline.plan.graph import study_plan
from xlt.pipeline.plan.resources import cache_dir, resolve
from xlt.pipeline.run.runner import with_precision
from xlt.pipeline.stage.build import build_task_model
from xlt.pipeline.stage.context import Context, Reporting
from xlt.pipeline.stage.trace import VARIABLE
from xlt.pipeline.stage.train import optimizer_for, train_stage
from xlt.results.layout import StudyLayout
from xlt.tasks import get_task

STEPS = 12
MAX_LENGTH = 128
TRAINING = {"steps": STEPS, "batch_size": 8, "max_length": MAX_LENGTH, "eval_batch_size": 32}
# weight decay high enough that decaying a tensor the Trainer spares (a bias, a LayerNorm) moves a loss by > 1e-5;
# three warm-up steps whether ratio x steps is rounded (xlt) or ceiled (transformers)
RECIPE = {"weight_decay": 0.1, "warmup_ratio": 0.25}
LORA = {"r": 4, "alpha": 8, "dropout": 0.1, "target_modules": ["query", "value"]}
METHODS = {
    "finetune": {"lr": 1e-3, "head_lr": 3e-3, **RECIPE},
    "lora": {"lr": 5e-3, "head_lr": 3e-3, **LORA, **RECIPE},
}
TASKS = {"synth-pos": "tagging", "synth-nli": "pair"}
LOSS_TOLERANCE = 1e-5


def reference_study(out_dir: Path) -> dict:
    return {
        "name": "reference",
        "benchmark": "synthetic",
        "data": tiny_benchmark(),
        "model": tiny_encoder(),
        "methods": [{"name": name, "options": options} for name, options in METHODS.items()],
        "targets": [
            {
                "task": task,
                "train_languages": ["base", "cyrl"],  # two: the trace carries the mixture's draws
                "eval_languages": ["base"],
                "training": TRAINING,
                "head": {"pooling": "cls_dense"} if shape == "pair" else {},  # transformers' RobertaClassificationHead
            }
            for task, shape in TASKS.items()
        ],
        "seeds": [3],
        "output_dir": str(out_dir),
    }


@pytest.fixture(scope="module")
def xlt_training(tmp_path_factory) -> dict:
    """Every training stage of the study trained by xlt with its trace on: {(method, task): (stage, ctx, trace)}."""
    out = tmp_path_factory.mktemp("reference")
    study = with_precision(validate_study(reference_study(out / "study"), "reference"))
    resources = resolve(study, progress=False)
    ctx = Context(StudyLayout(study.output_dir), resources, cache_dir(), reporting=Reporting(progress=False))
    stages = list(study_plan(study, resources).train.values())
    trace_file = out / "trace.jsonl"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(VARIABLE, str(trace_file))
        for stage in stages:
            train_stage(stage, ctx)
    lines = [json.loads(line) for line in trace_file.read_text().splitlines()]
    return {
        (stage.method, stage.task): (stage, ctx, [line for line in lines if line["stage"] == stage.hash])
        for stage in stages
    }


def starting_tensors(stage, ctx: Context, shape: str) -> dict[str, torch.Tensor]:
    """The tensors xlt's stage starts from (its model as `train_stage` builds it), named as in the transformers
    task model; the backbone's pooler, which neither head reads, has no counterpart there."""
    spec = get_task(stage.task)
    model = build_task_model(stage.method, stage.method_options, spec, stage.head_options, ctx.resources, stage.seed)
    head = {"head.pooler.dense.": "classifier.dense.", "head.classifier.": "classifier.out_proj."}
    renames = {"encoder.backbone.": "roberta.", **(head if shape == "pair" else {"head.classifier.": "classifier."})}
    tensors = {}
    for name, tensor in model.trainable_state().items():
        if name.startswith("encoder.backbone.pooler."):
            continue
        prefix = next(p for p in renames if name.startswith(p))
        tensors[renames[prefix] + name.removeprefix(prefix)] = tensor
    return tensors


def peft_lora(options) -> dict:
    """xlt's LoRA options as peft's LoraConfig fields."""
    return {
        "r": options.r,
        "lora_alpha": options.alpha,
        "lora_dropout": options.dropout,
        "target_modules": list(options.target_modules),
    }


def test_the_reference_loop_imports_nothing_from_xlt():
    tree = ast.parse(Path(reference_loop.__file__).read_text())
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert imported and not [name for name in imported if name.split(".")[0] == "xlt"]
    origins = [
        getattr(value, "__module__", None) or getattr(value, "__name__", "") for value in vars(reference_loop).values()
    ]
    assert not [origin for origin in origins if isinstance(origin, str) and origin.split(".")[0] == "xlt"]


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("method", METHODS)
def test_a_plain_transformers_loop_reproduces_xlt_per_step_losses(xlt_training, method, task):
    stage, ctx, trace = xlt_training[(method, task)]
    xlt_losses = json.loads((ctx.stage_dir(stage.hash) / "loss.json").read_text())
    assert [line["step"] for line in trace] == list(range(STEPS)) == list(range(len(xlt_losses)))
    assert {lang for line in trace for lang, _ in line["batch"]} == {"base", "cyrl"}

    shape, spec, options = TASKS[task], get_task(task), stage.method_options
    path = ctx.resources.model_path
    tokenizer = AutoTokenizer.from_pretrained(path)
    featurize = reference_loop.tagging_features if shape == "tagging" else reference_loop.pair_features
    features = {
        lang: featurize(spec.load("train", lang, ctx.resources.data_dir), tokenizer, list(spec.labels), MAX_LENGTH)
        for lang in stage.languages
    }
    collate = reference_loop.collator(shape, tokenizer)
    batches = [collate([features[lang][index] for lang, index in line["batch"]]) for line in trace]
    lora = peft_lora(options) if method == "lora" else None
    model = reference_loop.build_model(path, shape, len(spec.labels), stage.head_options.dropout, lora)
    reference_loop.start_from(model, starting_tensors(stage, ctx, shape))
    recipe = reference_loop.Recipe(
        steps=STEPS,
        lr=options.lr,
        head_lr=options.head_lr or options.lr,
        weight_decay=options.weight_decay,
        warmup_ratio=options.warmup_ratio,
    )
    losses = reference_loop.train(model, batches, [line["seed"] for line in trace], recipe)
    assert losses == pytest.approx(xlt_losses, abs=LOSS_TOLERANCE, rel=0)


def tagging_model(tiny_backbone, method: str = "finetune"):
    encoder = get_method(method)().adapt(copy.deepcopy(tiny_backbone), get_method(method).Options())
    return TaskModel(encoder, get_kind("tagging").build_head(encoder, get_task("synth-pos"), HeadOptions()))


def test_weight_decay_spares_biases_and_layer_norms_and_the_head_trains_at_head_lr(tiny_backbone):
    model = tagging_model(tiny_backbone)
    optimizer = optimizer_for(model, get_method("finetune").Options(weight_decay=0.1, head_lr=3e-3))
    settings = {
        id(p): (group["lr"], group["weight_decay"]) for group in optimizer.param_groups for p in group["params"]
    }
    for name, parameter in model.named_parameters():
        spared = name.endswith(".bias") or ".LayerNorm." in name
        assert settings[id(parameter)] == (3e-3 if name.startswith("head.") else 5e-5, 0.0 if spared else 0.1), name
    assert sum(".LayerNorm." in name for name, _ in model.named_parameters()) == 2 * (
        1 + 2 * 2
    )  # the embeddings' and 2 per layer


def test_without_weight_decay_the_groups_are_the_encoder_then_the_head_in_model_order(tiny_backbone):
    """The layout resume points written before biases and norms were spared from decay hold (two groups)."""
    model = tagging_model(tiny_backbone, "lora")
    optimizer = optimizer_for(model, get_method("lora").Options())
    trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    assert [[id(p) for p in group["params"]] for group in optimizer.param_groups] == [
        [id(p) for name, p in trainable if not name.startswith("head.")],
        [id(p) for name, p in trainable if name.startswith("head.")],
    ]
