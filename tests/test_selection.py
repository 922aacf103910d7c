"""`training.select`: dev-based checkpoint selection records its chosen step, the target-dev oracle is its own
labelled row, and a run killed mid-stage resumes to the same chosen step."""

from __future__ import annotations

import json

import pytest
import yaml

from test_pipeline import TRAINING, _kill_when, _xlt_run, read_rows, run, tiny_study

pytestmark = pytest.mark.slow
SELECT = {"every": 2, "on": ["dev", "target-dev"]}


def selecting_study(out):
    raw = tiny_study(out, intermediate=[], methods=[{"name": "finetune", "options": {"lr": 1e-3}}])
    raw["targets"] = [{"task": "synth-nli", "train_languages": ["base"], "head": {"pooling": "pair"},
                       "training": {**TRAINING, "steps": 8, "select": SELECT}}]
    return raw


@pytest.fixture(scope="module")
def selected(tmp_path_factory):
    return run(selecting_study(tmp_path_factory.mktemp("select") / "run"))


def _records(out):
    return [r for r in json.loads((out / "provenance.json").read_text())["stages"].values() if r["selection"]]


def test_the_chosen_step_is_the_first_best_dev_score_and_is_recorded(selected):
    [record] = _records(selected.out_dir)
    for criterion in ("dev", "target-dev"):
        chosen = record["selection"][criterion]
        history = chosen["history"]
        assert [step for step, _ in history] == [2, 4, 6, 8]  # every 2 steps, the last included
        best = max(score for _, score in history)
        assert chosen["score"] == best and chosen["step"] == next(step for step, score in history if score == best)
    assert record["selection"]["dev"]["languages"] == ["base"]
    assert len(record["selection"]["target-dev"]["languages"]) == 7  # every evaluated language's dev set
    assert record["mixture"] == {"synth-nli": {"base": 8 * TRAINING["batch_size"]}}


def test_the_oracle_is_its_own_labelled_row_read_from_its_own_checkpoint(selected):
    rows = [r for r in read_rows(selected.out_dir) if r["primary"] == "1"]
    methods = {r["method"] for r in rows}
    assert {"finetune", "finetune@target-dev", "majority"} == methods
    [stage] = [p.parent for p in (selected.out_dir / "stages").glob("*/checkpoint-target-dev")]
    assert (stage / "checkpoint" / "trainable.safetensors").is_file()


def test_a_killed_selecting_stage_resumes_to_the_same_chosen_step(selected, tmp_path):
    out = tmp_path / "killed"
    config = tmp_path / "study.yaml"
    config.write_text(yaml.safe_dump(selecting_study(out)))
    # killed after a resumable checkpoint with a selection scored, before the stage completes
    assert _kill_when(_xlt_run(config), lambda: any((out / "stages").glob("*/resume/state.pt")))
    final = _xlt_run(config)
    assert final.wait(timeout=600) == 0, final.stderr.read().decode()[-2000:]
    assert _records(out)[0]["selection"] == _records(selected.out_dir)[0]["selection"]
    assert (out / "results.csv").read_text() == (selected.out_dir / "results.csv").read_text()
