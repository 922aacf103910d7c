"""xlt.runtime.machine: torch's CPU kernels pinned to AVX2 on a CPU that has it (the same numbers on any such CPU), a
user's choice kept, nothing asked of other CPUs. That each stage records its kernels: tests/test_faults.py (the
workers test) and tests/test_determinism.py."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from xlt.runtime.machine import PORTABLE_KERNELS, cpu_flags, cpu_kernels, cpu_name, pin_cpu_kernels, usable_cores

AVX2 = frozenset({"sse2", "avx", "avx2", "fma", "avx512f"})


def test_a_cpu_with_avx2_gets_the_avx2_kernels_and_a_users_choice_is_kept():
    environ = {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}
    pin_cpu_kernels(environ, AVX2)
    assert environ == {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE", "MKL_CBWR": "AVX2"}


@pytest.mark.parametrize("flags", [frozenset({"sse2", "avx"}), frozenset({"fp", "asimd"}), frozenset()])
def test_other_cpus_are_left_to_torch(flags):
    environ: dict[str, str] = {}
    pin_cpu_kernels(environ, flags)  # older x86 (AVX2 kernels would be illegal instructions), Arm, not Linux
    assert environ == {}


def _kernels_in_a_fresh_process(env_overrides: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if k not in PORTABLE_KERNELS} | env_overrides
    code = "import xlt, torch; print(torch.backends.cpu.get_cpu_capability())"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(not {"avx2", "fma"} <= cpu_flags(), reason="needs a CPU with AVX2 and FMA")
def test_an_xlt_process_runs_the_avx2_kernels_unless_told_otherwise():
    assert _kernels_in_a_fresh_process({}).strip() == "AVX2"
    assert _kernels_in_a_fresh_process({"ATEN_CPU_CAPABILITY": "default"}).strip() == "DEFAULT"
    assert cpu_kernels() == "AVX2"  # this test process too: conftest imports xlt before torch


def test_usable_cores_follow_the_process_affinity():
    assert usable_cores() == len(os.sched_getaffinity(0))


def test_the_cpu_is_named_by_its_linux_model_name_else_by_the_platform(monkeypatch, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test CPU 9000 @ 3.0GHz\nflags\t\t: fpu avx2 fma\n")
    real_open = open
    monkeypatch.setattr(
        "builtins.open", lambda path, *a, **k: real_open(cpuinfo if path == "/proc/cpuinfo" else path, *a, **k)
    )
    assert cpu_name() == "Test CPU 9000 @ 3.0GHz"
    assert cpu_flags() == {"fpu", "avx2", "fma"}
    cpuinfo.write_text("processor\t: 0\nFeatures\t: fp asimd\n")  # an Arm machine's: no model name
    monkeypatch.setattr("platform.processor", lambda: "")
    monkeypatch.setattr("platform.machine", lambda: "aarch64")
    assert cpu_name() == "aarch64"
