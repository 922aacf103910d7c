"""Which encoders to analyse and how to load each as it was trained: the analysis's only contact with the
pipeline and model internals (the plan, stage directories, model building), kept here alone so that a
change to those internals needs a change in this module only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from xlt.errors import XltError
from xlt.results.layout import CHECKPOINT, PROVENANCE, StudyLayout

if TYPE_CHECKING:
    from xlt.pipeline.plan.graph import TrainStage
    from xlt.pipeline.plan.resources import Resources

PRETRAINED = "base"  # key of the study's encoder as it was before any training


@dataclass(frozen=True)
class Encoding:
    """One encoder to embed with, and what it is in the study. Several may share a key (one stage trained
    once and used as two recipes' stage); they share its embeddings."""

    key: str  # the training stage's hash; PRETRAINED; or "random_init.seed{n}" for an untrained random init
    role: str  # "base", "intermediate" or "target"
    recipe: str  # "finetune", "deep_prompt + multilingual", "pretrained", "random_init (untrained)"
    task: str  # the target task evaluated on it, the intermediate task trained, or "" for a base
    seed: int | None
    origin: str | None  # key of the untouched encoder the stage started from; None for a base
    cache_identity: dict = field(compare=False)
    handle: TrainStage | None = field(default=None, compare=False, repr=False)  # the stage, for load_encoder


@dataclass(frozen=True)
class Encoders:
    resources: Resources
    entries: list[Encoding]
    skipped: list[str]  # stages of the plan with no completed training
    depth: int  # transformer layers; hidden states run from 0 (embeddings) to depth


def study_encoders(study_dir: Path) -> Encoders:
    """The pretrained encoder and every completed training stage of a study written by `xlt run`."""
    from xlt.config import validate_study
    from xlt.pipeline.plan.graph import build_plan
    from xlt.pipeline.plan.resources import resolve
    from xlt.pipeline.stage.directory import is_complete

    provenance_path = Path(study_dir) / PROVENANCE
    if not provenance_path.is_file():
        raise XltError(f"{study_dir}: not a study directory (no provenance.json); run `xlt run` or `xlt demo` first")
    study = validate_study(json.loads(provenance_path.read_text())["config"], str(provenance_path))
    resources = resolve(study, progress=False, build=False)
    plan = build_plan(study, {**resources.identity, "mixed_precision": study.mixed_precision}, resources.token_types)
    entries = {PRETRAINED: _base(resources)}
    skipped = []
    for ev in plan.evals:
        if ev.source is None or ev.checkpoint != CHECKPOINT:
            continue  # the majority reference has no encoder; a target-dev oracle is not the recipe's checkpoint
        target = plan.train[ev.source]
        origin = PRETRAINED
        if getattr(target.method_options, "init", "pretrained") == "random":
            origin = f"random_init.seed{target.seed}"
            entries[origin] = Encoding(
                origin, "base", "random_init (untrained)", "", target.seed, None, {"untrained": target.hash}, target
            )
        recipe = ev.label if ev.intermediate == "none" else f"{ev.label} + {ev.intermediate}"
        stage: TrainStage | None = target
        while stage is not None:  # the evaluated stage, then every stage before it (intermediate, earlier tasks)
            role, task = ("target", ev.task) if stage is target else ("intermediate", stage.task)
            if is_complete(StudyLayout(study_dir).stage(stage.hash)):
                entries[f"{stage.hash}/{role}/{recipe}/{task}"] = Encoding(
                    stage.hash, role, recipe, task, stage.seed, origin, {"stage": stage.hash}, stage
                )
            else:
                skipped.append(stage.describe())
            stage = plan.train[stage.parent] if stage.parent else None
    if not any(entry.role != "base" for entry in entries.values()):
        raise XltError(f"{study_dir}: no completed training stage to analyse; finish the study with `xlt run` first")
    return Encoders(resources, list(entries.values()), sorted(set(skipped)), _depth(resources))


def model_encoders(model: str) -> Encoders:
    """A bare encoder: a local directory or a Hub id."""
    from xlt.data.hub import offline_variables
    from xlt.pipeline.plan.identity import hub_identity, local_identity
    from xlt.pipeline.plan.resources import Resources, digests_dir, ensure_hub_reachable

    local = Path(model).expanduser()
    if local.is_dir():
        path = str(local.resolve())
        identity = local_identity(local, digests_dir())
    elif local.exists() or model.startswith((".", "/", "~")):
        raise XltError(f"--model {model}: not a model directory (a folder with config.json and weights)")
    else:
        ensure_hub_reachable(f"model {model!r}")
        path, identity = model, hub_identity(model, None, online=not offline_variables())
    resources = Resources(path, None, False, None, {"model": identity})
    return Encoders(resources, [_base(resources)], [], _depth(resources))


def _base(resources) -> Encoding:
    return Encoding(PRETRAINED, "base", "pretrained", "", None, None, {"model": resources.identity["model"]})


def _depth(resources) -> int:
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(
            resources.model_path, revision=resources.revision, trust_remote_code=resources.trust_remote_code
        )
    except (OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0]
        raise XltError(
            f"cannot read the encoder {resources.model_path}: {first} (a study's pretrained encoder "
            "lives in $XLT_CACHE: run the study again to rebuild it)"
        ) from None
    return config.num_hidden_layers


def load_encoder(entry: Encoding, encoders: Encoders, study_dir: Path | None):
    """(encoder in eval mode, tokenizer): the entry's encoder exactly as trained (prompts and LoRA included),
    without its task head."""
    from xlt.methods import get_method
    from xlt.model import load_trainable
    from xlt.pipeline.stage.build import build_task_model, load_backbone, load_tokenizer
    from xlt.tasks import get_task

    resources = encoders.resources
    stage = entry.handle
    if stage is None:  # the pretrained encoder itself, no method tensors
        finetune = get_method("finetune")
        encoder = finetune().adapt(load_backbone(resources), finetune.Options())
    else:
        model = build_task_model(
            stage.method, stage.method_options, get_task(stage.task), stage.head_options, resources, stage.seed
        )
        if entry.role != "base":  # a random-init base is the stage's model before its training
            assert study_dir is not None  # a trained stage lives in its study
            load_trainable(model, StudyLayout(study_dir).stage(stage.hash) / CHECKPOINT, prefix="encoder.")
        encoder = model.encoder
    return encoder.eval(), load_tokenizer(resources)
