"""Run a study: resolve resources, plan, train what is not complete, evaluate, collect, report.

Results are rebuilt from the completed evaluation stages in plan order on every run, so a run that
was killed and resumed writes exactly the rows of an uninterrupted one: none lost, none twice. Inputs
are checked before anything is written (`preflight`), and stages run under per-stage locks
(`scheduler`), so several processes (and cluster jobs) may run one study directory at once. Under
several processes of one launch (`accelerate launch`, `torchrun`) they run each stage together and the
main one prints and writes (`xlt.distributed`).
"""

from __future__ import annotations

import json
import platform
import subprocess
import time
from dataclasses import dataclass, replace
from functools import partial
from importlib import metadata
from pathlib import Path

import torch
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from xlt import integrity, interrupts
from xlt.config import Study
from xlt.distributed import is_main, main_first, on_main
from xlt.errors import XltError
from xlt.io import atomic_copy_tree, atomic_write_csv, atomic_write_json
from xlt.machine import cpu_name
from xlt.pipeline.evaluate import evaluate_stage
from xlt.pipeline.manifest import save_manifest
from xlt.pipeline.plan import EvalStage, Plan, TrainStage, build_plan, unique_evals
from xlt.pipeline.preflight import check_inputs
from xlt.pipeline.progress import StudyDisplay, log, log_every
from xlt.pipeline.randomness import randomness
from xlt.pipeline.resources import Resources, cache_dir, resolve
from xlt.pipeline.scheduler import Job, run_jobs, run_one
from xlt.pipeline.stages import RESUME, Context, is_complete, stage_info
from xlt.pipeline.tracking import Tracking
from xlt.pipeline.train import train_stage
from xlt.pipeline.workers import worker_processes
from xlt.results import (
    COLUMNS,
    DISTANCES,
    EXAMPLES,
    LANGUAGES,
    PROVENANCE,
    RESULTS,
    TASKS,
    Provenance,
    StageProvenance,
    units_dir,
)
from xlt.tasks import get_task

PACKAGES = ("xlt", "torch", "transformers", "peft", "datasets", "accelerate", "seqeval", "tokenizers")


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
    """`workers`: processes running stages at once on this machine, this one included (`xlt.pipeline.workers`).
    `console` shows progress (stderr), `output` the plan and its needs (stdout)."""
    log_every()  # a bad $XLT_LOG_EVERY is one line before anything is built or written
    console = console or Console(stderr=True)
    output = output or Console()
    console.quiet = console.quiet or not is_main()
    output.quiet = output.quiet or not is_main()
    progress = progress and is_main()
    started = time.perf_counter()
    study = with_precision(study)
    with main_first():  # the main process generates the benchmark and pretrains the encoder if they are missing
        resources = resolve(study, progress=progress, build=not dry_run)
    out_dir = study.output_dir
    plan = study_plan(study, resources)
    tracking = Tracking.for_study(study, plan, out_dir) if is_main() else None
    ctx = Context(out_dir, resources, cache_dir(), study.mixed_precision, progress, tracking)
    if not dry_run:
        check_inputs(plan, ctx)  # before anything is written or shown: bad input gives one line and no study
    output.print(plan_table(plan, ctx))
    if dry_run:
        _print_needs(plan, resources, output)
        return Outcome(out_dir, plan, 0, {})
    on_main(save_manifest, out_dir, study, resources, ctx.cache_root)
    with StudyDisplay(out_dir, plan, console, progress) as display:
        jobs = stage_jobs(plan, replace(ctx, display=display))
        with worker_processes(out_dir, min(workers, _to_run(jobs))):
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
    from xlt.pipeline.needs import needs_table

    table, missing = needs_table(plan, resources)
    console.print(table)
    lines = [f"missing locally: {line}" for line in missing] or ["every file the plan reads is present"]
    for line in lines:
        console.print(line, highlight=False, markup=False)


def study_plan(study: Study, resources: Resources) -> Plan:
    return build_plan(study, {**resources.identity, "mixed_precision": study.mixed_precision}, resources.token_types)


def run_stage(plan: Plan, stage_hash: str, ctx: Context) -> None:
    """Train or evaluate the one stage of the plan with this hash (what a cluster job runs), under its lock."""
    if stage_hash in plan.train:
        job = _train_job(plan.train[stage_hash], ctx)
    else:
        ev = next((ev for ev in plan.evals if ev.hash == stage_hash), None)
        if ev is None:
            raise XltError(f"stage {stage_hash} is not in the plan of {ctx.out_dir} (was the config changed?)")
        job = _eval_job(ev, plan, ctx)
    run_one(job, log)


def stage_jobs(plan: Plan, ctx: Context) -> list[Job]:
    """Every stage of the plan as a job: training stages (parents first), then each distinct evaluation."""
    return [_train_job(stage, ctx) for stage in plan.train.values()] + [
        _eval_job(ev, plan, ctx) for ev in unique_evals(plan)
    ]


