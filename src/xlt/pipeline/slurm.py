"""Run a study's stages as Slurm jobs through submitit, one `xlt` process per job and one stage per process.

The driver builds the encoder and the benchmark once, saves the study's manifest, then submits every
stage that is not complete and not already queued or running, and returns. Stages that wait for the same
stage (nothing; one intermediate stage; one trained stage to evaluate) form one job array, submitted with
`afterok` on that stage's job, so a target stage starts only once its intermediate stage has finished and
an evaluation only once its training has. `--kill-on-invalid-dep` makes Slurm cancel what waits on a
failed job, so nothing hangs in the queue. A job marks its stage COMPLETED itself; the driver never
resubmits a complete stage, and resubmits a failed one (with what depends on it) only with
`retry_failed`. Training resumes from its checkpoint, and a job that reaches its time limit is requeued by
submitit (the job is Checkpointable) and resumes the same way. Results are collected by the next
`xlt run --backend slurm` or `xlt status` once every stage is done.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import submitit
from rich.console import Console

from xlt.config import Study
from xlt.errors import XltError
from xlt.pipeline.plan.graph import study_plan
from xlt.pipeline.plan.resources import cache_dir, resolve
from xlt.pipeline.run.job_records import JobRecord, live_states, load_records, logs_folder, save_records, write_run
from xlt.pipeline.run.manifest import Manifest, load_manifest, save_manifest
from xlt.pipeline.run.runner import with_precision
from xlt.pipeline.run.stage_jobs import run_stage
from xlt.pipeline.run.status import Planned, StageStatus, collect_if_stale, print_status, stage_statuses
from xlt.pipeline.stage.directory import is_complete
from xlt.pipeline.stage.train import RESUME
from xlt.resume import STATE

WAITING = ("running", "queued")


@dataclass(frozen=True)
class SlurmOptions:
    partition: str | None = None  # the cluster's default partition when None
    gpus_per_job: int = 0
    cpus_per_job: int = 1
    time: str = "4:00:00"  # per job, in sbatch's --time formats
    array_parallelism: int = 32  # jobs of one array running at once
    retry_failed: bool = False

    def sbatch_flags(self) -> list[str]:
        flags = [f"--time={self.time}", f"--cpus-per-task={self.cpus_per_job}"]
        flags += [f"--partition={self.partition}"] if self.partition else []
        return flags + ([f"--gpus-per-node={self.gpus_per_job}"] if self.gpus_per_job else [])


@dataclass(frozen=True)
class Group:
    """Stages submitted together as one job array, all waiting for the same stage's job (or for nothing)."""

    after: str | None  # the stage hash whose job the array waits for
    stages: tuple[Planned, ...]


def submission_groups(statuses: list[StageStatus], retry_failed: bool) -> tuple[list[Group], list[Planned]]:
    """The arrays to submit, each after the one holding the stage it waits for, and the stages held back
    because a stage they need failed and is not retried. `statuses` lists upstream stages first."""
    by_hash = {s.stage.hash: s for s in statuses}
    chosen: dict[str, int] = {}  # stage hash -> depth (arrays it waits through in this submission)
    groups: dict[str | None, list[Planned]] = {}
    blocked = []
    for status in statuses:
        if not (status.state == "to run" or (status.state == "failed" and retry_failed)):
            continue
        stage = status.stage
        upstream = by_hash.get(stage.upstream) if stage.upstream else None
        if upstream is None or upstream.state == "done":
            after = None
        elif upstream.state in WAITING or stage.upstream in chosen:
            after = stage.upstream
        else:
            blocked.append(stage)
            continue
        chosen[stage.hash] = chosen[after] + 1 if after in chosen else 0
        groups.setdefault(after, []).append(stage)
    ordered = sorted(groups.items(), key=lambda item: chosen[item[0]] + 1 if item[0] in chosen else 0)
    return [Group(after, tuple(stages)) for after, stages in ordered], blocked


def submit_study(study: Study, options: SlurmOptions, console: Console, dry_run: bool = False) -> dict[str, JobRecord]:
    """Submit what the study still needs and return at once; collect the results if nothing is left."""
    began = time.time()  # before the encoder is pretrained (study.json)
    minutes = slurm_minutes(options.time)
    if not dry_run:
        _check_sbatch(options)
    study = with_precision(study, gpu=options.gpus_per_job > 0)  # the jobs' GPUs, not this machine's
    resources = resolve(study, build=not dry_run)
    manifest = Manifest(study.output_dir.resolve(), study, resources, cache_dir())
    plan = study_plan(study, resources)
    records = load_records(manifest.study_dir)
    statuses = stage_statuses(manifest.study_dir, plan, records, live_states([r.job_id for r in records.values()]))
    groups, blocked = submission_groups(statuses, options.retry_failed)
    if dry_run:
        print_status(manifest.study_dir, plan, records, console)
        for group in groups:
            waits = f", after stage {group.after}" if group.after else ""
            console.print(f"would submit {_describe(group)}{waits}", highlight=False, markup=False)
        return records
    if all(s.state == "done" for s in statuses):
        elapsed = print_status(manifest.study_dir, plan, records, console)[1]
        collect_if_stale(manifest, plan, elapsed or 0.0, console)
        return records
    save_manifest(manifest.study_dir, study, resources, manifest.cache_root, began)
    executor = _executor(manifest, options, minutes)
    try:
        for group in groups:
            after = records[group.after].job_id if group.after else None
            for stage, job_id in zip(group.stages, _submit(executor, manifest.study_dir, group, after)):
                earlier = records[stage.hash].earlier + [records[stage.hash].job_id] if stage.hash in records else []
                records[stage.hash] = JobRecord(stage.hash, job_id, time.time(), after, earlier)
            job = records[group.stages[0].hash].job_id.split("_")[0]
            console.print(
                f"submitted job {job}: {_describe(group)}" + (f", after job {after}" if after else ""),
                highlight=False,
                markup=False,
            )
    finally:
        save_records(manifest.study_dir, records)  # what was submitted is tracked even if a later sbatch failed
    print_status(manifest.study_dir, plan, records, console)
    if not groups:
        console.print("nothing to submit: every stage is done, queued, running or failed", highlight=False)
    _explain_held_back(statuses, blocked, options, console)
    return records


