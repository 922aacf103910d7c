"""What is known about a study's cluster jobs, all of it in the study directory except the live queue.

- `slurm/jobs.json` (written by the driver): the job running each stage, when it was submitted, the job
  it waits for and the stage's earlier jobs;
- `slurm/runs/{job id}.json` (written by the job itself): host, pid, start and end, the error that ended
  it; one file per job, so jobs running at once never write the same file;
- `slurm/logs/`: submitit's pickles and the job's stdout and stderr (where a kill leaves its last words);
- `squeue`, when it answers: the scheduler's state of each job.

A stage's own COMPLETED marker, not the scheduler, says whether it finished: accounting (sacct) may be
off, and a job can end well without finishing its stage.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from xlt.results.layout import SLURM, StudyLayout
from xlt.runtime.io import atomic_write_json


@dataclass
class JobRecord:
    stage: str  # the stage hash the job runs
    job_id: str  # "123" or, in an array, "123_4"
    submitted: float  # epoch seconds
    after: str | None = None  # the job it waits for (afterok)
    earlier: list[str] = field(default_factory=list)  # the stage's previous jobs, oldest first


@dataclass(frozen=True)
class Live:
    state: str  # squeue's state name: PENDING, RUNNING, FAILED, CANCELLED, TIMEOUT, ...
    reason: str  # squeue's reason: Dependency, Resources, NonZeroExitCode, DependencyNeverSatisfied, None


def logs_folder(study_dir: Path) -> Path:
    return StudyLayout(study_dir) / SLURM / "logs"


def load_records(study_dir: Path) -> dict[str, JobRecord]:
    path = StudyLayout(study_dir) / SLURM / "jobs.json"
    if not path.is_file():
        return {}
    return {stage: JobRecord(**record) for stage, record in json.loads(path.read_text()).items()}


def save_records(study_dir: Path, records: dict[str, JobRecord]) -> None:
    atomic_write_json(StudyLayout(study_dir) / SLURM / "jobs.json", {stage: asdict(r) for stage, r in records.items()})


def write_run(study_dir: Path, job_id: str, run: dict) -> None:
    atomic_write_json(StudyLayout(study_dir) / SLURM / "runs" / f"{job_id}.json", run)


def read_run(study_dir: Path, job_id: str) -> dict | None:
    path = StudyLayout(study_dir) / SLURM / "runs" / f"{job_id}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def live_states(job_ids: list[str]) -> dict[str, Live] | None:
    """The scheduler's view of these jobs, ended ones included while it remembers them (MinJobAge); None
    when squeue is absent or cannot reach a controller (then states are read from files alone). squeue
    rather than submitit's job.state: that one asks sacct, which answers nothing without accounting."""
    arrays = sorted({job_id.split("_")[0] for job_id in job_ids})
    if not arrays:
        return {}
    try:
        result = subprocess.run(
            ["squeue", "--noheader", "--array", "--states=all", "--format=%i|%T|%r", f"--jobs={','.join(arrays)}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return {} if "Invalid job id" in result.stderr else None  # every job forgotten, or no controller
    rows = (line.split("|", 2) for line in result.stdout.splitlines() if line.count("|") == 2)
    return {job_id: Live(state, reason) for job_id, state, reason in rows}


def log_error(study_dir: Path, job_id: str) -> str | None:
    """The last error line the job's stderr holds (srun's "task 0: Killed", slurmstepd's "CANCELLED AT ..
    DUE TO TIME LIMIT", a traceback's last line), or None."""
    from submitit.core.utils import JobPaths

    path = JobPaths(logs_folder(study_dir), job_id=job_id, task_id=0).stderr
    if not path.is_file():
        return None
    lines = [line.strip() for line in path.read_text(errors="replace").splitlines()[-50:] if line.strip()]
    errors = [line for line in lines if "error" in line.lower() or "killed" in line.lower()]
    return errors[-1] if errors else None
