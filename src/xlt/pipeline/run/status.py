"""A study at a glance: every stage done, running, queued, failed or still to run, with its job and the
reason a failed one gave, and one line: stages done / total, elapsed, time left at the pace so far.

It reads the study directory (manifest, stage markers, job records) and, when squeue answers, the live
queue; it never needs the machine the study runs on. Once every stage is done it collects the results.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from xlt.pipeline.plan.graph import Plan
from xlt.pipeline.run.collect import finish_study
from xlt.pipeline.run.job_records import JobRecord, Live, live_states, load_records, log_error, read_run
from xlt.pipeline.run.manifest import Manifest, load_manifest
from xlt.pipeline.run.progress import Planned, StageStatus, done_status, elapsed_seconds, overall_line, planned_stages
from xlt.pipeline.stage.directory import MARKER
from xlt.results.layout import RESULTS, StudyLayout

QUEUED = {"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING", "SUSPENDED", "STOPPED"}
RUNNING = {"RUNNING", "COMPLETING", "SIGNALING", "STAGE_OUT"}


def stage_statuses(
    study_dir: Path, plan: Plan, records: dict[str, JobRecord], live: dict[str, Live] | None
) -> list[StageStatus]:
    statuses: dict[str, StageStatus] = {}
    for stage in planned_stages(plan):
        status = _status(study_dir, stage, records.get(stage.hash), live)
        upstream = statuses.get(stage.upstream) if stage.upstream else None
        if status.state in ("queued", "failed") and upstream is not None and upstream.state == "failed":
            # its afterok can no longer hold: Slurm cancels it (--kill-on-invalid-dep) or has forgotten it, or
            # only the files are there to read and they still say queued
            status = StageStatus(stage, "failed", status.job_id, f"upstream stage {stage.upstream} failed")
        statuses[stage.hash] = status
    return list(statuses.values())


def _status(study_dir: Path, stage: Planned, record: JobRecord | None, live: dict[str, Live] | None) -> StageStatus:
    done = done_status(study_dir, stage, record.job_id if record else None)
    if done is not None:
        return done
    if record is None:
        return StageStatus(stage, "to run")
    job, run = record.job_id, read_run(study_dir, record.job_id)
    known = live.get(job) if live is not None else None
    if known is not None and known.state in QUEUED:
        return StageStatus(stage, "queued", job, _waiting(known))
    if known is not None and known.state in RUNNING:
        return StageStatus(stage, "running", job)
    if known is None and live is None and (run is None or "ended" not in run):  # no scheduler to ask
        return StageStatus(stage, "queued" if run is None else "running", job)
    return StageStatus(stage, "failed", job, _failure(study_dir, stage, job, run, known))


def _waiting(live: Live) -> str | None:
    return None if live.reason in ("None", "") else live.reason


def _failure(study_dir: Path, stage: Planned, job: str, run: dict | None, live: Live | None) -> str:
    if run is not None and run.get("error"):
        return run["error"]
    if live is not None and live.reason == "DependencyNeverSatisfied":
        return f"upstream stage {stage.upstream} failed"
    words = log_error(study_dir, job)
    state = (
        f"{live.state} ({live.reason})"
        if live is not None and live.reason != "None"
        else (live.state if live is not None else "ended")
    )
    if run is None and words is None:
        return f"{state} before it started"
    return f"{state}: {words}" if words else f"{state} without writing {MARKER}"


def status_table(statuses: list[StageStatus]) -> Table:
    table = Table(title="stages")
    for column in ("stage", "hash", "state", "job", "reason"):
        table.add_column(column)
    for s in statuses:
        table.add_row(escape(s.stage.label), s.stage.hash, s.state, s.job_id or "-", escape(s.reason or ""))
    return table


def print_status(
    study_dir: Path, plan: Plan, records: dict[str, JobRecord], console: Console
) -> tuple[list[StageStatus], float | None]:
    """The table and the overall line; returns the statuses and the elapsed time (the study's, setup included)."""
    live = live_states([r.job_id for r in records.values()]) if records else None
    statuses = stage_statuses(study_dir, plan, records, live)
    console.print(status_table(statuses))
    elapsed = elapsed_seconds(study_dir, statuses, records, time.time())
    note = " (squeue did not answer: job states read from files)" if records and live is None else ""
    console.print(overall_line(statuses, elapsed) + note, highlight=False)
    return statuses, None if elapsed is None else elapsed.total


def show_status(study_dir: Path, console: Console) -> list[StageStatus]:
    """`xlt status`: every stage's state; the results once every stage is done."""
    manifest = load_manifest(study_dir)
    plan = manifest.plan()
    statuses, elapsed = print_status(manifest.study_dir, plan, load_records(manifest.study_dir), console)
    if all(s.state == "done" for s in statuses):
        collect_if_stale(manifest, plan, elapsed or 0.0, console)
    return statuses


def collect_if_stale(manifest: Manifest, plan: Plan, elapsed: float, console: Console) -> None:
    """Write results and report unless results.csv is already newer than every stage."""
    results = StudyLayout(manifest.study_dir) / RESULTS
    newest = max((p.stat().st_mtime for p in StudyLayout(manifest.study_dir).stages.glob(f"*/{MARKER}")), default=0.0)
    if results.is_file() and results.stat().st_mtime >= newest:
        console.print(f"results are up to date: {results}", highlight=False)
        return
    finish_study(manifest.study, plan, manifest.context(), elapsed, console)
