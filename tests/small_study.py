"""A small study on the embedded benchmark for the reliability tests, and ways to run it.

Three training stages (a target alone; an intermediate stage and the target after it), three evaluations
(two recipes and the majority reference) on three languages: every phase of a study, in about half a
minute once its encoder is pretrained (the session's XLT_CACHE keeps it for every test).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

TRAINING = {"steps": 12, "batch_size": 8, "max_length": 48, "checkpoint_every": 3, "eval_batch_size": 32}


def tiny_benchmark() -> dict:
    """The embedded benchmark, small."""
    return {"synthetic": {"seed": 0, "sizes": {"train": 120, "dev": 20, "test": 40, "pretrain": 400}}}


def tiny_encoder() -> dict:
    """An encoder pretrained on the spot in seconds (cached for the session under XLT_CACHE)."""
    return {
        "pretrain": {
            "options": {
                "max_steps": 12,
                "hidden_size": 32,
                "layers": 2,
                "heads": 2,
                "ffn": 64,
                "batch_size": 16,
                "warmup_steps": 2,
                "vocab_size": 400,
            }
        }
    }


def small_study(out_dir: Path, **changes) -> dict:
    raw = {
        "name": "small",
        "benchmark": "synthetic",
        "data": tiny_benchmark(),
        "model": tiny_encoder(),
        "methods": [{"name": "finetune", "options": {"lr": 1e-3}}],
        "intermediate": [{"name": "multilingual", "task": "synth-pos", "languages": "all", "training": TRAINING}],
        "targets": [
            {
                "task": "synth-nli",
                "train_languages": ["base"],
                "eval_languages": ["base", "cyrl", "vsom"],
                "intermediate": ["none", "multilingual"],
                "training": TRAINING,
                "head": {"pooling": "pair"},
            }
        ],
        "references": ["majority"],
        "seeds": [0],
        "output_dir": str(out_dir),
    }
    raw.update(changes)
    return raw


def write_config(path: Path, raw: dict) -> Path:
    path.write_text(yaml.safe_dump(raw))
    return path


def xlt_process(*args: str, env: dict | None = None) -> subprocess.Popen:
    """`python -m xlt ARGS` as a user runs it (stderr captured as text)."""
    return subprocess.Popen(
        [sys.executable, "-m", "xlt", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )


def _run_in_child(raw: dict, env: dict) -> None:
    os.environ.update(env)
    from rich.console import Console

    from xlt.config import validate_study
    from xlt.pipeline.run.runner import run_study

    run_study(validate_study(raw, "small"), console=Console(stderr=True, quiet=True), progress=False)


# what every run imports, once, in the server: xlt, the report, and the encoder's transformers classes
PRELOAD = ["xlt.pipeline.run.runner", "xlt.report", "transformers.models.xlm_roberta.modeling_xlm_roberta"]
_FORKSERVER = multiprocessing.get_context("forkserver")
_FORKSERVER.set_forkserver_preload(PRELOAD)


def run_forked(raw: dict, env: dict | None = None) -> int:
    """Run the study in a child forked from a server that has imported xlt once (a SIGKILL test starts many
    runs; each would otherwise spend seconds importing torch). Returns the exit code: -9 when SIGKILLed."""
    child = _FORKSERVER.Process(target=_run_in_child, args=(raw, env or {}))
    child.start()
    child.join(timeout=600)
    return child.exitcode


def results(out_dir: Path) -> str:
    return (out_dir / "results.csv").read_text()


def checkpoints(out_dir: Path) -> dict[str, str]:
    """stage hash -> sha256 of its final trainable tensors."""
    return {
        path.parent.parent.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(out_dir.glob("stages/*/checkpoint/trainable.safetensors"))
    }


def quick_demo_manifest(directory: Path) -> None:
    """The quick demo's study directory as `xlt run --backend slurm` leaves it before any job ran: its manifest,
    with an encoder and data said to live elsewhere (nothing is built)."""
    from xlt.cli import DEMO_CONFIG, QUICK
    from xlt.config import load_study
    from xlt.pipeline.plan.resources import Resources
    from xlt.pipeline.run.manifest import save_manifest

    study = load_study(DEMO_CONFIG, [*QUICK, f"output_dir={directory}"])
    identity = {"model": {"pretrained": "k"}, "data": {"synthetic": {}}}
    resources = Resources("/elsewhere/encoder", None, False, Path("/elsewhere/data"), identity)
    save_manifest(directory, study, resources, directory / "cache", time.time())
