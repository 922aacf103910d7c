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
    raw["targets"] = [
        {
            "task": "synth-nli",
            "train_languages": ["base"],
            "head": {"pooling": "pair"},
            "training": {**TRAINING, "steps": 8, "select": SELECT},
        }
    ]
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


def test_the_oracle_is_its_own_labelled_row_with_its_own_checkpoint_and_units(selected):
    rows = [r for r in read_rows(selected.out_dir) if r["primary"] == "1"]
    assert {r["method"] for r in rows} == {"finetune", "finetune@target-dev", "majority"}
    [stage] = {r["stage_hash"] for r in rows if r["method"] != "majority"}  # one training stage, two rows
    checkpoints = {
        record["recipe"]: record["checkpoint"]
        for record in json.loads((selected.out_dir / "provenance.json").read_text())["evaluations"].values()
    }
    [record] = _records(selected.out_dir)
    assert checkpoints == {
        "finetune": {"stage": stage, "name": "checkpoint", "step": record["selection"]["dev"]["step"]},
        "finetune@target-dev": {
            "stage": stage,
            "name": "checkpoint-target-dev",
            "step": record["selection"]["target-dev"]["step"],
        },
    }
    units = selected.out_dir / "units"
    assert (units / stage).is_dir() and (units / f"{stage}@target-dev").is_dir()
    shown = (selected.out_dir / "report.md").read_text()
    oracle_step = record["selection"]["target-dev"]["step"]
    assert f"| finetune@target-dev | none | synth-nli | 0 | {stage} | checkpoint-target-dev | {oracle_step} |" in shown


@pytest.fixture(scope="module")
def selected_on_dev(tmp_path_factory):
    raw = selecting_study(tmp_path_factory.mktemp("select-dev") / "run")
    raw["targets"][0]["split"] = "dev"
    raw["seeds"] = [0, 1, 2]
    return run(raw)


def test_each_row_scores_the_step_its_criterion_chose_in_seeds_where_the_criteria_differ(selected_on_dev):
    """Evaluated on the dev split, a row's mean over the languages its criterion selects on is the score that
    criterion recorded for its chosen step: the dev row over the training language, the oracle over every one."""
    out = selected_on_dev.out_dir
    stages = json.loads((out / "provenance.json").read_text())["stages"]
    rows = [r for r in read_rows(out) if r["primary"] == "1" and r["method"] != "majority"]
    differing = 0
    for stage_hash in {r["stage_hash"] for r in rows}:
        selection = stages[stage_hash]["selection"]
        differing += selection["dev"]["step"] != selection["target-dev"]["step"]
        for method, criterion in (("finetune", "dev"), ("finetune@target-dev", "target-dev")):
            languages = selection[criterion]["languages"]
            scores = {
                r["eval_language"]: float(r["value"])
                for r in rows
                if (r["stage_hash"], r["method"]) == (stage_hash, method)
            }
            mean = sum(scores[lang] for lang in languages) / len(languages)
            assert mean == pytest.approx(selection[criterion]["score"], abs=1e-6), (stage_hash, method)
    assert differing >= 1  # the seeds include one whose two criteria chose different steps


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
