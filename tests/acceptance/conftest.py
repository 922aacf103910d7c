"""The `xlt` a user gets: the checkout installed into a fresh venv as the README says, its console script run as a
subprocess with stdin closed and its output in a file (as under nohup or Slurm), offline, with its own XLT_CACHE.

Built once per session and shared (tests must not change them): the venv, an encoder made by `xlt pretrain` on text
of the release files in ../shared, an uninterrupted study and one stopped by SIGTERM in mid-stage.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import site
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
VERSION = re.search(r'^version = "(.+)"$', (REPO / "pyproject.toml").read_text(), re.M)[1]


@dataclass(frozen=True)
class Ended:
    """How an `xlt` process ended: its exit status and its log (stdout and stderr, as the file holds them)."""

    code: int
    log: str


@dataclass(frozen=True)
class Installed:
    venv: Path
    cache: Path  # the XLT_CACHE of every command run here

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def env(self) -> dict[str, str]:
        """The caller's environment without what would run other code (PYTHONPATH) or change xlt's behaviour
        (XLT_*), offline, with this session's cache."""
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("XLT_")}
        return env | {"HF_HUB_OFFLINE": "1", "XLT_CACHE": str(self.cache)}

    def start(self, *args: str, cwd: Path, log: Path) -> subprocess.Popen:
        """`xlt ARGS` in `cwd`, stdin closed, stdout and stderr into the file `log`."""
        with open(log, "wb") as out:
            return subprocess.Popen(
                [str(self.bin / "xlt"), *args],
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                env=self.env(),
            )

    def run(self, *args: str, cwd: Path, log: Path, timeout: float = 600) -> Ended:
        process = self.start(*args, cwd=cwd, log=log)
        return Ended(process.wait(timeout), log.read_text(encoding="utf-8"))


