"""`xlt status` from a study directory alone: each stage's state, job and failure reason from its marker,
the job records, the job's own run file, its stderr and (when given) the live queue; the overall line."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from rich.console import Console
from submitit.core.utils import JobPaths

from in_process import run_xlt
from small_study import quick_demo_manifest
from xlt.pipeline.run.job_records import JobRecord, Live, load_records, logs_folder, save_records, write_run
from xlt.pipeline.run.manifest import load_manifest, save_manifest, started_at
from xlt.pipeline.run.progress import Elapsed, Planned, StageStatus, overall_line, planned_stages, time_left
from xlt.pipeline.run.status import print_status, stage_statuses
from xlt.pipeline.stage.directory import MARKER, mark_complete


@pytest.fixture()
def study_dir(tmp_path):
    quick_demo_manifest(tmp_path)
    return tmp_path


def scenario(study_dir: Path):
    """An intermediate stage done, its target killed, the target's evaluation cancelled by Slurm; a stage
    raising an error; one running, one queued behind a dependency; the rest never submitted."""
    plan = load_manifest(study_dir).plan()
    stages = planned_stages(plan)
    inter = next(s for s in stages if s.label.startswith("intermediate"))
    killed = next(s for s in stages if s.upstream == inter.hash)
    cancelled = next(s for s in stages if s.upstream == killed.hash)
    raising, running, queued = [s for s in stages if s.upstream is None and s is not inter][:3]
    mark_complete(study_dir / "stages" / inter.hash, {"wall_seconds": 12.5})
    jobs = {inter: "5_0", killed: "6", cancelled: "7", raising: "5_1", running: "5_2", queued: "5_3"}
    save_records(study_dir, {s.hash: JobRecord(s.hash, job, 1000.0) for s, job in jobs.items()})
    write_run(study_dir, "6", {"stage": killed.hash, "started": 1100.0})
    stderr = JobPaths(logs_folder(study_dir), job_id="6", task_id=0).stderr
    stderr.parent.mkdir(parents=True, exist_ok=True)
    stderr.write_text("submitit INFO - Starting\nsrun: error: vm: task 0: Killed\n")
    write_run(
        study_dir,
        "5_1",
        {
            "stage": raising.hash,
            "started": 1000.0,
            "ended": 1001.0,
            "error": "XltError: data.dir /x: no such directory",
        },
    )
    write_run(study_dir, "5_2", {"stage": running.hash, "started": 1002.0})
    live = {
        "5_0": Live("COMPLETED", "None"),
        "6": Live("FAILED", "NonZeroExitCode"),
        "7": Live("CANCELLED", "DependencyNeverSatisfied"),
        "5_1": Live("FAILED", "NonZeroExitCode"),
        "5_2": Live("RUNNING", "None"),
        "5_3": Live("PENDING", "Priority"),
    }
    names = dict(inter=inter, killed=killed, cancelled=cancelled, raising=raising, running=running, queued=queued)
    return plan, names, live


def by_stage(statuses):
    return {s.stage.hash: s for s in statuses}


def test_states_jobs_and_reasons_with_the_live_queue(study_dir):
    plan, s, live = scenario(study_dir)
    got = by_stage(stage_statuses(study_dir, plan, load_records(study_dir), live))
    assert (got[s["inter"].hash].state, got[s["inter"].hash].wall_seconds) == ("done", 12.5)
    killed = got[s["killed"].hash]
    assert (killed.state, killed.job_id) == ("failed", "6")
    assert killed.reason == "FAILED (NonZeroExitCode): srun: error: vm: task 0: Killed"
    assert got[s["cancelled"].hash].reason == f"upstream stage {s['killed'].hash} failed"
    assert got[s["raising"].hash].reason == "XltError: data.dir /x: no such directory"
    assert got[s["running"].hash].state == "running"
    assert (got[s["queued"].hash].state, got[s["queued"].hash].reason) == ("queued", "Priority")
    assert sum(x.state == "to run" for x in got.values()) == 26 - 6


def test_without_a_scheduler_states_come_from_the_files(study_dir):
    plan, s, _ = scenario(study_dir)
    got = by_stage(stage_statuses(study_dir, plan, load_records(study_dir), None))
    assert got[s["running"].hash].state == "running"  # started, not ended
    assert got[s["queued"].hash].state == "queued"  # no run file: never started
    assert got[s["raising"].hash].state == "failed" and "no such directory" in got[s["raising"].hash].reason
    assert got[s["killed"].hash].state == "running"  # a SIGKILL leaves no end; only squeue can tell


def test_a_job_the_scheduler_forgot_without_finishing_its_stage_failed(study_dir):
    plan, s, _ = scenario(study_dir)
    got = by_stage(stage_statuses(study_dir, plan, load_records(study_dir), {}))
    assert (got[s["queued"].hash].state, got[s["queued"].hash].reason) == ("failed", "ended before it started")
    assert got[s["cancelled"].hash].reason == f"upstream stage {s['killed'].hash} failed"


def test_the_printed_table_and_line(study_dir, monkeypatch):
    plan, s, live = scenario(study_dir)
    monkeypatch.setattr("xlt.pipeline.run.status.live_states", lambda job_ids: live)
    console = Console(record=True, width=200)
    print_status(study_dir, plan, load_records(study_dir), console)
    lines = console.export_text().strip().splitlines()
    killed = next(line for line in lines if s["killed"].hash in line)
    assert "failed" in killed and "task 0: Killed" in killed and " 6 " in killed
    assert lines[-1].startswith("1/26 stages done, 1 running, 1 queued, 3 failed, 20 to run, elapsed ")


def planned(kind: str, i: int) -> Planned:
    return Planned(f"{kind}{i}", kind, f"{kind} {i}", None)


def test_time_left_is_elapsed_times_work_left_over_work_done():
    done = [
        StageStatus(planned("train", 0), "done", wall_seconds=10.0),
        StageStatus(planned("train", 1), "done", wall_seconds=20.0),
        StageStatus(planned("eval", 0), "done", wall_seconds=2.0),
    ]
    left = [
        StageStatus(planned("train", 2), "running"),
        StageStatus(planned("train", 3), "to run"),
        StageStatus(planned("eval", 1), "queued"),
    ]
    # work done 32 stage-seconds; left: two training stages at their mean 15 and one evaluation at 2 = 32
    assert time_left(done + left, elapsed=100.0) == pytest.approx(100.0)
    assert overall_line(done + left, Elapsed(100.0, 100.0)) == (
        "3/6 stages done, 1 running, 1 queued, 1 to run, elapsed 1m40s, about 1m40s left at the pace so far"
    )
    only_evals_done = [done[2], *left]  # no training stage finished: the evaluations' mean stands in
    assert time_left(only_evals_done, elapsed=10.0) == pytest.approx(10.0 * 6 / 2)
    assert time_left(left, elapsed=10.0) is None
    assert overall_line(done, Elapsed(3723.0, 3723.0)) == "3/3 stages done, elapsed 1h02m"


def test_elapsed_counts_the_time_before_the_first_stage_and_time_left_the_stages_pace_alone(study_dir, monkeypatch):
    """A study that pretrained its encoder for an hour before its first stage (study.json's `started`): the elapsed
    time includes that hour, the time left is what the stages' own pace gives, as for a study without `started`."""
    plan = load_manifest(study_dir).plan()
    for seconds, stage in zip((10, 20, 30), planned_stages(plan)):
        mark_complete(study_dir / "stages" / stage.hash, {"wall_seconds": seconds})
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)
    first_start = min(
        (study_dir / "stages" / s.hash / MARKER).stat().st_mtime - w for w, s in zip((10, 20, 30), planned_stages(plan))
    )
    manifest = study_dir / "study.json"
    raw = json.loads(manifest.read_text())

    def last_line(started: float | None) -> str:
        manifest.write_text(json.dumps({**raw, "started": started}))
        console = Console(record=True, width=300)
        print_status(study_dir, plan, {}, console)
        return console.export_text().strip().splitlines()[-1]

    pattern = r"3/26 stages done, 23 to run, elapsed (\S+), about (\S+) left at the pace so far"
    without = re.fullmatch(pattern, last_line(None))
    pretrained = re.fullmatch(pattern, last_line(first_start - 3600))
    assert without and pretrained
    assert without[1] == f"{round(now - first_start)}s" and pretrained[1] == "1h00m"
    assert pretrained[2] == without[2]  # the hour of pretraining does not slow the stages' pace


def test_status_of_a_directory_that_is_no_study_is_one_line(tmp_path, capsys):
    code, stderr = run_xlt(capsys, "status", str(tmp_path))
    assert code == 2 and stderr.count("\n") == 1 and "no study.json" in stderr


def test_a_rerun_keeps_the_start_of_the_studys_first_run(study_dir):
    first = started_at(study_dir)
    manifest = load_manifest(study_dir)
    save_manifest(study_dir, manifest.study, manifest.resources, manifest.cache_root, started=time.time() + 100)
    assert first is not None and started_at(study_dir) == first
