"""Kills, SIGTERM, Ctrl-C and concurrent runs: a study always ends with the results of an uninterrupted run.

The kill moments come from the reference run's own fault points (`xlt.runtime.faults`: each training step, each
atomic write), drawn per phase from a seeded generator and printed. Each is a point no earlier run has
passed, so a fresh process resuming the study reaches it and is SIGKILLed there; the next one goes on.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from small_study import checkpoints, results, run_forked, small_study, write_config, xlt_process
from xlt.runtime import integrity
from xlt.runtime.locks import Lock
from xlt.runtime.machine import cpu_kernels

pytestmark = pytest.mark.slow

SEED = 12
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d "  # the date and time that start a line logged off a terminal
# phase -> (fault-point labels of that phase, kills drawn from it); OUT is the study directory
PHASES = {
    "training": (r"^step ", 5),
    "checkpointing": (r"^write OUT/stages/\w+/resume/", 4),
    "sealing": (r"^write OUT/stages/\w+/(checkpoint/|loss\.json|stage\.json|COMPLETED)", 3),
    "evaluation": (r"^write OUT/stages/\w+/(units/|predictions/|rows\.json)", 5),
    "collection": (r"^write OUT/(units/|predictions/|results\.csv|tasks\.json|languages\.json|provenance\.json)", 4),
    "report": (r"^write OUT/(report\.|heatmap_)", 3),
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run, with the fault points it passes."""
    root = tmp_path_factory.mktemp("reference")
    log = root / "points.log"
    assert run_forked(small_study(root / "study"), {"XLT_FAULT_LOG": str(log)}) == 0
    labels = [line.split("\t", 1)[1] for line in log.read_text().splitlines()]
    return root / "study", labels


def kill_moments(labels: list[str], out: Path) -> list[tuple[int, str, str]]:
    """(position in the reference run, phase, label) of each kill, in run order. Only labels that occur
    once are drawn (a resumed run may pass a repeated one fewer times)."""
    unique = [(i, label) for i, label in enumerate(labels) if labels.count(label) == 1]
    rng = random.Random(SEED)
    moments = []
    for phase, (pattern, kills) in PHASES.items():
        regex = re.compile(pattern.replace("OUT", re.escape(str(out))))
        moments += [(i, phase, label) for i, label in rng.sample([m for m in unique if regex.search(m[1])], kills)]
    return sorted(moments)


def ended(process, code: int = 0, timeout: float = 600) -> str:
    """The stderr of an `xlt` process, once it has ended with exit status `code`."""
    stderr = process.communicate(timeout=timeout)[1]
    assert process.returncode == code, stderr[-2000:]
    return stderr


def assert_same_study(out: Path, ref_dir: Path) -> None:
    """The study's results.csv and final trainable tensors are the reference's, bit for bit."""
    assert results(out) == results(ref_dir)
    assert checkpoints(out) == checkpoints(ref_dir), "training ended with other weights"


def test_results_are_written_once_after_every_stage_is_complete(reference):
    """Three training stages and three evaluations are sealed, then results.csv is written, once."""
    ref_dir, labels = reference
    marker = re.compile(rf"write {re.escape(str(ref_dir))}/stages/\w+/COMPLETED")
    sealed = [i for i, label in enumerate(labels) if marker.fullmatch(label)]
    written = [i for i, label in enumerate(labels) if label == f"write {ref_dir}/results.csv"]
    assert len(sealed) == 6 and len(written) == 1 and written[0] > max(sealed)


