"""Check a run's inputs before it writes anything: bad input fails in one line with no partial study.

Every data file the stages still to run will read is read once here (each task, split and language:
empty, truncated, non-UTF-8 or foreign files, missing columns, labels outside the task's, a missing
split or language), and the encoder and its tokenizer are loaded (a missing, unreadable or
remote-code checkpoint; the Hub out of reach; an architecture no encoder family of `xlt.encoders` runs, or a method
its family cannot run).
"""

from __future__ import annotations

from xlt.encoders import family_of
from xlt.errors import XltError
from xlt.pipeline.plan.graph import Plan, TrainStage
from xlt.pipeline.stage.build import load_backbone, load_tokenizer
from xlt.pipeline.stage.context import Context
from xlt.pipeline.stage.directory import is_complete
from xlt.tasks import get_task


def check_inputs(plan: Plan, ctx: Context) -> None:
    reads: set[tuple[str, str, str]] = set()
    training: list[TrainStage] = []
    for stage in plan.train.values():
        if stage.training.steps != 0 and not is_complete(ctx.stage_dir(stage.hash)):
            reads |= {(stage.task, "train", lang) for lang in stage.languages}
            training.append(stage)
    for ev in plan.evals:
        if is_complete(ctx.stage_dir(ev.hash)):
            continue
        reads |= {(ev.task, ev.split, lang) for lang in ev.languages}
        labelled = get_task(ev.task).majority_task() if ev.source is None else None
        if labelled is not None:  # the majority reference's training labels
            reads |= {(labelled.name, "train", lang) for lang in ev.train_languages}
    if not reads:
        return
    load_tokenizer(ctx.resources)
    check_family(load_backbone(ctx.resources), training, ctx.resources.model_path)
    for task, split, lang in sorted(reads):
        get_task(task).load(split, lang, ctx.resources.data_dir)


def check_family(backbone, stages: list[TrainStage], model: str) -> None:
    """The backbone's family exists and runs every method and head of the stages still to train."""
    family = family_of(backbone)
    for method in sorted({stage.method for stage in stages}):
        reason = family.refusal(backbone, method)
        if reason:
            raise XltError(f"method {method!r} cannot run on {model!r} ({family.name} family): {reason}; drop it")
    pooled = [stage for stage in stages if getattr(stage.head_options, "pooling", None) == "cls_pooler"]
    if pooled and getattr(backbone, "pooler", None) is None:
        raise XltError(
            f"{pooled[0].task}: pooling 'cls_pooler' needs a backbone with a pooler and {model!r} ({family.name} "
            "family) has none; choose 'cls_dense' or 'mean'"
        )
