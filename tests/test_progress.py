"""The study's overall line (stages done / total, elapsed, time left) above the running stage's bar, and the same
line from `xlt status` on the study directory alone; off a terminal, timestamped lines: each stage's start with its
recipe and hash, where a loop resumes, its progress at a steady pace, its end."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time

import pytest
from rich.console import Console

from small_study import quick_demo_manifest, small_study, write_config, xlt_process
from test_pipeline import tiny_study
from xlt.config import validate_study
from xlt.errors import XltError
from xlt.pipeline.run.manifest import load_manifest
from xlt.pipeline.run.progress import StudyDisplay, planned_stages
from xlt.pipeline.run.runner import run_study
from xlt.pipeline.run.status import print_status
from xlt.pipeline.stage.directory import mark_complete
from xlt.runtime import display as display_module
from xlt.runtime.display import LoopProgress, log_every


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
    assert re.search(r"0/3 stages done, 3 to run[^\n]*\n[^\n]*target synth-pos \[base\] finetune / none seed 0", text)
    assert re.search(r"1/3 stages done, 2 to run, elapsed \S+, about \S+ left at the pace so far", text)


STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"  # a log line's local date and time
NAME = "target synth-nli [base] finetune / none seed 0"


class Clock:
    """`time.monotonic` for a loop: the test moves it on."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run_loop(monkeypatch, total: int, seconds_a_step: float, every: str, done: int = 0, terminal: bool = False):
    """The lines of a loop of `total` steps (8 examples each) from step `done` (after 100 s of earlier runs), each
    step `seconds_a_step` long, with XLT_LOG_EVERY=`every`; and the steps its progress lines name."""
    clock = Clock()
    monkeypatch.setattr(display_module.time, "monotonic", clock)
    monkeypatch.setenv("XLT_LOG_EVERY", every)
    screen = io.StringIO()
    console = Console(file=screen, width=300, force_terminal=terminal)
    loop = LoopProgress(NAME, total, done, 8, console, True, elapsed=100.0 if done else 0.0)
    for step in range(done + 1, total + 1):
        clock.now += seconds_a_step
        loop.step(step, 0.5)
    loop.end(0.25)
    lines = screen.getvalue().splitlines()
    return lines, [int(m.group(1)) for line in lines if (m := re.search(r": step (\d+)/", line))]


def test_off_a_terminal_a_loop_logs_at_least_every_tenth_of_its_steps(monkeypatch):
    _, steps = run_loop(monkeypatch, 50, 0.01, "1000000")
    assert steps == [5, 10, 15, 20, 25, 30, 35, 40, 45]  # the 50th is the end's line


def test_off_a_terminal_a_loop_logs_every_interval_between_its_tenths(monkeypatch):
    _, steps = run_loop(monkeypatch, 50, 10, "30")
    # 10 s a step: 30 s after the last line (3 steps), or at a tenth of the loop (every 5 steps)
    assert steps == [3, 5, 8, 10, 13, 15, 18, 20, 23, 25, 28, 30, 33, 35, 38, 40, 43, 45, 48]


def test_an_interval_of_zero_logs_every_step(monkeypatch):
    _, steps = run_loop(monkeypatch, 50, 0.01, "0")
    assert steps == list(range(1, 50))


def test_a_loop_line_gives_step_loss_examples_a_second_and_time_left_and_its_end_the_wall_time(monkeypatch):
    lines, _ = run_loop(monkeypatch, 50, 10, "30")
    line = r"step 3/50 \(6%\), loss 0\.5000, 0\.8 examples/s, about 7m50s left"
    assert re.fullmatch(rf"{STAMP} {re.escape(NAME)}: {line}", lines[0])
    assert re.fullmatch(rf"{STAMP} {re.escape(NAME)}: done: 50 steps in 8m20s, final loss 0\.2500", lines[-1])


def test_a_resumed_loop_says_where_it_resumes_and_paces_this_run_only(monkeypatch):
    lines, steps = run_loop(monkeypatch, 50, 10, "30", done=20)
    assert re.fullmatch(rf"{STAMP} {re.escape(NAME)}: resuming from step 20 of 50", lines[0])
    assert steps[:2] == [23, 25]
    # 3 steps in 30 s: 0.1 step a second, 27 steps left
    assert lines[1].endswith(": step 23/50 (46%), loss 0.5000, 0.8 examples/s, about 4m30s left")
    assert lines[-1].endswith(": done: 50 steps in 6m40s, final loss 0.2500")  # 100 s before, 300 s now


