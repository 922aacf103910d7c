"""Same config and seed, same numbers on CPU: the quick demo twice, each in a fresh study directory (every
stage trained and evaluated again), gives identical files. The benchmark and the encoder come from the
session's cache; that they too repeat is proved in test_synthetic.py and test_pretrain.py."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from xlt.runtime.machine import cpu_kernels

pytestmark = pytest.mark.slow


def test_the_quick_demo_twice_in_fresh_directories_gives_identical_results(quick_demo, tmp_path):
    # the session's quick demo is the first run; the second trains and evaluates every stage again
    result = subprocess.run(
        [sys.executable, "-m", "xlt", "demo", "--quick", "--out", str(tmp_path / "second")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    first, second = quick_demo, tmp_path / "second"
    assert (first / "results.csv").read_text() == (second / "results.csv").read_text()
    units = sorted(p.relative_to(first) for p in first.glob("units/*/*.npz"))
    assert units and units == sorted(p.relative_to(second) for p in second.glob("units/*/*.npz"))
    assert all((first / p).read_bytes() == (second / p).read_bytes() for p in units)
    randomness = [json.loads((d / "provenance.json").read_text())["randomness"] for d in (first, second)]
    assert randomness[0] == randomness[1]
    assert randomness[0]["study_seeds"] == [0] and randomness[0]["synthetic_data_seed"] == 0
    assert randomness[0]["pretraining_seed"] == 0 and randomness[0]["bootstrap_seed"] is not None
    assert randomness[0]["cpu_kernels"] == cpu_kernels()  # the demo's processes ran the test process's kernels
    assert {"dropout", "batches", "model", "pretraining", "bootstrap"} <= set(randomness[0]["rules"])