def _pip(venv: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--ignore-installed", *args],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Installed:
    """A fresh venv holding a (non-editable) install of this checkout and lang2vec's own `bin/lang2vec.py`.

    The venv sees the running interpreter's packages (torch and the rest, installed once) through a .pth file
    (`site.addsitedir`, their own .pth files included), which works whether pytest runs from the system's Python or
    from another venv; the venv's own site-packages come first. It has no pip of its own: the one it sees runs
    under the venv's interpreter and installs into the venv (ensurepip's would bring an old setuptools that cannot
    build this project). `--ignore-installed` leaves the packages it sees untouched."""
    root = tmp_path_factory.mktemp("installed")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(
        subprocess.check_output(
            [str(venv / "bin/python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], text=True
        ).strip()
    )
    outer = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (purelib / "outer-packages.pth").write_text(f"import site; list(map(site.addsitedir, {outer!r}))\n")
    # What an sdist holds, copied: a build in the checkout would leave build/ there, whose stale files setuptools
    # packages into the next wheel.
    source = root / "source"
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    built = _pip(venv, "--no-build-isolation", str(source))
    assert built.returncode == 0, built.stderr[-3000:]
    # lang2vec also installs a script, bin/lang2vec.py, which the console script's sys.path (bin/ first) can take
    # for the package: the venv must have it, as a user's does.
    version = metadata.version("lang2vec")
    fetched = _pip(venv, f"lang2vec=={version}")
    if fetched.returncode != 0:
        pytest.skip(
            f"pip could not fetch lang2vec=={version} (no network and not in pip's cache): {fetched.stderr[-300:]}"
        )
    return Installed(venv, root / "cache")


@pytest.fixture(scope="session")
def release_text(shared_dir, tmp_path_factory) -> list[Path]:
    """One text file a language from the release files: English UD-POS training sentences, Greek XQuAD paragraphs,
    Estonian XCOPA premises and choices."""
    data, folder = shared_dir / "data", tmp_path_factory.mktemp("release-text")
    sentences = (data / "udpos/train-en.tsv").read_text(encoding="utf-8").split("\n\n")[:1500]
    texts = {"en": [" ".join(line.split("\t")[0] for line in s.splitlines() if line) for s in sentences]}
    articles = json.loads((data / "xquad/xquad.el.json").read_text(encoding="utf-8"))["data"]
    texts["el"] = [p["context"].replace("\n", " ") for a in articles for p in a["paragraphs"]][:80]
    copa = [json.loads(line) for line in (data / "xcopa/et/test.et.jsonl").read_text(encoding="utf-8").splitlines()]
    texts["et"] = [item[field] for item in copa for field in ("premise", "choice1", "choice2")]
    for lang, lines in texts.items():
        (folder / f"{lang}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [folder / f"{lang}.txt" for lang in texts]


# a tiny encoder in a few seconds: what is tested is the path through the command, not what it learns
PRETRAIN = ["--max-steps", "30", "--vocab-size", "1000", "--hidden-size", "32", "--layers", "2"]
PRETRAIN += [f"--set={field}" for field in ("heads=2", "ffn=64", "batch_size=16", "warmup_steps=5", "max_length=64")]


@pytest.fixture(scope="session")
def release_encoder(installed, release_text, tmp_path_factory) -> Path:
    """`xlt pretrain` on the release text: the encoder of the studies."""
    cwd = tmp_path_factory.mktemp("pretrain")
    ended = installed.run("pretrain", *map(str, release_text), "--out", "encoder", *PRETRAIN, cwd=cwd, log=cwd / "log")
    assert ended.code == 0, ended.log[-3000:]
    return cwd / "encoder"


UDPOS_STEPS = 24
UDPOS_CHECKPOINT_EVERY = 8  # the first resume point, which the interruption waits for
UDPOS_LANGUAGES = ["el", "he", "te"]


def real_language_study(shared_dir: Path, encoder: Path) -> dict:
    """XCOPA (its SIQA -> COPA chain untrained: no English training sets here) on Estonian, then UD-POS trained on
    English and scored on three small test sets (Greek, Hebrew, Telugu). No majority reference: it counts the labels of
    COPA's train split (XCOPA has none), which ../shared lacks."""
    training = {"batch_size": 16, "max_length": 64, "eval_batch_size": 128}
    return {
        "name": "real-languages",
        "benchmark": "xtreme-r",
        "model": {"name_or_path": str(encoder)},
        "data": {"dir": str(shared_dir / "data")},
        "methods": [{"name": "finetune", "options": {"lr": 1e-3}}],
        "targets": [
            {"task": "xcopa", "eval_languages": ["et"], "training": {"steps": 0, **training}},
            {
                "task": "udpos",
                "train_languages": ["en"],
                "eval_languages": UDPOS_LANGUAGES,
                "training": {"steps": UDPOS_STEPS, "checkpoint_every": UDPOS_CHECKPOINT_EVERY, **training},
            },
        ],
        "references": [],
        "output_dir": "study",
    }


@dataclass(frozen=True)
class Study:
    cwd: Path  # where `xlt run study.yaml` ran; the study directory is cwd / "study"
    ended: Ended
    seconds_to_stop: float | None = None  # from SIGTERM to the process's end

    @property
    def out(self) -> Path:
        return self.cwd / "study"


def study_folder(tmp_path_factory, name: str, shared_dir: Path, encoder: Path) -> Path:
    cwd = tmp_path_factory.mktemp(name)
    (cwd / "study.yaml").write_text(yaml.safe_dump(real_language_study(shared_dir, encoder), sort_keys=False))
    return cwd


@pytest.fixture(scope="session")
def finished_study(installed, release_encoder, shared_dir, tmp_path_factory) -> Study:
    cwd = study_folder(tmp_path_factory, "finished", shared_dir, release_encoder)
    return Study(cwd, installed.run("run", "study.yaml", cwd=cwd, log=cwd / "log"))


def wait_for(found: Callable[[], Path | None], process: subprocess.Popen, timeout: float = 600) -> Path:
    """What `found` returns once it returns a path, while `process` runs."""
    deadline = time.monotonic() + timeout
    while (path := found()) is None:
        assert process.poll() is None, f"the process ended (exit status {process.returncode}) before it was awaited"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
    return path


@pytest.fixture(scope="session")
def interrupted_study(installed, release_encoder, shared_dir, tmp_path_factory) -> Study:
    """The same study, sent SIGTERM once its UD-POS stage has written its first resume point."""
    cwd = study_folder(tmp_path_factory, "interrupted", shared_dir, release_encoder)
    process = installed.start("run", "study.yaml", cwd=cwd, log=cwd / "log")
    try:
        wait_for(lambda: next(cwd.glob("study/stages/*/resume/state.pt"), None), process)
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        code = process.wait(timeout=120)
        return Study(cwd, Ended(code, (cwd / "log").read_text(encoding="utf-8")), time.monotonic() - signalled)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