def test_sigkill_at_24_random_moments_then_resume_gives_the_uninterrupted_results(reference, tmp_path):
    ref_dir, ref_labels = reference
    out = tmp_path / "killed"
    moments = kill_moments(ref_labels, ref_dir)
    assert len(moments) >= 20 and {phase for _, phase, _ in moments} == set(PHASES)
    print(f"\nkill moments (seed {SEED}), as positions among the reference run's {len(ref_labels)} fault points:")
    for position, phase, label in moments:
        label = label.replace(str(ref_dir), str(out))
        print(f"  {position:4d}  {phase:<13} {label.replace(str(out) + '/', '')}")
        code = run_forked(small_study(out), {"XLT_FAULT_AT": "1", "XLT_FAULT_MATCH": f"^{re.escape(label)}$"})
        assert code == -signal.SIGKILL, f"the run was not killed at {label} (exit code {code})"
    assert run_forked(small_study(out)) == 0
    assert_same_study(out, ref_dir)
    assert all(integrity.is_complete(stage) for stage in (out / "stages").iterdir())


def _wait_for_line(log: Path, pattern: str, process, count: int = 1, timeout: float = 300) -> None:
    """Until the run's fault-point log has `count` lines matching `pattern`."""

    def reached() -> bool:
        return log.exists() and len(re.findall(pattern, log.read_text(), re.MULTILINE)) >= count

    _wait_until(reached, process, f"the run never reached {pattern!r} ({count} times)", timeout)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_checkpoints_at_the_next_step_and_the_resumed_run_is_identical(reference, tmp_path, signum):
    """What Slurm (SIGTERM) and Ctrl-C (SIGINT) send: the run saves a resume point at the next step boundary,
    exits 128 + signal with one line saying how to resume, and the resumed study equals the reference bit
    for bit. With checkpoint_every above the budget, the only resume point is the one the signal made."""
    ref_dir, _ = reference
    out, log = tmp_path / "stopped", tmp_path / "points.log"
    raw = small_study(out)
    raw["targets"][0]["training"] = {**raw["targets"][0]["training"], "checkpoint_every": 1000}
    config = write_config(tmp_path / "study.yaml", raw)
    name = signal.Signals(signum).name
    # the signal at step 4 of the first stage, sent by the fault hook: sent from here, a fast machine had
    # finished the stage's last steps before it arrived
    fault = {"XLT_FAULT_LOG": str(log), "XLT_FAULT_AT": "4", "XLT_FAULT_MATCH": "^step ", "XLT_FAULT_SIGNAL": name}
    stderr = ended(xlt_process("run", str(config), env=fault), 128 + signum, timeout=300)
    last = stderr.strip().splitlines()[-1]
    match = re.fullmatch(
        rf"error: stopped by {name} after step (\d+) of 12 of target synth-nli \[base\] finetune / none"
        rf" seed 0 \(checkpoint saved\); run `xlt run {re.escape(str(config))}` again to resume",
        last,
    )
    assert match, last
    assert match.group(1) == "4"  # the signal came after step 4: the run stops at that step's boundary, not later
    assert "Traceback" not in stderr
    import torch

    states = [torch.load(path, weights_only=True) for path in out.glob("stages/*/resume/state.pt")]
    assert [state["step"] for state in states] == [int(match.group(1))]
    ended(xlt_process("run", str(config)))
    assert_same_study(out, ref_dir)


# (phase, fault point the signal comes at, what the stop line says after "stopped by SIGTERM"); each run resumes
# the one before. Inside a stage the signal waits for its next step or language; elsewhere it stops at once.
STOPS = [
    (
        "training",
        r"^step ",
        16,
        r" after step 4 of 12 of intermediate synth-pos \[[a-z+]+\] finetune / multilingual seed 0"
        r" \(checkpoint saved\)",
    ),
    (
        "evaluation",
        r"^write OUT/stages/\w+/units/test-cyrl\.npz$",
        1,
        r" during evaluation finetune / none on synth-nli \(it starts again\)",
    ),
    ("collection", r"^write OUT/results\.csv$", 1, ""),
    ("report", r"^write OUT/report\.md$", 1, ""),
]
PROMPT_EXIT = 10  # seconds from the signal to the process's end: about one here, where it once hung for ever


