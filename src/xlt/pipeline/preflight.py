"""Check a run's inputs before it writes anything: bad input fails in one line with no partial study.

Every data file the stages still to run will read is read once here (each task, split and language:
empty, truncated, non-UTF-8 or foreign files, missing columns, labels outside the task's, a missing
split or language), and the encoder and its tokenizer are loaded (a missing, unreadable or
remote-code checkpoint; the Hub out of reach).
"""

from __future__ import annotations

from xlt.pipeline.build import load_backbone, load_tokenizer
from xlt.pipeline.plan import Plan
from xlt.pipeline.stages import Context, is_complete
from xlt.tasks import get_task


def check_inputs(plan: Plan, ctx: Context) -> None:
    reads: set[tuple[str, str, str]] = set()
    for stage in plan.train.values():
        if stage.training.steps != 0 and not is_complete(ctx.stage_dir(stage.hash)):
            reads |= {(stage.task, "train", lang) for lang in stage.languages}
    for ev in plan.evals:
        if is_complete(ctx.stage_dir(ev.hash)):
            continue
        reads |= {(ev.task, ev.split, lang) for lang in ev.languages}
        if ev.source is None and "train" in get_task(ev.task).splits:  # the majority reference's training labels
            reads |= {(ev.task, "train", lang) for lang in ev.train_languages}
    if not reads:
        return
    load_tokenizer(ctx.resources)
    load_backbone(ctx.resources)
    for task, split, lang in sorted(reads):
        get_task(task).load(split, lang, ctx.resources.data_dir)
