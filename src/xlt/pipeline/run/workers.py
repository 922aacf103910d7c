"""Several stages of one study at once on one machine: `xlt run --workers N` (and `xlt demo`, by default).

The scheduler's per-stage locks already let any number of processes share a study directory, each taking
the next stage whose inputs are complete; this starts N - 1 of them beside the calling process, each on
its share of the machine: on CPUs `usable cores // N` torch threads apiece, since a small encoder's step
is made of products too small for two threads to speed up much (the demo's 14 training runs and 12
evaluations: 216 s in one process on 2 threads, 139 s in two on one thread each); on GPUs one visible
GPU apiece, round robin. Which process runs a stage does not matter; its thread count does, in the last
bits (a CPU kernel's sums follow its threads), so each stage records its threads (tested: the same
results.csv as one process, the weights within 1e-5).

A worker rebuilds the study from the directory's manifest, runs stages until none is left and writes
nothing but stages and its log (`workers/{i}.log`); the calling process collects and reports once every
stage is complete. A worker that fails leaves its stage to whichever process comes next (the kernel
frees its lock; training resumes from its last checkpoint), so a stage that cannot run fails in the
calling process too, with its one line. A worker is sent SIGTERM when the calling process ends, however
it ends (Linux's parent-death signal; SIGKILL included): it checkpoints at its next step and stops.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import torch

from xlt.errors import XltError
from xlt.results.layout import WORKERS, StudyLayout
from xlt.runtime.io import make_dirs, open_log
from xlt.runtime.locks import WORKER
from xlt.runtime.machine import usable_cores

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def demo_workers() -> int:
    """`xlt demo`'s default: on CPUs one worker a core (at most 4: the demo has about as many independent
    stages at once); one process on a GPU (which the demo's small encoder does not fill) and in each process
    of a multi-process launch (`torchrun` sets WORLD_SIZE)."""
    if torch.cuda.is_available() or int(os.environ.get("WORLD_SIZE", "1")) > 1:
        return 1
    return max(1, min(usable_cores(), 4))


def threads_each(workers: int) -> int:
    return max(1, usable_cores() // workers)


def worker_env(index: int, threads: int, environ: dict[str, str] | None = None) -> dict[str, str]:
    """Worker `index`'s environment (1, 2, ...; the calling process is 0): its threads, and on a GPU machine
    one of the visible GPUs (round robin), where the calling process keeps the first."""
    env = dict(os.environ if environ is None else environ)
    env["OMP_NUM_THREADS"] = str(threads)
    env[WORKER] = str(index)  # the stage locks it takes name it (`xlt.runtime.locks`)
    gpus = _visible_gpus(env)
    if gpus:
        env["CUDA_VISIBLE_DEVICES"] = gpus[index % len(gpus)]
    return env


def _visible_gpus(env: dict[str, str]) -> list[str]:
    if "CUDA_VISIBLE_DEVICES" in env:
        return [gpu for gpu in env["CUDA_VISIBLE_DEVICES"].split(",") if gpu.strip()]
    return [str(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []


@contextmanager
def worker_processes(study_dir: Path, count: int) -> Iterator[None]:
    """Within: `count - 1` worker processes run the study's stages beside this one, which runs on its share of
    the threads. On leaving, the workers still running are stopped (SIGTERM: each checkpoints and stops)
    and waited for."""
    from xlt.runtime.distributed import rank_world

    if count <= 1:
        yield
        return
    if rank_world()[1] > 1:
        raise XltError(
            "--workers: under accelerate launch / torchrun every process runs each stage together; use one or the other"
        )
    threads, before = threads_each(count), torch.get_num_threads()
    logs = StudyLayout(study_dir) / WORKERS
    make_dirs(logs)
    started = [_start(study_dir, index, threads, logs / f"{index}.log") for index in range(1, count)]
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
        for process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in started:
            process.wait()


def _start(study_dir: Path, index: int, threads: int, log: Path) -> subprocess.Popen:
    with open_log(log) as out:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "xlt.pipeline.run.workers", str(study_dir), str(index), str(threads)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=worker_env(index, threads),
            preexec_fn=partial(_die_with_parent, os.getpid()),
        )


def _die_with_parent(parent: int) -> None:
    """In the child before it runs: SIGTERM when the parent ends (Linux; elsewhere the worker finishes the
    stages left and exits). A parent already gone by then ends it at once."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os._exit(1)


def work(study_dir: Path, index: int, threads: int) -> None:
    """A worker's life: the study from its manifest, every stage not complete, no collection or report."""
    from xlt.pipeline.run.manifest import load_manifest
    from xlt.pipeline.run.scheduler import run_jobs
    from xlt.pipeline.run.stage_jobs import stage_jobs
    from xlt.runtime.display import log

    torch.set_num_threads(threads)
    print(f"worker {index}: pid {os.getpid()}, {threads} thread{'s' * (threads > 1)}", flush=True)
    manifest = load_manifest(study_dir)
    run_jobs(stage_jobs(manifest.plan(), manifest.context()), log)


def _main() -> None:
    from xlt.cli import guard
    from xlt.runtime.display import quiet_libraries

    study_dir, index, threads = sys.argv[1:4]
    quiet_libraries()
    guard.run(
        lambda: work(Path(study_dir), int(index), int(threads)),
        resume="the stage resumes when the run that started this worker is run again",
    )


if __name__ == "__main__":
    _main()