def test_sigterm_in_each_phase_ends_the_run_at_once_in_one_line_and_the_rerun_is_identical(reference, tmp_path):
    """SIGTERM during training, an evaluation, the collection of results and the report: each run ends within
    seconds with exit status 143 and the one line, no traceback and no "Exception ignored", and a last run
    finishes the study with the uninterrupted results."""
    ref_dir, _ = reference
    out = tmp_path / "stopped"
    config = write_config(tmp_path / "study.yaml", small_study(out))
    for phase, pattern, count, where in STOPS:
        log = tmp_path / f"{phase}.log"
        match = pattern.replace("OUT", re.escape(str(out)))
        fault = {"XLT_FAULT_LOG": str(log), "XLT_FAULT_AT": str(count), "XLT_FAULT_MATCH": match}
        process = xlt_process("run", str(config), env=fault | {"XLT_FAULT_SIGNAL": "SIGTERM"})
        _wait_for_line(log, rf"^\d+\t{match[1:]}", process, count)  # the signal follows at once
        signalled = time.monotonic()
        stderr = ended(process, 128 + signal.SIGTERM, timeout=300)
        assert time.monotonic() - signalled < PROMPT_EXIT, f"{phase}: the process outlived its stop"
        last = stderr.strip().splitlines()[-1]
        resume = f"; run `xlt run {config}` again to resume"
        assert re.fullmatch(rf"error: stopped by SIGTERM{where}{re.escape(resume)}", last), (phase, last)
        assert "Traceback" not in stderr and "Exception ignored" not in stderr, (phase, stderr[-3000:])
    ended(xlt_process("run", str(config)))
    assert_same_study(out, ref_dir)


