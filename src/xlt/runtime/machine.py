"""This machine's CPUs as xlt uses them: how many cores this process may use, and which vector instructions
torch's CPU kernels run.

CPU kernels. torch picks its kernels by the instructions a CPU has (AVX2, AVX-512), and each set sums floats
in another order, so the same study trained on an AVX-512 machine ends a few bits away from an AVX2 machine's
after the first step, and far away after a pretraining run amplifies them: the demo's encoder, and every
score after it, differed (measured on two 2-core x86-64 machines). On a CPU with AVX2 and FMA (as Linux lists
its flags), xlt therefore asks torch for its AVX2 kernels: ATen's own (`ATEN_CPU_CAPABILITY`), oneDNN's
(`ONEDNN_MAX_CPU_ISA`) and MKL's conditional numerical reproducibility mode (`MKL_CBWR`). With them an AVX-512
machine reproduced an AVX2 machine's demo `results.csv` exactly, and took the same time (its matrix products
run at the same rate; elementwise kernels are about 15% slower). A variable the user sets wins. Nothing is
asked of other CPUs: ATen takes the variable at its word, so on a CPU without AVX2 its kernels would stop at
an illegal instruction.

These variables are read when torch first runs a kernel, so `import xlt` does this before torch is imported:
the CLI, worker processes and cluster jobs always get it; a notebook that imported torch first keeps torch's
choice. Either way each stage records the kernels it ran (`cpu_kernels`), beside its thread count, which
decides the order of sums too.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

PORTABLE_KERNELS = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2"}


def pin_cpu_kernels(environ: MutableMapping[str, str] = os.environ, flags: frozenset[str] | None = None) -> None:
    """torch's AVX2 kernels on a CPU with AVX2 and FMA, unless the user chose (see the module docstring)."""
    if not {"avx2", "fma"} <= (cpu_flags() if flags is None else flags):
        return
    for name, value in PORTABLE_KERNELS.items():
        environ.setdefault(name, value)


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux lists them (x86: "avx2", "fma", ...); empty elsewhere."""
    return frozenset(_cpuinfo("flags").split())


def cpu_name() -> str:
    """The CPU's model name ("AMD EPYC 9R14 96-Core Processor"): Linux's, else what the platform says, else its
    architecture (platform.processor() is empty on most Linux machines)."""
    import platform

    return _cpuinfo("model name").strip() or platform.processor() or platform.machine() or "unknown CPU"


def _cpuinfo(field: str) -> str:
    """The first value of a /proc/cpuinfo field; "" where there is none (another field set, no /proc)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            line = next((line for line in cpuinfo if line.partition(":")[0].strip() == field), "")
    except OSError:
        return ""
    return line.partition(":")[2]


def cpu_kernels() -> str:
    """The instruction set of torch's CPU kernels in this process ("AVX2", "AVX512", "DEFAULT", ...)."""
    import torch

    return torch.backends.cpu.get_cpu_capability()


def usable_cores() -> int:
    """The cores this process may run on (its affinity, as Slurm and taskset set it), not the machine's."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
