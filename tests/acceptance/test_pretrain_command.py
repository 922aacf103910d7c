"""`xlt pretrain` stopped by SIGTERM and run again: it resumes and ends with the weights of a run never stopped."""

from __future__ import annotations

import re
import shlex
import shutil
import signal
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from acceptance.conftest import Ended, Installed, wait_for
from conftest import TINY_TEXT

pytestmark = pytest.mark.slow

STEPS = 60
CHECKPOINT_EVERY = 10  # the first resume point, which the stop waits for: well before the end
PRETRAIN = ["pretrain", "en.txt", "de.txt", "ru.txt", "--out", "encoder", "--max-steps", str(STEPS)]
PRETRAIN += ["--checkpoint-every", str(CHECKPOINT_EVERY), "--vocab-size", "300", "--hidden-size", "32", "--layers", "2"]
PRETRAIN += [f"--set={f}" for f in ("heads=2", "ffn=64", "batch_size=8", "warmup_steps=5", "max_length=32")]


def text_folder(path: Path) -> Path:
    """The session tokenizer's training text, one file a language (English, German, Russian)."""
    path.mkdir()
    for lang, lines in {"en": TINY_TEXT[:2] + TINY_TEXT[5:], "de": TINY_TEXT[2:3], "ru": TINY_TEXT[3:4]}.items():
        (path / f"{lang}.txt").write_text("\n".join(lines * 20) + "\n", encoding="utf-8")
    return path


def pretrain(installed: Installed, cwd: Path) -> Ended:
    return installed.run(*PRETRAIN, cwd=cwd, log=cwd / "log")


@pytest.fixture(scope="module")
def uninterrupted(installed, tmp_path_factory) -> Path:
    cwd = text_folder(tmp_path_factory.mktemp("uninterrupted") / "run")
    ended = pretrain(installed, cwd)
    assert ended.code == 0, ended.log[-3000:]
    return cwd / "encoder"


@pytest.fixture(scope="module")
def stopped(installed, tmp_path_factory) -> tuple[Path, Ended, float]:
    """The same command sent SIGTERM once its first resume point is written: its folder, how it ended, and the
    seconds from the signal to its end."""
    cwd = text_folder(tmp_path_factory.mktemp("stopped") / "run")
    process = installed.start(*PRETRAIN, cwd=cwd, log=cwd / "log")
    try:
        wait_for(lambda: next(cwd.glob(".encoder.work/resume/state.pt"), None), process)
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        code = process.wait(timeout=120)
        return cwd, Ended(code, (cwd / "log").read_text(encoding="utf-8")), time.monotonic() - signalled
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def stopped_step(ended: Ended) -> int:
    """The step the stop line names; the line says to run the same command again."""
    errors = [line for line in ended.log.splitlines() if "error:" in line]
    assert len(errors) == 1, errors
    resume = f"run `xlt {shlex.join(PRETRAIN)}` again to resume"
    line = re.fullmatch(
        rf"error: stopped by SIGTERM after step (\d+) of {STEPS} of pretraining \(checkpoint saved\); (.*)", errors[0]
    )
    assert line is not None and line[2] == resume, errors[0]
    return int(line[1])


def test_sigterm_stops_pretraining_within_seconds_with_one_line_naming_the_command_that_resumes(stopped):
    cwd, ended, seconds = stopped
    assert ended.code == 128 + 15, ended.log[-3000:]
    assert CHECKPOINT_EVERY <= stopped_step(ended) < STEPS
    assert "Traceback" not in ended.log
    assert seconds < 30
    assert not (cwd / "encoder").exists(), "a stopped run left an encoder"


def test_the_rerun_resumes_from_the_saved_step_to_the_weights_of_an_uninterrupted_run(
    stopped, uninterrupted, installed, tmp_path
):
    cwd = tmp_path / "run"
    shutil.copytree(stopped[0], cwd)  # the fixture's run stays stopped for the other test
    ended = pretrain(installed, cwd)
    assert ended.code == 0, ended.log[-3000:]
    assert f"pretraining: resuming from step {stopped_step(stopped[1])} of {STEPS}" in ended.log
    assert ended.log.rstrip().endswith("encoder and tokenizer saved in encoder")
    resumed, reference = load_file(cwd / "encoder/model.safetensors"), load_file(uninterrupted / "model.safetensors")
    assert resumed.keys() == reference.keys()
    assert all(torch.equal(resumed[name], reference[name]) for name in reference)
    assert not (cwd / ".encoder.work").exists()
