"""Run a study's stages so that any number of `xlt run` processes can share one study directory.

A stage runs under its lock (`{stage}/.lock`, `xlt.runtime.locks`): one process trains it; another skips it,
takes other stages whose inputs are complete, and comes back to wait for it before the study is
collected. A stage already complete is skipped; one marked complete but damaged (`xlt.runtime.integrity`) is
reported in one line and run again. SIGTERM / Ctrl-C noted during a stage stop the run after it.

The processes of one launch (`torchrun`, `accelerate launch`) run each stage together, in plan order
(parents first): the main process holds the stage's lock and decides whether it runs; the others follow.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from xlt.runtime import integrity, interrupts
from xlt.runtime.distributed import any_process, from_main, is_main, rank_world
from xlt.runtime.locks import POLL_SECONDS, Lock, held

LOCK = ".lock"


@dataclass(frozen=True)
class Job:
    directory: Path  # the stage's directory
    needs: tuple[Path, ...]  # stage directories that must be complete first (a parent, the evaluated stage)
    title: str  # "training intermediate synth-pos [base] finetune seed 0 (hash)"
    run: Callable[[], object]


def run_jobs(jobs: list[Job], say: Callable[[str], None]) -> list[Job]:
    """Run every job whose stage is not complete (waiting for those another process runs); returns the jobs
    run here."""
    if rank_world()[1] > 1:
        return _run_together(jobs, say)
    pending, done, told = list(jobs), [], set()
    while pending:
        before = len(pending)
        for job in [job for job in pending if all(integrity.is_complete(need) for need in job.needs)]:
            if integrity.is_complete(job.directory):
                pending.remove(job)
                continue
            lock = Lock(job.directory / LOCK)
            if not lock.acquire():
                if job.title not in told:
                    say(_waiting(job, lock.holder()))
                    told.add(job.title)
                continue
            try:
                ran = _run_locked(job, say)
            finally:
                lock.release()
            pending.remove(job)
            done += [job] if ran else []
            interrupts.stop_if_requested("between stages (every finished stage is kept)")
            break  # scan again from the start: parents before children, in plan order
        if len(pending) == before:  # every stage left is another process's, or waits for one that is
            time.sleep(POLL_SECONDS)
    return done


def run_one(job: Job, say: Callable[[str], None]) -> bool:
    """Run one job (a cluster job's stage) under its lock, waiting while another process holds it; False
    when the stage was already complete."""
    if rank_world()[1] > 1:
        return bool(_run_together([job], say))
    with _held(job, say):
        return _run_locked(job, say)


def _run_together(jobs: list[Job], say: Callable[[str], None]) -> list[Job]:
    """Every process of the launch runs the jobs to run, one at a time, each under the main process's lock."""
    done = []
    for job in jobs:
        with _held(job, say) if is_main() else nullcontext():
            if from_main(is_main() and _claim(job, say)):
                job.run()  # it ends with the main process's writes, which every process waits for
                done.append(job)
        if any_process(interrupts.requested()):
            interrupts.stop("between stages (every finished stage is kept)")
    return done


def _held(job: Job, say: Callable[[str], None]):
    return held(job.directory / LOCK, lambda holder: say(_waiting(job, holder)))


def _waiting(job: Job, holder: str) -> str:
    return f"waiting: {job.title} is being run by {holder}"


def _run_locked(job: Job, say: Callable[[str], None]) -> bool:
    if not _claim(job, say):
        return False
    job.run()
    return True


def _claim(job: Job, say: Callable[[str], None]) -> bool:
    """Whether the job (its lock held) is to run: not when its stage is complete (another process finished it
    before the lock was taken); a damaged one says so, is unsealed and runs again."""
    if integrity.is_complete(job.directory):
        return False
    problem = integrity.damage(job.directory)
    if problem is not None:
        say(f"{job.title} is damaged: {problem}; it runs again")
        integrity.unseal(job.directory)
    say(job.title)
    return True