def _to_run(jobs: list[Job]) -> int:
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
        f"evaluating {ev.recipe} / {ev.intermediate} on {ev.task}, {len(ev.languages)} languages ({ev.hash})",
        partial(evaluate_stage, ev, plan.train.get(ev.source) if ev.source else None, ctx),
    )


def finish_study(study: Study, plan: Plan, ctx: Context, wall_seconds: float, console: Console) -> dict[str, Path]:
    """Results, provenance and report from the completed stages."""
    collect(study, plan, ctx, wall_seconds)
    from xlt.report import build_report

    report = build_report(ctx.out_dir)
    interrupts.stop_if_requested("while writing the report (every stage is kept)")  # a stop Python swallowed
    console.print(f"[bold green]done[/]: {len(plan.evals)} evaluations; report at {report.get('html', ctx.out_dir)}")
    return report


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


def collect(study: Study, plan: Plan, ctx: Context, wall_seconds: float) -> None:
    """Write results.csv, tasks.json, units/, predictions/, examples/ and provenance.json from the completed stages."""
    rows = []
    branched = _branched_tasks(plan)
    for ev in plan.evals:
        interrupts.stop_if_requested("while collecting the results (every stage is kept)")
        directory = ctx.stage_dir(ev.hash)
        recipe = {
            "method": ev.recipe,
            "intermediate": ev.intermediate,
            "target_task": ev.task,
            "train_languages": "+".join(ev.train_languages),
            "seed": ev.seed,
            "stage_hash": ev.result_hash,
        }
        rows += [{**recipe, **row} for row in _read_json(directory / "rows.json")]
        atomic_copy_tree(directory / "units", ctx.out_dir / "units" / units_dir(ev.recipe, ev.result_hash))
        run = f"{ev.recipe}.{ev.intermediate}.seed{ev.seed}"
        if ev.task in branched:
            run += f".from-{'+'.join(ev.train_languages)}"
        for folder in ("predictions", EXAMPLES):
            atomic_copy_tree(directory / folder, ctx.out_dir / folder / run)
    atomic_write_csv(ctx.out_dir / RESULTS, COLUMNS, rows)
    tasks = sorted({ev.task for ev in plan.evals})
    atomic_write_json(ctx.out_dir / TASKS, {task: get_task(task).record() for task in tasks})
    _write_languages(study, plan, ctx)
    atomic_write_json(ctx.out_dir / PROVENANCE, provenance(study, plan, ctx, wall_seconds).model_dump(mode="json"))


def _branched_tasks(plan: Plan) -> set[str]:
    """Tasks evaluated after training on more than one set of languages (a target's `sources`): their predictions
    folders name the training languages too, so that one branch's never overwrite another's."""
    trained = {(ev.task, ev.train_languages) for ev in plan.evals}
    return {task for task, _ in trained if sum(other == task for other, _ in trained) > 1}


def _write_languages(study: Study, plan: Plan, ctx: Context) -> None:
    """languages.json and distances.json: each evaluated language's name, family and script, and its distances
    from each training language (`xlt.languages`)."""
    from xlt.languages import describe

    languages = list(dict.fromkeys(lang for ev in plan.evals for lang in ev.languages))
    sources = list(dict.fromkeys(lang for ev in plan.evals for lang in ev.train_languages))
    properties, distances = describe(languages, sources, study.data.synthetic is not None, ctx.cache_root)
    atomic_write_json(ctx.out_dir / LANGUAGES, properties)
    atomic_write_json(ctx.out_dir / DISTANCES, distances)


def provenance(study: Study, plan: Plan, ctx: Context, wall_seconds: float) -> Provenance:
    stages = {
        stage.hash: StageProvenance(
            **stage_info(ctx.stage_dir(stage.hash)),
            role=stage.role,
            task=stage.task,
            method=stage.method,
            method_options=stage.method_options.model_dump(mode="json"),
            head_options=stage.head_options.model_dump(mode="json"),
            languages=list(stage.languages),
            seed=stage.seed,
        )
        for stage in plan.train.values()
    }
    return Provenance(
        config=study.model_dump(mode="json"),
        resources={
            "model": ctx.resources.model_path,
            "data_dir": str(ctx.resources.data_dir),
            "identity": ctx.resources.identity,
        },
        git_commit=_git_commit(),
        versions={name: _version(name) for name in PACKAGES},
        python=platform.python_version(),
        device=torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"cpu ({cpu_name()})",
        training_runs=plan.training_runs,
        stages=stages,
        evaluations=_evaluations(plan, ctx),
        randomness=randomness(study, ctx.resources),
        wall_seconds_this_run=round(wall_seconds, 2),
    )


def _evaluations(plan: Plan, ctx: Context) -> dict[str, dict]:
    return {
        ev.hash: {
            "recipe": ev.recipe,
            "intermediate": ev.intermediate,
            "task": ev.task,
            "split": ev.split,
            "seed": ev.seed,
            "checkpoint": stage_info(ctx.stage_dir(ev.hash))["checkpoint"],
        }
        for ev in plan.evals
        if ev.source is not None
    }


def _read_json(path: Path):
    return json.loads(path.read_text())


def _git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
