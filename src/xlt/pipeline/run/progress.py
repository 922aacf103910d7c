"""A study at a glance: each stage's state, and one line (stages done / total, elapsed, the time left at the pace
so far) that `xlt status` prints and that a study running here shows above the bar of its running stage.

The states come from the study directory (stage markers; `xlt.pipeline.run.status` adds the Slurm job records), so
the line a running study shows is the line `xlt status` prints for its directory at the same moment.

On a terminal, progress is rich's live display. Off one (stderr is a file: `nohup`, Slurm, `> log 2>&1`, a
worker's log) it is plain lines, each starting with the local date and time: each stage's start (its recipe and
hash) with the overall line when it moved on, where a training loop resumes, the loop's step every
$XLT_LOG_EVERY seconds (default 30) and at least every tenth of the loop, and the loop's end (`LoopProgress`).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from xlt.pipeline.plan.graph import Plan, unique_evals
from xlt.pipeline.run.job_records import JobRecord
from xlt.pipeline.run.manifest import started_at
from xlt.pipeline.stage.directory import MARKER, is_complete, stage_info
from xlt.results.layout import StudyLayout
from xlt.runtime.display import duration, progress_bars, stamped

if TYPE_CHECKING:
    pass

STATES = ("done", "running", "queued", "failed", "to run")


@dataclass(frozen=True)
class Planned:
    """One stage of the plan as a job sees it: what it is and which stage must be complete before it runs."""

    hash: str
    action: str  # "train" or "eval"
    label: str
    upstream: str | None  # the parent (training) or the evaluated stage (evaluation)


@dataclass(frozen=True)
class StageStatus:
    stage: Planned
    state: str  # one of STATES
    job_id: str | None = None
    reason: str | None = None  # why it failed; why a queued job waits
    wall_seconds: float | None = None  # of a done stage


def planned_stages(plan: Plan) -> list[Planned]:
    """Training stages (parents first), then each distinct evaluation: an order in which upstreams come first."""
    stages = [Planned(s.hash, "train", s.describe(), s.parent) for s in plan.train.values()]
    return stages + [
        Planned(ev.hash, "eval", f"evaluation {ev.label} / {ev.intermediate} on {ev.task}", ev.source)
        for ev in unique_evals(plan)
    ]


def done_status(study_dir: Path, stage: Planned, job_id: str | None = None) -> StageStatus | None:
    """The stage's status when its marker says it is complete, else None."""
    directory = StudyLayout(study_dir).stage(stage.hash)
    if not is_complete(directory):
        return None
    return StageStatus(stage, "done", job_id, wall_seconds=stage_info(directory).get("wall_seconds"))


@dataclass(frozen=True)
class Elapsed:
    """A study's wall time so far, and the part of it since its stages began: only that part's pace estimates the
    time left (what came before, such as pretraining the encoder, is no stage's work)."""

    total: float
    stages: float | None  # None before any stage started


def overall_line(statuses: list[StageStatus], elapsed: Elapsed | None) -> str:
    counts = {state: sum(s.state == state for s in statuses) for state in STATES}
    parts = [f"{counts['done']}/{len(statuses)} stages done"] + [
        f"{n} {state}" for state, n in counts.items() if n and state != "done"
    ]
    if elapsed is not None:
        parts.append(f"elapsed {duration(elapsed.total)}")
        left = None if elapsed.stages is None else time_left(statuses, elapsed.stages)
        if left is not None:
            parts.append(f"about {duration(left)} left at the pace so far")
    return ", ".join(parts)


def time_left(statuses: list[StageStatus], elapsed: float) -> float | None:
    """Elapsed time x (work left / work done), work measured in stage-seconds: each stage left costs the
    mean wall time of the finished stages of its kind (training or evaluation; either kind's mean while
    none of its own has finished). The pace covers parallel jobs and queueing as they were so far."""
    done = [(s.stage.action, s.wall_seconds) for s in statuses if s.state == "done" and s.wall_seconds is not None]
    if not done or all(s.state == "done" for s in statuses):
        return None
    means = {kind: statistics.fmean(seconds for k, seconds in done if k == kind) for kind in {k for k, _ in done}}
    overall = statistics.fmean(seconds for _, seconds in done)
    work_done = sum(seconds for _, seconds in done)
    work_left = sum(means.get(s.stage.action, overall) for s in statuses if s.state != "done")
    return elapsed * work_left / work_done if work_done > 0 else None


def elapsed_seconds(
    study_dir: Path, statuses: list[StageStatus], records: dict[str, JobRecord], now: float
) -> Elapsed | None:
    """To now, or to the last stage's end once all are done: from when the study started (study.json's `started`,
    before the encoder was pretrained; directories from before xlt recorded it start at their stages), and from
    the first submission (or, for a local run, the first finished stage's start)."""
    markers = {
        s.stage.hash: (StudyLayout(study_dir).stage(s.stage.hash) / MARKER).stat().st_mtime
        for s in statuses
        if s.state == "done"
    }
    starts = [r.submitted for r in records.values()] or [
        markers[s.stage.hash] - (s.wall_seconds or 0) for s in statuses if s.stage.hash in markers
    ]
    began = started_at(study_dir)
    first = min(starts + ([] if began is None else [began]), default=None)
    if first is None:
        return None
    end = max(markers.values()) if len(markers) == len(statuses) else now
    return Elapsed(max(0.0, end - first), max(0.0, end - min(starts)) if starts else None)


class StudyDisplay:
    """The live display of a study running here: the overall line above the bar of the stage that runs."""

    def __init__(self, study_dir: Path, plan: Plan, console: Console, enabled: bool):
        self.study_dir, self.stages, self.enabled = Path(study_dir), planned_stages(plan), enabled
        self.progress = progress_bars(console, enabled)
        self.overall = self.progress.add_task("", total=len(self.stages))
        self.logged_done: int | None = None  # stages done when the overall line was last logged (off a terminal)

    def __enter__(self) -> StudyDisplay:
        self.progress.start()
        self.refresh()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def refresh(self) -> tuple[str, int]:
        """The line `xlt status` prints for the study directory now (no job records: states from the markers), and
        the stages done."""
        statuses = [done_status(self.study_dir, stage) or StageStatus(stage, "to run") for stage in self.stages]
        line = overall_line(statuses, elapsed_seconds(self.study_dir, statuses, {}, time.time()))
        done = sum(s.state == "done" for s in statuses)
        self.progress.update(self.overall, description=line, completed=done)
        return line, done

    def say(self, line: str) -> None:
        """A line above the display (a stage starts, waits, runs again). Off a terminal: timestamped, followed by
        the overall line when a stage was done since it was last logged."""
        console = self.progress.console
        if console.is_terminal:
            console.print(line, highlight=False, markup=False, soft_wrap=True)
            self.refresh()
            return
        console.print(stamped(line), highlight=False, markup=False, soft_wrap=True)
        overall, done = self.refresh()
        if self.enabled and done != self.logged_done:
            console.print(stamped(overall), highlight=False, markup=False, soft_wrap=True)
            self.logged_done = done
