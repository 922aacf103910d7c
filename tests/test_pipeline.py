"""End to end on the embedded benchmark with tiny budgets: results, determinism, sharing, resume after SIGKILL."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from small_study import tiny_benchmark, tiny_encoder
from xlt.config import validate_study
from xlt.pipeline.run.runner import run_study
from xlt.results.rows import COLUMNS

pytestmark = pytest.mark.slow  # whole studies, killed and resumed

TRAINING = {"steps": 6, "batch_size": 8, "max_length": 48, "checkpoint_every": 2, "eval_batch_size": 32}


def tiny_study(out_dir: Path, **changes) -> dict:
    raw = {
        "name": "tiny",
        "benchmark": "synthetic",
        "data": tiny_benchmark(),
        "model": tiny_encoder(),
        "methods": [
            {"name": "finetune", "options": {"lr": 1e-3}},
            {"name": "deep_prompt", "options": {"prompt_length": 4}},
        ],
        "intermediate": [{"name": "multilingual", "task": "synth-pos", "languages": "all", "training": TRAINING}],
        "targets": [
            {
                "task": "synth-nli",
                "train_languages": ["base"],
                "intermediate": ["none", "multilingual"],
                "training": TRAINING,
                "head": {"pooling": "pair"},
            },
            {
                "task": "synth-pos",
                "train_languages": ["base"],
                "intermediate": ["none", "multilingual"],
                "training": TRAINING,
            },
        ],
        "references": ["majority"],
        "seeds": [0],
        "output_dir": str(out_dir),
    }
    raw.update(changes)
    return raw


def run(raw: dict):
    return run_study(validate_study(raw, "tiny"), progress=False)


def read_rows(path: Path) -> list[dict]:
    with open(path / "results.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def study_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "run"
    outcome = run(tiny_study(out))
    return outcome


def test_results_have_every_recipe_language_and_reference(study_run):
    rows = read_rows(study_run.out_dir)
    assert tuple(rows[0]) == COLUMNS
    languages = {r["eval_language"] for r in rows}
    assert len(languages) == 7
    recipes = {(r["method"], r["intermediate"], r["target_task"]) for r in rows}
    for task in ("synth-nli", "synth-pos"):
        for method in ("finetune", "deep_prompt"):
            assert {(method, "none", task), (method, "multilingual", task)} <= recipes
        assert ("majority", "none", task) in recipes
    keys = [(r["method"], r["intermediate"], r["target_task"], r["eval_language"], r["metric"]) for r in rows]
    assert len(keys) == len(set(keys)), "duplicated rows"
    assert all(0.0 <= float(r["value"]) <= 100.0 for r in rows)
    primary = {r["target_task"]: r["metric"] for r in rows if r["primary"] == "1"}
    assert primary == {"synth-nli": "accuracy", "synth-pos": "accuracy"}


def test_units_reproduce_primary_scores(study_run):
    import numpy as np

    for row in read_rows(study_run.out_dir):
        if row["primary"] == "1":
            units_dir = study_run.out_dir / "units" / row["stage_hash"]
            units = np.load(units_dir / f"{row['split']}-{row['eval_language']}.npz")
            assert 100 * units["num"].sum() / units["den"].sum() == pytest.approx(float(row["value"]), abs=1e-9)


def test_predictions_in_submission_layout(study_run):
    import numpy as np

    folder = study_run.out_dir / "predictions" / "finetune.none.seed0"
    rows = read_rows(study_run.out_dir)
    files = sorted(f"test-{lang}.tsv" for lang in {r["eval_language"] for r in rows})
    for task in ("synth-nli", "synth-pos"):
        assert sorted(p.name for p in (folder / task).iterdir()) == files
    nli = [r for r in rows if r["target_task"] == "synth-nli" and r["eval_language"] == "base"]
    [stage] = {r["stage_hash"] for r in nli if (r["method"], r["intermediate"]) == ("finetune", "none")}
    examples = len(np.load(study_run.out_dir / "units" / stage / "test-base.npz")["den"])
    labels = (folder / "synth-nli" / "test-base.tsv").read_text().splitlines()
    assert len(labels) == examples and set(labels) <= {"entailment", "neutral", "contradiction"}


def test_shared_intermediate_stage_trained_once(study_run):
    # 2 methods x (1 intermediate + 2 targets x 2 conditions): M + M*N per method, not 2*M*N
    assert study_run.plan.training_runs == 2 * (1 + 2 * 2)
    assert study_run.trained == study_run.plan.training_runs
    provenance = json.loads((study_run.out_dir / "provenance.json").read_text())
    assert len(provenance["stages"]) == study_run.plan.training_runs
    assert provenance["versions"]["torch"] and provenance["config"]["name"] == "tiny"


def test_provenance_counts_follow_the_deep_prompt_formula(study_run):
    provenance = json.loads((study_run.out_dir / "provenance.json").read_text())
    for stage in provenance["stages"].values():
        counts = stage["parameters"]
        if stage["method"] == "deep_prompt":
            prompts = 2 * 2 * 4 * 32  # 2 (keys, values) x layers x P x hidden
            assert prompts < counts["trainable"] < prompts + 32 * 32 * 4 + 2000  # + the head
            assert counts["trainable"] / counts["total"] < 0.2
        else:
            assert counts["trainable"] == counts["total"]


def test_rerun_skips_complete_stages_and_gives_same_rows(study_run):
    before = (study_run.out_dir / "results.csv").read_text()
    outcome = run(tiny_study(study_run.out_dir))
    assert outcome.trained == 0
    assert (study_run.out_dir / "results.csv").read_text() == before


def test_same_config_and_seed_give_identical_results(study_run, tmp_path):
    other = run(tiny_study(tmp_path / "again"))
    assert (other.out_dir / "results.csv").read_text() == (study_run.out_dir / "results.csv").read_text()


def test_report_is_written(study_run):
    for name in ("report.md", "report.html"):
        assert (study_run.out_dir / name).stat().st_size > 0
    assert list(study_run.out_dir.glob("heatmap_*.png"))


def _xlt_run(config: Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "xlt", "run", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        **kwargs,
    )


def _kill_when(process: subprocess.Popen, ready, timeout: float = 240) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if ready():
            process.send_signal(signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.02)
    return False


BLOCKED = ("xlt.tasks", "xlt.config", "xlt.kinds", "xlt.methods", "xlt.pipeline", "torch", "transformers")
REBUILD = """
import sys
class Unavailable:
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in {blocked}):
            raise ImportError(name + " is unavailable in this test")
sys.meta_path.insert(0, Unavailable())
from xlt.report import build_report
build_report(sys.argv[1])
"""


def test_a_copied_study_rebuilds_its_report_without_the_registry(study_run, tmp_path):
    """The study directory describes itself (tasks.json, provenance.json): its report needs no task registry,
    config, method or torch, and is the same report."""
    import shutil

    copy = tmp_path / "copied"
    shutil.copytree(study_run.out_dir, copy)
    (copy / "report.md").unlink()
    code = REBUILD.format(blocked=repr(set(BLOCKED)))
    result = subprocess.run([sys.executable, "-c", code, str(copy)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    rebuilt, original = ((d / "report.md").read_text().split("\n", 1) for d in (copy, study_run.out_dir))
    assert rebuilt[0] == "# xlt report: copied" and rebuilt[1] == original[1]  # all but the title
    tasks = json.loads((copy / "tasks.json").read_text())
    assert tasks["synth-nli"]["primary_metric"] == "accuracy" and tasks["synth-pos"]["kind"] == "tagging"