def _explain_held_back(
    statuses: list[StageStatus], blocked: list[Planned], options: SlurmOptions, console: Console
) -> None:
    failed = sum(s.state == "failed" for s in statuses)
    if failed and not options.retry_failed:
        console.print(
            f"{failed} failed stage{'s' * (failed > 1)} not resubmitted ({len(blocked)} more wait on"
            " them): see the reasons above, fix the cause, then add --retry-failed",
            highlight=False,
        )


def _describe(group: Group) -> str:
    return group.stages[0].label if len(group.stages) == 1 else f"an array of {len(group.stages)} stages"


def _check_sbatch(options: SlurmOptions) -> None:
    """Fail before building anything: no sbatch here, or a request the cluster refuses (partition, time)."""
    if shutil.which("sbatch") is None:
        raise XltError(
            "--backend slurm: sbatch is not on PATH (run on a machine of the Slurm cluster, or use --backend local)"
        )
    probe = subprocess.run(
        ["sbatch", "--test-only", *options.sbatch_flags(), "--wrap=true"], capture_output=True, text=True, timeout=120
    )
    if probe.returncode != 0:
        raise XltError(f"sbatch refused the job: {sbatch_error(probe.stderr)}")


def _executor(manifest: Manifest, options: SlurmOptions, minutes: int) -> submitit.SlurmExecutor:
    executor = submitit.SlurmExecutor(folder=logs_folder(manifest.study_dir))
    executor.update_parameters(
        job_name=f"xlt-{manifest.study.name}",
        partition=options.partition,
        time=minutes,
        cpus_per_task=options.cpus_per_job,
        gpus_per_node=options.gpus_per_job or None,
        array_parallelism=options.array_parallelism,
        additional_parameters={"kill-on-invalid-dep": "yes"},
    )
    return executor


def _submit(executor: submitit.SlurmExecutor, study_dir: Path, group: Group, after: str | None) -> list[str]:
    executor.update_parameters(dependency=f"afterok:{after}" if after else None)
    try:
        # submitit prints sbatch's stderr before raising it; the CLI shows it once, as one line
        with contextlib.redirect_stderr(io.StringIO()), executor.batch():
            jobs = [executor.submit(StageJob(), str(study_dir), stage.hash) for stage in group.stages]
    except submitit.core.utils.FailedJobError as err:
        raise XltError(f"sbatch refused the job: {sbatch_error(str(err))}") from None
    return [job.job_id for job in jobs]


def sbatch_error(text: str) -> str:
    lines = [line.strip().removeprefix("sbatch: error: ") for line in text.splitlines() if line.strip()]
    return "; ".join(lines) or "no message"


TIME = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")


def slurm_minutes(text: str) -> int:
    """sbatch's --time (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS) in whole minutes, rounded up."""
    match = TIME.match(text.strip())
    if match is None:
        raise XltError(f"--time {text!r}: not a Slurm time (minutes, HH:MM:SS or D-HH:MM:SS)")
    days, first, second, third = match.groups()
    count = [int(g or 0) for g in (first, second, third)]
    if days is not None or third is not None:  # D-HH[:MM[:SS]] or HH:MM:SS
        hours, mins, secs = count
    else:  # MM[:SS]
        hours, mins, secs = 0, count[0], count[1]
    total = (int(days or 0) * 24 + hours) * 60 + mins + (secs + 59) // 60
    if total < 1:
        raise XltError(f"--time {text!r}: a job needs at least one minute")
    return total


class StageJob(submitit.helpers.Checkpointable):
    """What one job runs: one stage of the study in `study_dir`, rebuilt from its manifest. Checkpointable:
    at its time limit submitit requeues the same call, and training resumes from its last checkpoint."""

    def __call__(self, study_dir: str, stage_hash: str) -> str:
        manifest = load_manifest(Path(study_dir))
        ctx = manifest.context()
        directory = ctx.stage_dir(stage_hash)
        if is_complete(directory):
            return "already complete"
        _check_visible(manifest)
        job_id = submitit.JobEnvironment().job_id
        run = {
            "stage": stage_hash,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": time.time(),
            "resumable": (directory / RESUME / STATE).is_file(),
        }
        write_run(manifest.study_dir, job_id, run)
        print(f"stage {stage_hash} on {run['host']}", flush=True)
        try:
            run_stage(manifest.plan(), stage_hash, ctx)
        except BaseException as err:  # interrupts too: the record says how the job ended
            write_run(manifest.study_dir, job_id, {**run, "ended": time.time(), "error": _one_line(err)})
            raise
        write_run(manifest.study_dir, job_id, {**run, "ended": time.time()})
        return "complete"


def _check_visible(manifest: Manifest) -> None:
    """The driver built the encoder and benchmark; a node that cannot see them says so instead of failing
    deep inside a loader."""
    res = manifest.resources
    local = [Path(res.model_path)] if {"pretrained", "path"} & set(res.identity["model"]) else []
    for path in local + ([res.data_dir] if res.data_dir else []):
        if not path.exists():
            raise XltError(
                f"{path} is not visible on {socket.gethostname()}: the driver built it there; put"
                " XLT_CACHE (and the study directory) on a filesystem the compute nodes share"
            )


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__
