"""SIGTERM in mid-stage (as Slurm sends before its time limit), `xlt status` on the stopped study, and the rerun."""

from __future__ import annotations

import re
import shutil

import pytest

from acceptance.conftest import UDPOS_CHECKPOINT_EVERY, UDPOS_STEPS
from acceptance.test_study import stage_states

pytestmark = pytest.mark.slow


def test_sigterm_stops_the_study_in_mid_stage_within_seconds_with_one_error_line(interrupted_study):
    ended = interrupted_study.ended
    assert ended.code == 128 + 15, ended.log[-3000:]
    errors = [line for line in ended.log.splitlines() if "error:" in line]
    assert len(errors) == 1, errors
    stopped = re.fullmatch(
        rf"error: stopped by SIGTERM after step (\d+) of {UDPOS_STEPS} of target udpos \[en\] finetune / none seed 0"
        r" \(checkpoint saved\); run `xlt run study\.yaml` again to resume",
        errors[0],
    )
    assert stopped is not None, errors[0]
    assert UDPOS_CHECKPOINT_EVERY <= int(stopped[1]) < UDPOS_STEPS
    assert "Traceback" not in ended.log
    assert interrupted_study.seconds_to_stop is not None and interrupted_study.seconds_to_stop < 30
    assert not (interrupted_study.out / "results.csv").exists()


def test_status_of_the_interrupted_study_lists_what_is_done_and_what_is_left(interrupted_study, installed, tmp_path):
    ended = installed.run("status", str(interrupted_study.out), cwd=tmp_path, log=tmp_path / "log")
    assert ended.code == 0, ended.log
    states = stage_states(ended.log)
    done = {p.parent.name for p in (interrupted_study.out / "stages").glob("*/COMPLETED")}
    assert len(done) == 2 and len(states) == 5  # XCOPA's two untrained stages; UD-POS and the evaluations left
    assert states == {stage: "done" if stage in done else "to run" for stage in states}
    assert re.search(r"^2/5 stages done, 3 to run, elapsed \d", ended.log, re.M)
    assert not (interrupted_study.out / "results.csv").exists()


def test_the_rerun_resumes_and_writes_the_results_of_an_uninterrupted_run(
    interrupted_study, finished_study, installed, tmp_path
):
    cwd = tmp_path / "rerun"
    shutil.copytree(interrupted_study.cwd, cwd)  # the fixture's study stays interrupted for the other tests
    ended = installed.run("run", "study.yaml", cwd=cwd, log=cwd / "rerun.log")
    assert ended.code == 0, ended.log[-3000:]
    assert "plan: 3 training runs (1 to run after reuse), 2 evaluations" in ended.log
    assert re.search(r"│ target udpos .*│ resumable │", ended.log)
    assert (cwd / "study/results.csv").read_bytes() == (finished_study.out / "results.csv").read_bytes()
