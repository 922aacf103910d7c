"""xlt.machine: torch's CPU kernels pinned to AVX2 on x86-64 (the same numbers on any x86-64 CPU), a user's
choice kept. That each stage records its kernels: tests/test_faults.py (the workers test) and
tests/test_determinism.py."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from xlt.machine import PORTABLE_KERNELS, cpu_kernels, pin_cpu_kernels, usable_cores


def test_x86_machines_get_the_avx2_kernels_and_a_users_choice_is_kept():
    environ = {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}
    pin_cpu_kernels(environ, machine="x86_64")
    assert environ == {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE", "MKL_CBWR": "AVX2"}
    arm: dict[str, str] = {}
    pin_cpu_kernels(arm, machine="aarch64")
    assert arm == {}


def _kernels_in_a_fresh_process(env_overrides: dict[str, str]) -> str:
    import os

    env = {k: v for k, v in os.environ.items() if k not in PORTABLE_KERNELS} | env_overrides
    code = "import xlt, torch; print(torch.backends.cpu.get_cpu_capability())"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout


def _cpu_flags() -> set[str]:
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        return set()
    return set(next((line for line in cpuinfo.read_text().splitlines() if line.startswith("flags")), "").split())


@pytest.mark.skipif(
    platform.machine() != "x86_64" or "avx2" not in _cpu_flags(), reason="needs an x86-64 CPU with AVX2"
)
def test_an_xlt_process_runs_the_avx2_kernels_unless_told_otherwise():
    assert _kernels_in_a_fresh_process({}).strip() == "AVX2"
    assert _kernels_in_a_fresh_process({"ATEN_CPU_CAPABILITY": "default"}).strip() == "DEFAULT"
    assert cpu_kernels() == "AVX2"  # this test process too: conftest imports xlt before torch


def test_usable_cores_follow_the_process_affinity():
    import os

    assert usable_cores() == len(os.sched_getaffinity(0))
