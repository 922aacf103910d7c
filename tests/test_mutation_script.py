"""scripts/mutation (docs/testing.md): its refusal of modules mutmut is not configured for, and its summary line.

The mutation run itself takes many minutes and is not part of the suite."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "mutation"

pytestmark = pytest.mark.skipif(shutil.which("mutmut") is None, reason="mutmut (the dev extra) is not installed")


def mutation(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_module_outside_only_mutate_is_refused_in_one_line():
    result = mutation("--report-only", "src/xlt/config.py")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "scripts/mutation: src/xlt/config.py is not in [tool.mutmut] only_mutate of pyproject.toml; "
        "add it there (and its tests)\n"
    )


def test_the_report_ends_with_the_killed_count_summed_over_the_named_modules():
    result = mutation("--report-only", "src/xlt/metrics/bucc.py", "src/xlt/metrics/common.py")
    assert result.returncode == 0
    counts = r"killed (\d+) of (\d+) \((?:\d+\.\d%|n/a)\)"
    modules = re.findall(rf"^(src/\S+): {counts}$", result.stdout, re.M)
    assert [name for name, _, _ in modules] == ["src/xlt/metrics/bucc.py", "src/xlt/metrics/common.py"]
    last = re.fullmatch(f"mutation: {counts}", result.stdout.splitlines()[-1])
    assert last is not None
    assert [int(n) for n in last.groups()] == [sum(int(m[i]) for m in modules) for i in (1, 2)]
