"""Run a study here: resolve resources, plan, train what is not complete, evaluate, collect, report.

Inputs are checked before anything is written (`preflight`), and stages run under per-stage locks
(`scheduler`), so several processes (and cluster jobs) may run one study directory at once. Under
several processes of one launch (`accelerate launch`, `torchrun`) they run each stage together and the
main one prints and writes (`xlt.runtime.distributed`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from xlt.config import Study
from xlt.pipeline.plan.graph import Plan, study_plan, unique_evals
from xlt.pipeline.plan.resources import Resources, cache_dir, resolve
from xlt.pipeline.run.collect import finish_study
from xlt.pipeline.run.manifest import save_manifest
from xlt.pipeline.run.preflight import check_inputs
from xlt.pipeline.run.progress import StudyDisplay
from xlt.pipeline.run.scheduler import run_jobs
from xlt.pipeline.run.stage_jobs import stage_jobs, to_run
from xlt.pipeline.run.workers import worker_processes
from xlt.pipeline.stage.context import Context, Reporting
from xlt.pipeline.stage.directory import is_complete
from xlt.pipeline.stage.tracking import Tracking
from xlt.results.layout import RESUME, StudyLayout
from xlt.runtime import integrity
from xlt.runtime.display import log_every
from xlt.runtime.distributed import is_main, main_first, on_main


@dataclass
class Outcome:
    out_dir: Path
    plan: Plan
    trained: int  # training stages run (or resumed) by this call
    report: dict[str, Path]


def run_study(
    study: Study,
    console: Console | None = None,
    dry_run: bool = False,
    progress: bool = True,
    workers: int = 1,
    output: Console | None = None,
) -> Outcome:
    """`workers`: processes running stages at once on this machine, this one included (`xlt.pipeline.run.workers`).
    `console` shows progress (stderr), `output` the plan and its needs (stdout)."""
    log_every()  # a bad $XLT_LOG_EVERY is one line before anything is built or written
    console = console or Console(stderr=True)
    output = output or Console()
    console.quiet = console.quiet or not is_main()
    output.quiet = output.quiet or not is_main()
    progress = progress and is_main()
    started, began = time.perf_counter(), time.time()  # began: before the encoder is pretrained (study.json)
    study = with_precision(study)
    with main_first():  # the main process generates the benchmark and pretrains the encoder if they are missing
        resources = resolve(study, progress=progress, build=not dry_run)
    out_dir = study.output_dir
    plan = study_plan(study, resources)
    tracking = Tracking.for_study(study, plan, out_dir) if is_main() else None
    ctx = Context(StudyLayout(out_dir), resources, cache_dir(), study.mixed_precision, Reporting(progress, tracking))
    if not dry_run:
        check_inputs(plan, ctx)  # before anything is written or shown: bad input gives one line and no study
    output.print(plan_table(plan, ctx))
    if dry_run:
        _print_needs(plan, resources, output)
        return Outcome(out_dir, plan, 0, {})
    on_main(save_manifest, out_dir, study, resources, ctx.cache_root, began)
    with StudyDisplay(out_dir, plan, console, progress) as display:
        jobs = stage_jobs(plan, replace(ctx, reporting=replace(ctx.reporting, display=display)))
        with worker_processes(out_dir, min(workers, to_run(jobs))):
            ran = run_jobs(jobs, display.say)  # before each stage this process runs or waits for
    trained = sum(job.directory.name in plan.train for job in ran)
    if not is_main():
        return Outcome(out_dir, plan, trained, {})
    report = finish_study(study, plan, ctx, time.perf_counter() - started, console)
    return Outcome(out_dir, plan, trained, report)


def with_precision(study: Study, gpu: bool | None = None) -> Study:
    """The study with "auto" precision resolved (before any plan is built, so a stage's hash names the
    precision it runs in): bf16 on a GPU that has it, full precision on CPUs. `gpu`: whether the stages will
    run on bf16-capable GPUs, where that is not this machine (a cluster's jobs); None: ask this machine."""
    if study.mixed_precision != "auto":
        return study
    if gpu is None:
        gpu = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return study.model_copy(update={"mixed_precision": "bf16" if gpu else "no"})


def _print_needs(plan: Plan, resources: Resources, console: Console) -> None:
    from xlt.pipeline.plan.needs import needs_table

    table, missing = needs_table(plan, resources)
    console.print(table)
    lines = [f"missing locally: {line}" for line in missing] or ["every file the plan reads is present"]
    for line in lines:
        console.print(line, highlight=False, markup=False)


def plan_table(plan: Plan, ctx: Context) -> Table:
    to_run = sum(not is_complete(ctx.stage_dir(stage.hash)) for stage in plan.train.values())
    table = Table(
        title=f"plan: {plan.training_runs} training runs ({to_run} to run after reuse), "
        f"{len(unique_evals(plan))} evaluations"
    )
    for column in ("stage", "hash", "parent", "feeds", "status"):
        table.add_column(column)
    for stage in plan.train.values():
        status = _status(ctx.stage_dir(stage.hash))
        table.add_row(escape(stage.describe()), stage.hash, stage.parent or "-", _feeds(plan, stage.hash), status)
    return table


def _status(directory: Path) -> str:
    if integrity.is_marked(directory):
        return "complete" if is_complete(directory) else "damaged: runs again"
    return "resumable" if (directory / RESUME).exists() else "to run"


def _feeds(plan: Plan, stage_hash: str) -> str:
    """What a training stage is used by: later training stages, and the tasks evaluated on it."""
    children = sum(stage.parent == stage_hash for stage in plan.train.values())
    evaluated = sorted({ev.task for ev in plan.evals if ev.source == stage_hash})
    parts = ([f"{children} training stage{'s' * (children > 1)}"] if children else []) + evaluated
    return ", ".join(parts) or "-"
