"""A study's stages as jobs for the local scheduler (`xlt.pipeline.run.scheduler`): what each needs complete before
it runs, what it says when it starts, and the call that runs it."""

from __future__ import annotations

from functools import partial

from xlt.errors import XltError
from xlt.pipeline.plan.graph import EvalStage, Plan, TrainStage, unique_evals
from xlt.pipeline.run.scheduler import Job, run_one
from xlt.pipeline.stage.context import Context
from xlt.pipeline.stage.evaluate import evaluate_stage
from xlt.pipeline.stage.train import train_stage
from xlt.runtime import integrity
from xlt.runtime.display import log


def run_stage(plan: Plan, stage_hash: str, ctx: Context) -> None:
    """Train or evaluate the one stage of the plan with this hash (what a cluster job runs), under its lock."""
    if stage_hash in plan.train:
        job = _train_job(plan.train[stage_hash], ctx)
    else:
        ev = next((ev for ev in plan.evals if ev.hash == stage_hash), None)
        if ev is None:
            raise XltError(f"stage {stage_hash} is not in the plan of {ctx.layout.root} (was the config changed?)")
        job = _eval_job(ev, plan, ctx)
    run_one(job, log)


def stage_jobs(plan: Plan, ctx: Context) -> list[Job]:
    """Every stage of the plan as a job: training stages (parents first), then each distinct evaluation."""
    return [_train_job(stage, ctx) for stage in plan.train.values()] + [
        _eval_job(ev, plan, ctx) for ev in unique_evals(plan)
    ]


def to_run(jobs: list[Job]) -> int:
    return sum(not integrity.is_complete(job.directory) for job in jobs)


def _train_job(stage: TrainStage, ctx: Context) -> Job:
    return Job(
        ctx.stage_dir(stage.hash),
        tuple(ctx.stage_dir(p) for p in [stage.parent] if p),
        f"training {stage.describe()} ({stage.hash})",
        partial(train_stage, stage, ctx),
    )


def _eval_job(ev: EvalStage, plan: Plan, ctx: Context) -> Job:
    return Job(
        ctx.stage_dir(ev.hash),
        tuple(ctx.stage_dir(s) for s in [ev.source] if s),
        f"evaluating {ev.label} / {ev.intermediate} on {ev.task}, {len(ev.languages)} languages ({ev.hash})",
        partial(evaluate_stage, ev, plan.train.get(ev.source) if ev.source else None, ctx),
    )
