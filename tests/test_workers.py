"""`xlt run --workers N`'s share of the machine for each process (the runs themselves: test_faults.py)."""

from __future__ import annotations

import pytest

from xlt.pipeline.run import workers


def test_each_worker_gets_its_threads_and_one_visible_gpu_round_robin():
    environ = {"CUDA_VISIBLE_DEVICES": "4,6", "PATH": "/bin"}
    env = [workers.worker_env(index, 3, environ) for index in (1, 2, 3)]
    assert [e["CUDA_VISIBLE_DEVICES"] for e in env] == ["6", "4", "6"]  # the calling process keeps "4"
    assert {e["OMP_NUM_THREADS"] for e in env} == {"3"} and env[0]["PATH"] == "/bin"
    assert environ["CUDA_VISIBLE_DEVICES"] == "4,6"  # the caller's environment is left as it was


def test_without_gpus_a_worker_gets_threads_only(monkeypatch):
    monkeypatch.setattr(workers.torch.cuda, "is_available", lambda: False)
    env = workers.worker_env(1, 2, {})
    assert env == {"OMP_NUM_THREADS": "2", "XLT_WORKER": "1"}


@pytest.mark.parametrize(("cores", "count", "threads"), [(2, 2, 1), (8, 3, 2), (2, 4, 1), (16, 1, 16)])
def test_the_cores_are_shared_evenly_and_never_below_one_thread(monkeypatch, cores, count, threads):
    monkeypatch.setattr(workers, "usable_cores", lambda: cores)
    assert workers.threads_each(count) == threads


def test_the_demo_runs_one_worker_a_core_but_one_process_under_a_launch(monkeypatch):
    monkeypatch.setattr(workers.torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(workers, "usable_cores", lambda: 2)
    assert workers.demo_workers() == 2
    monkeypatch.setattr(workers, "usable_cores", lambda: 16)
    assert workers.demo_workers() == 4
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert workers.demo_workers() == 1
