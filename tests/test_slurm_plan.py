"""The Slurm backend without a cluster: which stages go into which job array, waiting for which job; time
limits; sbatch's errors and a missing sbatch as one line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from in_process import run_xlt, run_xlt_streams
from xlt.cli import DEMO_CONFIG, QUICK
from xlt.config import load_study
from xlt.errors import XltError
from xlt.pipeline.plan.graph import build_plan
from xlt.pipeline.run.progress import StageStatus, planned_stages
from xlt.pipeline.slurm import sbatch_error, slurm_minutes, submission_groups

IDENTITY = {"model": {"pretrained": "k"}, "data": {"synthetic": {}}, "mixed_precision": "no"}


@pytest.fixture(scope="module")
def stages():
    """The 26 stages of `xlt demo --quick`: 14 training runs (4 intermediate), 12 distinct evaluations."""
    plan = build_plan(load_study(DEMO_CONFIG, QUICK), IDENTITY)
    return planned_stages(plan)


def statuses(stages, **states) -> list[StageStatus]:
    """Every stage "to run" except those named: hash -> (state, job id)."""
    return [StageStatus(s, *states.get(s.hash, ("to run", None))) for s in stages]


def flatten(groups) -> list[str]:
    return [stage.hash for group in groups for stage in group.stages]


def test_a_fresh_study_is_one_array_of_independent_stages_then_arrays_after_each_stage(stages):
    groups, blocked = submission_groups(statuses(stages), retry_failed=False)
    assert not blocked and sorted(flatten(groups)) == sorted(s.hash for s in stages)
    first = groups[0]
    assert first.after is None
    assert {s.hash for s in first.stages} == {s.hash for s in stages if s.upstream is None}
    assert len(first.stages) == 12  # 4 intermediate + 6 targets without one + 2 majority references
    submitted_before = set()
    for group in groups:
        assert all(s.upstream == group.after for s in group.stages)  # one array, one stage it waits for
        assert group.after is None or group.after in submitted_before  # whose job id is known by then
        submitted_before |= {s.hash for s in group.stages}
    # each intermediate stage feeds one target; each trained stage one evaluation
    assert len(groups) == 1 + 4 + 10
    targets_after_intermediate = [g for g in groups if g.stages[0].action == "train" and g.after]
    assert len(targets_after_intermediate) == 4


def test_done_stages_are_never_submitted_and_what_follows_them_waits_for_nothing(stages):
    intermediate = [s for s in stages if s.label.startswith("intermediate")]
    done = {s.hash: ("done", "5_0") for s in intermediate}
    groups, _ = submission_groups(statuses(stages, **done), retry_failed=False)
    assert not set(flatten(groups)) & set(done)
    children = {s.hash for s in stages if s.upstream in done}
    assert children <= {s.hash for s in groups[0].stages} and groups[0].after is None


def test_a_queued_or_running_stage_is_waited_for_not_resubmitted(stages):
    parent = next(s for s in stages if s.label.startswith("intermediate"))
    groups, _ = submission_groups(statuses(stages, **{parent.hash: ("running", "5_3")}), retry_failed=False)
    assert parent.hash not in flatten(groups)
    waiting = [g for g in groups if g.after == parent.hash]
    assert len(waiting) == 1 and [s.upstream for s in waiting[0].stages] == [parent.hash]


def test_a_failed_stage_and_what_waits_on_it_are_resubmitted_only_when_asked(stages):
    parent = next(s for s in stages if s.label.startswith("intermediate"))
    child = next(s for s in stages if s.upstream == parent.hash)
    grandchild = next(s for s in stages if s.upstream == child.hash)
    failed = {parent.hash: ("failed", "5_3"), child.hash: ("failed", "7"), grandchild.hash: ("failed", "9")}
    groups, blocked = submission_groups(statuses(stages, **failed), retry_failed=False)
    assert not set(flatten(groups)) & set(failed)
    groups, blocked = submission_groups(statuses(stages, **failed), retry_failed=True)
    assert set(failed) <= set(flatten(groups)) and not blocked
    after = {s.hash: g.after for g in groups for s in g.stages}
    assert after[parent.hash] is None and after[child.hash] == parent.hash and after[grandchild.hash] == child.hash


def test_a_new_stage_after_a_failed_unretried_one_is_held_back(stages):
    parent = next(s for s in stages if s.label.startswith("intermediate"))
    groups, blocked = submission_groups(statuses(stages, **{parent.hash: ("failed", "5_3")}), retry_failed=False)
    downstream = {s.hash for s in stages if s.upstream == parent.hash}
    downstream |= {s.hash for s in stages if s.upstream in downstream}
    assert {s.hash for s in blocked} == downstream and len(downstream) == 2
    assert not downstream & set(flatten(groups))


@pytest.mark.parametrize(
    "text, minutes",
    [("30", 30), ("1:30", 2), ("2:00:00", 120), ("1-0", 1440), ("1-2:30", 1590), ("0-0:0:1", 1), ("4:00:00", 240)],
)
def test_slurm_time_formats_in_minutes_rounded_up(text, minutes):
    assert slurm_minutes(text) == minutes


@pytest.mark.parametrize("text", ["", "1h", "1:2:3:4", "0", "-5", "1-"])
def test_bad_time_limits_are_one_clear_error(text):
    with pytest.raises(XltError, match="--time"):
        slurm_minutes(text)


def test_sbatch_errors_become_one_line():
    stderr = (
        "sbatch: error: invalid partition specified: nope\n"
        "sbatch: error: Batch job submission failed: Invalid partition name specified\n"
    )
    assert sbatch_error(stderr) == (
        "invalid partition specified: nope; Batch job submission failed: Invalid partition name specified"
    )


def test_without_sbatch_the_slurm_backend_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))  # python and no Slurm
    code, stderr = run_xlt(capsys, "demo", "--quick", "--backend", "slurm", "--out", str(tmp_path / "s"))
    assert code == 2
    assert stderr.strip().count("\n") == 0 and "sbatch is not on PATH" in stderr
    assert not (tmp_path / "s").exists()


def test_slurm_options_need_the_slurm_backend(tmp_path, capsys):
    code, stderr = run_xlt(
        capsys, "demo", "--quick", "--partition", "gpu", "--retry-failed", "--out", str(tmp_path / "s")
    )
    assert code == 2
    assert stderr.strip() == "error: --partition, --retry-failed: Slurm options; add --backend slurm"


def test_workers_are_the_local_backends(tmp_path, capsys):
    out = tmp_path / "s"
    code, stderr = run_xlt(capsys, "demo", "--quick", "--backend", "slurm", "--workers", "2", "--out", str(out))
    assert code == 2 and not out.exists()
    assert stderr.strip() == "error: --workers: the local backend's; on Slurm every stage is a job of its own"


def test_a_dry_run_lists_the_arrays_it_would_submit_and_writes_nothing(tmp_path, monkeypatch, capsys):
    out, cache = tmp_path / "s", tmp_path / "cache"
    monkeypatch.setenv("XLT_CACHE", str(cache))
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))  # no Slurm either
    code, stdout, stderr = run_xlt_streams(
        capsys, "demo", "--quick", "--backend", "slurm", "--dry-run", "--out", str(out)
    )
    assert code == 0, stderr[-2000:]
    would = [line for line in stdout.splitlines() if line.startswith("would submit")]
    assert len(would) == 15 and would[0] == "would submit an array of 12 stages"
    assert "0/26 stages done, 26 to run" in stdout
    assert not out.exists() and not (cache / "encoders").exists()
