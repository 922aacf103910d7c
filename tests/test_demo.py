"""`xlt demo --quick`, as a user runs it: the whole grid through the CLI, to a report."""

from __future__ import annotations

import csv

import pytest

from in_process import run_xlt_streams

pytestmark = pytest.mark.slow  # runs the demo (quick and dry run) end to end


def test_quick_demo_runs_the_grid_to_a_report(quick_demo):
    out = quick_demo  # `xlt demo --quick`, run once per session (conftest.py)
    with open(out / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    trained = {r["method"] for r in rows} - {"majority", "random_init"}
    assert trained == {"finetune", "deep_prompt"}
    assert {r["intermediate"] for r in rows if r["target_task"] == "synth-nli"} == {
        "none",
        "monolingual",
        "multilingual",
    }
    assert len({r["eval_language"] for r in rows}) >= 6
    assert {"majority", "random_init"} <= {r["method"] for r in rows}
    for name in ("report.md", "report.html", "provenance.json", "languages.json"):
        assert (out / name).is_file(), name
    assert len(list(out.glob("heatmap_*.png"))) >= 3
    assert "report at" in (out.parent.parent / "stderr.txt").read_text()


def test_demo_dry_run_prints_the_whole_plan_to_stdout_and_trains_nothing(tmp_path, monkeypatch, capsys):
    out = tmp_path / "plan-only"
    monkeypatch.setenv("XLT_CACHE", str(tmp_path / "cache"))
    code, stdout, stderr = run_xlt_streams(capsys, "demo", "--quick", "--dry-run", "--out", str(out))
    assert code == 0, stderr[-3000:]
    assert "14 training runs" in stdout
    assert "[base]" in stdout  # stage languages shown (not eaten as rich markup)
    assert "1 training" in stdout and "synth-nli" in stdout  # what each stage feeds
    assert "…" not in stdout  # off a terminal, full width: no column cut
    assert "every file the plan reads is present" in stdout and stderr == ""
    assert not (out / "stages").exists()
    assert not (tmp_path / "cache" / "encoders").exists(), "a dry run pretrains nothing"
