"""Planning and hashing: shared stages collapse, and a change reaches exactly the stages downstream of it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from xlt.config import apply_override, validate_study
from xlt.pipeline.plan import build_plan

DEMO = Path(__file__).resolve().parents[1] / "configs" / "demo.yaml"
IDENTITY = {"model": {"path": "/models/tiny"}, "data": {"synthetic": {"seed": 0}}}


def study(*overrides: str):
    raw = yaml.safe_load(DEMO.read_text())
    for override in overrides:
        apply_override(raw, override)
    return validate_study(raw, "demo")


def grid(n_targets: int, conditions: list[str]):
    """One method, len(conditions) intermediate conditions (plus none), n_targets targets using all of them."""
    raw = yaml.safe_load(DEMO.read_text())
    raw["methods"] = raw["methods"][:1]
    raw["references"] = []
    target = raw["targets"][0]
    raw["targets"] = [
        dict(target, train_languages=[lang], intermediate=conditions)
        for lang in ["base", "swap", "cyrl", "adjn", "sov"][:n_targets]
    ]
    return validate_study(raw, "grid")


def test_shared_intermediate_stage_is_planned_once():
    # M conditions that train an intermediate stage in all languages (shared by every target), N targets.
    for n_targets in (1, 2, 3):
        plan = build_plan(grid(n_targets, ["multilingual"]), IDENTITY)
        m = 1
        assert plan.training_runs == m + m * n_targets
        intermediate = [s for s in plan.train.values() if s.role == "intermediate"]
        assert len(intermediate) == 1
        assert all(s.parent == intermediate[0].hash for s in plan.train.values() if s.role == "target")


def test_demo_grid_counts():
    plan = build_plan(study(), IDENTITY)
    # per method: 2 intermediate stages + nli x 3 conditions + pos x 1; plus random_init on 2 targets
    assert plan.training_runs == 2 * (2 + 3 + 1) + 2
    recipes = {(e.recipe, e.intermediate, e.task) for e in plan.evals}
    assert ("majority", "none", "synth-nli") in recipes and ("random_init", "none", "synth-pos") in recipes
    assert len(plan.evals) == 2 * 4 + 2 + 2


def test_plan_is_deterministic():
    assert list(build_plan(study(), IDENTITY).train) == list(build_plan(study(), IDENTITY).train)
    # and across processes, whatever their string hashing: a resumed run finds its stages by these hashes
    code = (
        "import sys; sys.path[:0] = sys.argv[1:]; from test_plan import *;"
        " print(list(build_plan(study(), IDENTITY).train))"
    )
    here = [sys.executable, "-c", code, str(Path(__file__).parent)]
    for seed in ("1", "2"):
        done = subprocess.run(here, env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True)
        assert done.stdout.strip() == str(list(build_plan(study(), IDENTITY).train)), done.stderr[-2000:]


def test_changed_hyperparameter_changes_exactly_the_downstream_stages():
    base = build_plan(study(), IDENTITY).train
    changed = build_plan(study("intermediate.multilingual.temperature=5"), IDENTITY).train
    moved = set(base) - set(changed)
    described = {base[h].describe() + f" <- {base[h].parent}" for h in moved}
    multilingual = {h for h, s in base.items() if s.role == "intermediate" and len(s.languages) > 1}
    downstream = {h for h, s in base.items() if s.parent in multilingual}
    assert moved == multilingual | downstream, described

    target_only = build_plan(study("targets.synth-pos.training.steps=301"), IDENTITY).train
    moved = set(base) - set(target_only)
    assert moved and all(base[h].task == "synth-pos" and base[h].role == "target" for h in moved)

    method_only = build_plan(study("methods.deep_prompt.options.prompt_length=32"), IDENTITY).train
    moved = set(base) - set(method_only)
    assert moved == {h for h, s in base.items() if s.method == "deep_prompt"}


def test_model_identity_changes_every_stage():
    other = {**IDENTITY, "model": {"path": "/models/other"}}
    assert not set(build_plan(study(), IDENTITY).train) & set(build_plan(study(), other).train)


def test_checkpoint_frequency_does_not_change_hashes():
    base = build_plan(study(), IDENTITY).train
    assert set(base) == set(build_plan(study("targets.synth-nli.training.checkpoint_every=7"), IDENTITY).train)


def retrieval_study(*targets: dict):
    raw = yaml.safe_load(DEMO.read_text())
    raw.update(benchmark="xtreme-r", intermediate=[], references=["majority"], targets=list(targets))
    raw.pop("data")
    raw["methods"] = raw["methods"][:1]
    return validate_study(raw, "retrieval")


def test_a_target_without_training_data_trains_on_its_train_task():
    training = {"steps": 10}
    plan = build_plan(
        retrieval_study(
            {"task": "xquad", "training": training, "head": {"dropout": 0.2}},
            {"task": "tatoeba", "training": training, "head": {"layer": 3}},
            {"task": "lareqa", "training": training},
        ),
        IDENTITY,
    )
    stages = {(s.task, s.head_options.dropout) for s in plan.train.values()}
    # XQuAD's SQuAD stage keeps its QA head options; Tatoeba's SQuAD stage (another kind) the QA defaults;
    # LAReQA trains its own ranking kind on SQuAD retrieval, with the target's head options
    assert stages == {("squad", 0.2), ("squad", 0.1), ("squad-retrieval", 0.1)}
    by_task = {e.task: e for e in plan.evals if e.recipe == "finetune"}
    assert len({by_task[task].source for task in ("tatoeba", "lareqa", "xquad")}) == 3
    assert by_task["tatoeba"].head_options.model_dump() == {"dropout": 0.1, "layer": 3, "pooling": "mean"}
    assert plan.train[by_task["tatoeba"].source].head_options.model_dump() == {"dropout": 0.1}  # the QA head's defaults


def test_the_evaluated_head_moves_only_its_evaluation_stage():
    def plan(layer):
        return build_plan(
            retrieval_study({"task": "tatoeba", "training": {"steps": 0}, "head": {"layer": layer}}), IDENTITY
        )

    first, second = plan(1), plan(2)
    assert set(first.train) == set(second.train)  # the untrained SQuAD stage is the same
    assert {e.hash for e in first.evals if e.source} != {e.hash for e in second.evals if e.source}