def test_on_a_terminal_a_loop_only_says_where_it_resumes(monkeypatch):
    lines, steps = run_loop(monkeypatch, 50, 10, "30", done=20, terminal=True)
    assert lines == [f"{NAME}: resuming from step 20 of 50"] and steps == []


@pytest.mark.parametrize("value", ["soon", "-5", "inf", "nan"])
def test_a_bad_log_interval_is_one_line(monkeypatch, value):
    monkeypatch.setenv("XLT_LOG_EVERY", value)
    with pytest.raises(XltError) as error:
        log_every()
    assert str(error.value) == (
        f"XLT_LOG_EVERY={value}: not a number of seconds; set it to 0 or more (e.g. 30), or unset it"
    )


def test_the_log_interval_is_30_seconds_unless_set(monkeypatch):
    monkeypatch.delenv("XLT_LOG_EVERY", raising=False)
    assert log_every() == 30
    monkeypatch.setenv("XLT_LOG_EVERY", "2.5")
    assert log_every() == 2.5


@pytest.mark.slow  # two runs of a small study, on a cache of its own (so that it pretrains its encoder)
def test_off_a_terminal_a_run_logs_each_stage_its_steps_its_end_and_where_it_resumes(tmp_path):
    out = tmp_path / "study"
    config = write_config(tmp_path / "study.yaml", small_study(out))
    env = {"XLT_CACHE": str(tmp_path / "cache"), "XLT_LOG_EVERY": "0"}
    # stopped at step 4 of the second stage by SIGTERM (the fault hook sends it), then run again
    stop = {"XLT_FAULT_AT": "16", "XLT_FAULT_MATCH": "^step ", "XLT_FAULT_SIGNAL": "SIGTERM"}
    first = xlt_process("run", str(config), env=env | stop).communicate(timeout=600)[1]
    second = xlt_process("run", str(config), env=env).communicate(timeout=600)[1]

    def logged(text: str, pattern: str) -> list[str]:
        return re.findall(rf"^{STAMP} {pattern}$", text, re.MULTILINE)

    encoder = r"pretraining: 2 layers, hidden size 32, \d+ languages, 12 steps of 16 blocks, seed 0"
    assert len(logged(first, encoder)) == 1
    step = r"step (\d+)/12 \(\d+%\), loss \d+\.\d{4}, [\d.]+ examples/s, about \S+ left"
    done = r"done: 12 steps in \S+, final loss \d+\.\d{4}"
    assert logged(first, rf"pretraining: {step}") == [str(n) for n in range(1, 12)]
    assert len(logged(first, rf"pretraining: {done}")) == 1
    stages = [
        r"target synth-nli \[base\] finetune / none seed 0",
        r"intermediate synth-pos \[[a-z+]+\] finetune / multilingual seed 0",
        r"target synth-nli \[base\] finetune / multilingual seed 0",
    ]
    for text, expected in ((first, stages[:2]), (second, stages[1:])):
        started = logged(text, r"training (.*) \(\w{16}\)")
        assert len(started) == len(expected) and all(map(re.fullmatch, expected, started)), started
    assert logged(first, rf"{stages[0]}: {step}") == [str(n) for n in range(1, 12)]
    assert len(logged(first, rf"{stages[0]}: {done}")) == 1
    assert logged(first, rf"{stages[1]}: {step}") == ["1", "2", "3", "4"]
    assert len(logged(second, rf"{stages[1]}: resuming from step 4 of 12")) == 1
    assert logged(second, rf"{stages[1]}: {step}") == [str(n) for n in range(5, 12)]
    assert len(logged(second, rf"{stages[2]}: {done}")) == 1
    assert logged(second, r"evaluating finetune / multilingual on synth-nli, 3 languages \(\w{16}\)")
    # the overall line, after a line that starts a stage when a stage was done since it was last logged
    assert logged(second, r"5/6 stages done, 1 to run, elapsed \S+, about \S+ left at the pace so far")
