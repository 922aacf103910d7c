"""The study's overall line (stages done / total, elapsed, time left) above the running stage's bar, and the same
line from `xlt status` on the study directory alone."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time

import pytest
from rich.console import Console

from small_study import quick_demo_manifest
from test_pipeline import tiny_study
from xlt.config import validate_study
from xlt.pipeline.manifest import load_manifest
from xlt.pipeline.progress import StudyDisplay, planned_stages
from xlt.pipeline.runner import run_study
from xlt.pipeline.stages import mark_complete
from xlt.pipeline.status import print_status


@pytest.fixture()
def half_done(tmp_path):
    """The quick demo's plan with its first three training stages done (10 s, 20 s, 30 s)."""
    quick_demo_manifest(tmp_path)
    plan = load_manifest(tmp_path).plan()
    for seconds, stage in zip((10, 20, 30), planned_stages(plan)):
        mark_complete(tmp_path / "stages" / stage.hash, {"wall_seconds": seconds})
    return tmp_path, plan


def test_the_display_shows_the_line_xlt_status_prints(half_done, monkeypatch):
    study_dir, plan = half_done
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)  # both read the clock: one "now" for both
    display = StudyDisplay(study_dir, plan, Console(file=io.StringIO()), enabled=False)
    display.refresh()
    [overall] = display.progress.tasks
    assert overall.completed == 3 and overall.total == 26
    console = Console(record=True, width=300)
    print_status(study_dir, plan, {}, console)
    assert console.export_text().strip().splitlines()[-1] == overall.description
    assert re.fullmatch(
        r"3/26 stages done, 23 to run, elapsed \S+, about \S+ left at the pace so far", overall.description
    )


@pytest.mark.slow  # runs a study half way
def test_xlt_status_prints_it_offline(half_done):
    study_dir, _ = half_done
    result = subprocess.run(
        [sys.executable, "-m", "xlt", "status", str(study_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "300"},
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"^3/26 stages done, 23 to run, elapsed \S+, about \S+ left", result.stdout, re.M), result.stdout


@pytest.mark.slow
def test_a_running_study_shows_the_overall_line_above_the_stage_bar(tmp_path):
    raw = tiny_study(tmp_path / "study", intermediate=[], methods=[{"name": "finetune", "options": {"lr": 1e-3}}])
    raw["targets"] = [raw["targets"][1] | {"intermediate": ["none"]}]
    screen = io.StringIO()
    run_study(validate_study(raw, "tiny"), console=Console(file=screen, force_terminal=True, width=200))
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())  # the terminal's control sequences
    assert re.search(r"0/3 stages done, 3 to run[^\n]*\n[^\n]*target synth-pos \[base\] finetune seed 0", text)
    assert re.search(r"1/3 stages done, 2 to run, elapsed \S+, about \S+ left at the pace so far", text)