def test_workers_share_a_study_each_stage_run_once_with_the_reference_results(reference, tmp_path):
    """`xlt run --workers 2`: the run and its worker process (on half the threads each) run every stage once
    between them; the results equal the one-process reference's, and the weights do to float rounding (fewer
    threads sum in another order: each stage records its threads). The small study's stages take a fraction
    of a second, less than a process waits between looks at the locks, so the test deals them: it holds every
    stage's lock until the worker is up, lets the run alone (the worker stopped) take the first stage, then the
    worker alone (the run stopped) the next, then both the rest."""
    ref_dir, ref_labels = reference
    first = next(re.match(r"step \d+ of (\w+)", label).group(1) for label in ref_labels if label.startswith("step"))
    out = tmp_path / "workers"
    config = write_config(tmp_path / "study.yaml", small_study(out))
    stages = sorted(path.name for path in ref_dir.glob("stages/*"))
    locks = {stage: Lock(out / "stages" / stage / ".lock") for stage in stages}
    assert all(lock.acquire() for lock in locks.values())
    process, log = xlt_process("run", str(config), "--workers", "2"), out / "workers" / "1.log"
    try:
        _wait_until(lambda: log.exists() and "waiting: " in log.read_text(), process, "the worker never waited")
        worker = int(re.match(r"worker 1: pid (\d+)", log.read_text()).group(1))
        os.kill(worker, signal.SIGSTOP)
        locks.pop(first).release()
        _wait_until(lambda: integrity.is_complete(out / "stages" / first), process, "the run never took its stage")
        process.send_signal(signal.SIGSTOP)
        os.kill(worker, signal.SIGCONT)
        for lock in locks.values():
            lock.release()
        _wait_until(lambda: _complete(out, stages) >= 2, None, "the worker never took a stage")
    finally:
        for lock in locks.values():
            lock.release()
        process.send_signal(signal.SIGCONT)
    logs = [ended(process), log.read_text()]
    threads = max(1, len(os.sched_getaffinity(0)) // 2)
    assert re.match(rf"worker 1: pid \d+, {threads} threads?\n", logs[1]), logs[1][:300]
    ran = [re.findall(rf"^{STAMP}(?:training|evaluating) .* \((\w{{16}})\)$", text, re.MULTILINE) for text in logs]
    assert sorted(ran[0] + ran[1]) == stages, "a stage was run twice or never"
    assert ran[0] and ran[1], f"one process ran every stage: {ran}"
    assert results(out) == results(ref_dir)
    for stage in stages:
        record = json.loads((out / "stages" / stage / "stage.json").read_text())
        assert (record["threads"], record["cpu_kernels"]) == (threads, cpu_kernels())
    for stage in checkpoints(ref_dir):
        mine, theirs = (
            load_file(d / "stages" / stage / "checkpoint" / "trainable.safetensors") for d in (out, ref_dir)
        )
        assert mine.keys() == theirs.keys()
        assert all(torch.allclose(mine[name], theirs[name], rtol=0, atol=1e-5) for name in mine)


def test_workers_stop_at_a_checkpoint_when_their_run_is_killed(tmp_path):
    """SIGKILL the run while its worker trains: the worker is sent SIGTERM (the parent-death signal), saves a
    resume point at its next step and exits, leaving nothing running."""
    out = tmp_path / "killed"
    raw = small_study(out)
    long = {**raw["targets"][0]["training"], "steps": 5000, "checkpoint_every": 10**6}
    raw["targets"][0]["training"] = raw["intermediate"][0]["training"] = long
    config = write_config(tmp_path / "study.yaml", raw)
    points = tmp_path / "points.log"
    process = xlt_process("run", str(config), "--workers", "2", env={"XLT_FAULT_LOG": str(points)})
    log = out / "workers" / "1.log"
    deadline = time.monotonic() + 120
    while not (log.exists() and re.search(rf"^{STAMP}training .* \((\w{{16}})\)$", log.read_text(), re.MULTILINE)):
        assert time.monotonic() < deadline and process.poll() is None, "the worker never started training"
        time.sleep(0.1)
    worker = int(re.match(r"worker 1: pid (\d+)", log.read_text()).group(1))
    stage = re.search(rf"^{STAMP}training .* \((\w{{16}})\)$", log.read_text(), re.MULTILINE).group(1)
    _wait_for_line(points, rf"^\d+\tstep 2 of {stage}$", process)  # the worker's stage is under way
    process.kill()
    process.wait()
    deadline = time.monotonic() + 60
    while _alive(worker):
        assert time.monotonic() < deadline, "the worker outlived its run by a minute"
        time.sleep(0.1)
    stopped = r"stopped by SIGTERM after step \d+ of 5000 .*checkpoint saved\); the stage resumes when the run that"
    assert re.search(stopped, log.read_text()), log.read_text()
    assert (out / "stages" / stage / "resume").is_dir() and not integrity.is_complete(out / "stages" / stage)


def _complete(out: Path, stages: list[str]) -> int:
    return sum(integrity.is_complete(out / "stages" / stage) for stage in stages)


def _wait_until(condition, process, failure: str, timeout: float = 120) -> None:
    """Until `condition()` holds; fails once `timeout` seconds pass or `process` (if given) ends."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline and (process is None or process.poll() is None), failure
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    """Whether the process runs (a zombie nobody has reaped yet has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_locked_stage_is_skipped_then_waited_for(reference, tmp_path):
    """While another live process holds the first stage, a run trains and evaluates everything that does not
    need it, says whom it waits for, and finishes the study once the lock is free."""
    ref_dir, ref_labels = reference
    first = next(re.match(r"step \d+ of (\w+)", label).group(1) for label in ref_labels if label.startswith("step"))
    out, log = tmp_path / "waiting", tmp_path / "points.log"
    config = write_config(tmp_path / "study.yaml", small_study(out))
    lock = Lock(out / "stages" / first / ".lock")
    assert lock.acquire()
    process = xlt_process("run", str(config), env={"XLT_FAULT_LOG": str(log)})
    try:
        # two training stages and two evaluations need nothing of the locked stage; then the run waits
        _wait_for_line(log, r"/stages/\w+/COMPLETED$", process, count=4)
        time.sleep(3)
        assert process.poll() is None and not (out / "results.csv").exists()
        assert f"step 1 of {first}" not in log.read_text()
    finally:
        lock.release()
    stderr = ended(process)
    assert re.search(
        rf"^{STAMP}waiting: training target synth-nli \[base\] .*\({first}\) is being run by process"
        rf" {os.getpid()} on ",
        stderr,
        re.MULTILINE,
    ), stderr[-2000:]
    trained = re.findall(rf"^{STAMP}training .* \((\w{{16}})\)$", stderr, re.MULTILINE)
    assert trained[-1] == first and sorted(trained) == sorted(checkpoints(ref_dir))
    assert results(out) == results(ref_dir)


def test_damaged_stages_are_reported_in_one_line_each_and_run_again(reference, tmp_path):
    """A copy of the finished study with a truncated checkpoint, a marker without its record, a cut units file
    and, in a stage left unfinished, a resume state that does not match its tensors: the next run names each,
    runs those stages again, and ends with the reference's results and weights."""
    ref_dir, _ = reference
    out = tmp_path / "damaged"
    shutil.copytree(ref_dir, out)
    config = write_config(tmp_path / "study.yaml", small_study(out))
    stages = json.loads((ref_dir / "provenance.json").read_text())["stages"]

    def find(role: str, parent: bool) -> str:
        return next(h for h, record in stages.items() if record["role"] == role and bool(record["parent"]) == parent)

    target, intermediate, after = find("target", False), find("intermediate", False), find("target", True)
    evaluation = next(p.parent.parent.name for p in out.glob("stages/*/units/test-cyrl.npz"))
    weights = out / "stages" / intermediate / "checkpoint" / "trainable.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    (out / "stages" / target / "stage.json").unlink()
    units = out / "stages" / evaluation / "units" / "test-cyrl.npz"
    units.write_bytes(units.read_bytes()[:20])
    (out / "stages" / after / "COMPLETED").unlink()
    (out / "stages" / after / "resume" / "state.pt").write_bytes(b"\x80not a state")
    stderr = ended(xlt_process("run", str(config)))
    for stage, problem in (
        (intermediate, "checkpoint/trainable.safetensors has"),
        (target, "stage.json is missing"),
        (evaluation, "units/test-cyrl.npz has 20 bytes"),
    ):
        assert re.search(
            rf"^{STAMP}(training|evaluating) .*\({stage}\) is damaged: {re.escape(problem)}.*; it runs again$",
            stderr,
            re.MULTILINE,
        ), (stage, stderr[-3000:])
    assert re.search(
        rf"^warning: the resume checkpoint .*{after}/resume/state.pt cannot be read .*from step 0$",
        stderr,
        re.MULTILINE,
    ), stderr[-3000:]
    assert "Traceback" not in stderr
    assert_same_study(out, ref_dir)


def test_a_full_disk_is_one_line_keeps_what_is_complete_and_the_same_command_continues(reference, tmp_path):
    ref_dir, _ = reference
    out = tmp_path / "full"
    config = write_config(tmp_path / "study.yaml", small_study(out))
    full = {"XLT_FAULT_AT": "2", "XLT_FAULT_MATCH": r"/stages/\w+/units/", "XLT_FAULT_ERRNO": "ENOSPC"}
    stderr = ended(xlt_process("run", str(config), env=full), 2)  # the disk fills in the second evaluation write
    last = stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        rf"error: cannot write {re.escape(str(out))}/stages/\w+/units/test-cyrl\.npz: no space left"
        r" on the device \(\d+ MiB free\); everything complete is kept: free some space and run the"
        r" same command again to continue",
        last,
    ), last
    assert "Traceback" not in stderr and not (out / "results.csv").exists()
    complete = [d.name for d in (out / "stages").iterdir() if integrity.is_complete(d)]
    assert sorted(complete) == sorted(checkpoints(ref_dir)), "the trained stages were not kept"
    stderr = ended(xlt_process("run", str(config)))
    assert not re.search(rf"^{STAMP}training ", stderr, re.MULTILINE), "a complete stage was trained again"
    assert_same_study(out, ref_dir)
