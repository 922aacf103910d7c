"""`xlt demo --quick` (narrowed to fine-tuning) through a real single-node Slurm cluster (slurmctld + slurmd +
munged, CPU only, started here by .ci/slurm-cluster.sh): the results of the local backend byte for byte,
every job started only after the job it waits for ended, a job killed mid-training resumed by
`--retry-failed`, nothing complete ever resubmitted. Skips, saying why, where the cluster cannot start."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from xlt.pipeline.run.job_records import load_records, read_run
from xlt.pipeline.run.manifest import load_manifest
from xlt.pipeline.run.progress import planned_stages

pytestmark = pytest.mark.slow
CLUSTER = Path(__file__).resolve().parents[1] / ".ci" / "slurm-cluster.sh"
# The quick demo narrowed to one fine-tuning target after no intermediate stage or the multilingual one, and the
# majority reference: 6 stages instead of 26 (every job is a fresh process, so CI's time follows their number),
# still every kind of stage and dependency: intermediate -> target, training -> evaluation, a reference without
# training. The target checkpoints after every step, so a kill lands between checkpoints (not part of any hash),
# and trains 24 steps: with 8, a fast machine could finish them between the first checkpoint and the kill.
TARGET = (
    "targets=[{task: synth-nli, train_languages: [base], intermediate: [none, multilingual], head: {pooling: pair},"
    " training: {steps: 24, batch_size: 32, max_length: 64, checkpoint_every: 1}}]"
)
NARROW = ["--set", "methods=[{name: finetune, options: {lr: 5.0e-4}}]", "--set", "references=[majority]"]
NARROW += ["--set", TARGET]
WAIT = 1500  # seconds: generous for a loaded 2-core machine


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    missing = [tool for tool in ("slurmctld", "slurmd", "sbatch", "munged") if shutil.which(tool) is None]
    if missing:
        pytest.skip(
            f"no Slurm here: {', '.join(missing)} not on PATH"
            " (apt-get install slurmctld slurmd slurm-client munge; .ci/run does)"
        )
    directory = tmp_path_factory.mktemp("slurm")
    started = subprocess.run([str(CLUSTER), "start", str(directory)], capture_output=True, text=True, timeout=180)
    if started.returncode != 0:
        reason = (started.stderr.strip().splitlines() or [f"exit status {started.returncode}"])[-1]
        pytest.skip(f"a single-node Slurm cluster did not start here: {reason}")
    try:
        yield {**os.environ, "SLURM_CONF": str(directory / "slurm.conf")}
    finally:
        subprocess.run([str(CLUSTER), "stop", str(directory)], capture_output=True, timeout=120)


def xlt(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "xlt", *args],
        capture_output=True,
        text=True,
        timeout=WAIT,
        env={**env, "COLUMNS": "250"},
    )
    assert not check or result.returncode == 0, result.stderr[-3000:]
    return result


def wait_until(condition, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def queue_empty(env: dict) -> bool:
    result = subprocess.run(["squeue", "--noheader"], capture_output=True, text=True, env=env, timeout=60)
    return result.returncode == 0 and not result.stdout.strip()


@dataclass
class Story:
    local: Path
    study: Path
    victim: str  # the training stage killed mid-way
    evaluation: str  # the evaluation waiting on it
    submit_seconds: float
    status_after_kill: str
    collected_after_kill: bool
    records_after_kill: dict
    no_retry: subprocess.CompletedProcess
    records_after_no_retry: dict
    records_after_retry: dict
    final_status: str
    last_run: subprocess.CompletedProcess
    records_at_end: dict


@pytest.fixture(scope="module")
def story(cluster, tmp_path_factory) -> Story:
    """The local run; the same study through Slurm with one training job SIGKILLed mid-way; a rerun without
    and one with --retry-failed; `xlt status` collecting the results; one more run once all is done."""
    root = tmp_path_factory.mktemp("studies")
    local, study = root / "local", root / "slurm"
    xlt(cluster, "demo", "--quick", "--out", str(local), *NARROW)  # also pretrains the encoder
    slurm = [
        "demo",
        "--quick",
        "--backend",
        "slurm",
        "--partition",
        "debug",
        "--time",
        "20",
        "--out",
        str(study),
        *NARROW,
    ]
    started = time.monotonic()
    submitted = xlt(cluster, *slurm)
    submit_seconds = time.monotonic() - started
    assert "submitted job" in submitted.stdout  # what a command answers goes to stdout

    plan = load_manifest(study).plan()
    victim = next(
        s
        for s in plan.train.values()
        if s.role == "target" and s.method == "finetune" and s.parent and len(plan.train[s.parent].languages) > 1
    )  # after the multilingual intermediate stage
    evaluation = next(ev.hash for ev in plan.evals if ev.source == victim.hash)
    stage = study / "stages" / victim.hash
    wait_until(lambda: (stage / "resume" / "state.pt").is_file(), "the first checkpoint of the victim")
    job = load_records(study)[victim.hash].job_id
    os.kill(read_run(study, job)["pid"], signal.SIGKILL)
    assert not (stage / "COMPLETED").exists(), "the victim finished before the kill: make its stage longer"
    wait_until(lambda: queue_empty(cluster), "every job to end")
    status_after_kill = xlt(cluster, "status", str(study)).stdout
    collected_after_kill = (study / "results.csv").exists()
    records_after_kill = json.loads((study / "slurm" / "jobs.json").read_text())

    no_retry = xlt(cluster, *slurm)
    records_after_no_retry = json.loads((study / "slurm" / "jobs.json").read_text())
    xlt(cluster, *slurm, "--retry-failed")
    records_after_retry = json.loads((study / "slurm" / "jobs.json").read_text())
    wait_until(lambda: queue_empty(cluster), "the resubmitted jobs to end")
    final_status = xlt(cluster, "status", str(study)).stdout
    last_run = xlt(cluster, *slurm)
    return Story(
        local,
        study,
        victim.hash,
        evaluation,
        submit_seconds,
        status_after_kill,
        collected_after_kill,
        records_after_kill,
        no_retry,
        records_after_no_retry,
        records_after_retry,
        final_status,
        last_run,
        json.loads((study / "slurm" / "jobs.json").read_text()),
    )


def row(status: str, stage_hash: str) -> str:
    return next(line for line in status.splitlines() if stage_hash in line)


def test_results_equal_the_local_backend_byte_for_byte(story):
    assert (story.study / "results.csv").read_bytes() == (story.local / "results.csv").read_bytes()
    assert (story.study / "report.html").is_file()
    assert "6/6 stages done" in story.final_status


def test_the_driver_returns_at_once_with_the_job_ids(story):
    assert story.submit_seconds < 120  # the encoder was cached; nothing trains in the driver
    assert len(story.records_after_kill) == 6
    assert all(re.fullmatch(r"\d+(_\d+)?", record["job_id"]) for record in story.records_after_kill.values())


def test_no_job_started_before_the_job_it_waits_for_ended(story):
    records = load_records(story.study)
    checked = 0
    for stage in planned_stages(load_manifest(story.study).plan()):
        if stage.upstream is None:
            continue
        run, upstream_run = (
            read_run(story.study, records[stage.hash].job_id),
            read_run(story.study, records[stage.upstream].job_id),
        )
        assert run["started"] >= upstream_run["ended"], (stage.label, stage.upstream)
        checked += 1
    assert checked == 3  # the target after its intermediate stage, 2 evaluations after their training


def test_a_killed_job_fails_with_its_reason_and_what_waits_on_it_is_cancelled(story):
    assert "4/6 stages done, 2 failed" in story.status_after_kill
    killed = row(story.status_after_kill, story.victim)
    assert " failed " in killed and "Killed" in killed, killed
    assert f"upstream stage {story.victim} failed" in row(story.status_after_kill, story.evaluation)
    assert not story.collected_after_kill and "--retry-failed" in story.no_retry.stdout


def test_failed_jobs_are_resubmitted_only_when_asked_and_training_resumes(story):
    assert story.records_after_no_retry == story.records_after_kill
    changed = {h for h, r in story.records_after_retry.items() if r != story.records_after_kill[h]}
    assert changed == {story.victim, story.evaluation}
    retried = story.records_after_retry[story.victim]
    assert retried["earlier"] == [story.records_after_kill[story.victim]["job_id"]]
    assert read_run(story.study, retried["job_id"])["resumable"], "the retried job found no checkpoint to resume"


def test_nothing_complete_is_ever_resubmitted(story):
    assert story.records_at_end == story.records_after_retry
    assert "results are up to date" in story.last_run.stdout


def test_an_unknown_partition_is_sbatchs_error_in_one_line(cluster, tmp_path):
    result = xlt(
        cluster,
        "demo",
        "--quick",
        "--backend",
        "slurm",
        "--partition",
        "nope",
        "--out",
        str(tmp_path / "s"),
        check=False,
    )
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0
    assert "invalid partition specified: nope" in result.stderr and not (tmp_path / "s").exists()


def test_status_reads_a_local_run_too(story):
    result = xlt(dict(os.environ), "status", str(story.local))
    assert "6/6 stages done" in result.stdout and "results are up to date" in result.stdout
