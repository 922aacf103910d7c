"""Collection: results.csv, tasks.json, units/, predictions/, examples/, languages.json, distances.json and
provenance.json written from the completed stages, in plan order, then the report.

Results are rebuilt from the completed evaluation stages on every run, so a run that was killed and resumed writes
exactly the rows of an uninterrupted one: none lost, none twice."""

from __future__ import annotations

import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import torch
from rich.console import Console

from xlt.config import Study
from xlt.pipeline.plan.graph import Plan
from xlt.pipeline.plan.randomness import randomness
from xlt.pipeline.stage.context import Context
from xlt.pipeline.stage.directory import stage_info
from xlt.results.layout import (
    DISTANCES,
    EXAMPLES,
    LANGUAGES,
    PREDICTIONS,
    PROVENANCE,
    RESULTS,
    ROWS,
    TASKS,
    UNITS,
)
from xlt.results.records import Provenance, StageProvenance, TaskRecord
from xlt.results.rows import COLUMNS, ResultRow, ScoreRow, result_row
from xlt.runtime import interrupts
from xlt.runtime.io import atomic_copy_tree, atomic_write_csv, atomic_write_json
from xlt.runtime.machine import cpu_name
from xlt.tasks import get_task

PACKAGES = ("xlt", "torch", "transformers", "peft", "datasets", "accelerate", "seqeval", "tokenizers")


def finish_study(study: Study, plan: Plan, ctx: Context, wall_seconds: float, console: Console) -> dict[str, Path]:
    """Results, provenance and report from the completed stages."""
    collect(study, plan, ctx, wall_seconds)
    from xlt.report import build_report

    report = build_report(ctx.layout.root)
    interrupts.stop_if_requested("while writing the report (every stage is kept)")  # a stop Python swallowed
    console.print(
        f"[bold green]done[/]: {len(plan.evals)} evaluations; report at {report.get('html', ctx.layout.root)}"
    )
    return report


def collect(study: Study, plan: Plan, ctx: Context, wall_seconds: float) -> None:
    """Write results.csv, tasks.json, units/, predictions/, examples/ and provenance.json from the completed stages."""
    rows: list[ResultRow] = []
    layout = ctx.layout
    branched = _branched_tasks(plan)
    for ev in plan.evals:
        interrupts.stop_if_requested("while collecting the results (every stage is kept)")
        directory = ctx.stage_dir(ev.hash)
        recipe = {
            "method": ev.label,
            "intermediate": ev.intermediate,
            "target_task": ev.task,
            "train_languages": "+".join(ev.train_languages),
            "seed": ev.seed,
            "stage_hash": ev.result_hash,
        }
        rows += [result_row(ScoreRow(**score), **recipe) for score in _read_json(directory / ROWS)]
        atomic_copy_tree(directory / UNITS, layout.units(ev.label, ev.result_hash))
        run = f"{ev.label}.{ev.intermediate}.seed{ev.seed}"
        if ev.task in branched:
            run += f".from-{'+'.join(ev.train_languages)}"
        for folder in (PREDICTIONS, EXAMPLES):
            atomic_copy_tree(directory / folder, layout.outputs(folder, run))
    atomic_write_csv(layout / RESULTS, COLUMNS, [row.model_dump() for row in rows])
    tasks = sorted({ev.task for ev in plan.evals})
    atomic_write_json(layout / TASKS, {task: TaskRecord(**get_task(task).record()).model_dump() for task in tasks})
    _write_languages(study, plan, ctx)
    atomic_write_json(layout / PROVENANCE, provenance(study, plan, ctx, wall_seconds).model_dump(mode="json"))


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
    layout = ctx.layout
    atomic_write_json(layout / LANGUAGES, properties)
    atomic_write_json(layout / DISTANCES, distances)


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
            "recipe": ev.label,
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
