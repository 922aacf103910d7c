"""Planning and hashing: shared stages collapse, and a change reaches exactly the stages downstream of it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from xlt.config import apply_override, oracle_label, validate_study
from xlt.kinds import get_kind
from xlt.methods.finetune import FinetuneOptions
from xlt.pipeline.plan import carry
from xlt.pipeline.plan.graph import CHECKPOINT, build_plan, checkpoint_name, unique_evals
from xlt.runtime.io import stable_hash
from xlt.tasks import get_task

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
    recipes = {(e.label, e.intermediate, e.task) for e in plan.evals}
    assert ("majority", "none", "synth-nli") in recipes and ("random_init", "none", "synth-pos") in recipes
    assert len(plan.evals) == 2 * 4 + 2 + 2


def test_random_init_fine_tunes_fresh_weights_with_the_studys_finetune_options():
    def random_init_options(raw):
        [stage] = {
            s.hash: s
            for s in build_plan(validate_study(raw, "demo"), IDENTITY).train.values()
            if s.method_options.model_dump().get("init") == "random" and s.task == "synth-pos"
        }.values()
        return stage.method, stage.method_options.model_dump()

    raw = yaml.safe_load(DEMO.read_text())
    assert random_init_options(raw) == ("finetune", {**FinetuneOptions(lr=5e-4).model_dump(), "init": "random"})
    raw["methods"] = [m for m in raw["methods"] if m["name"] != "finetune"]  # then the finetune defaults
    assert random_init_options(raw) == ("finetune", FinetuneOptions(init="random").model_dump())


def test_unique_evals_keep_each_evaluation_once_in_plan_order():
    raw = yaml.safe_load(DEMO.read_text())
    raw["methods"].append(
        dict(raw["methods"][0], name="finetune-again", type="finetune")
    )  # the same stages under a second label
    plan = build_plan(validate_study(raw, "demo"), IDENTITY)
    hashes = [e.hash for e in unique_evals(plan)]
    assert len(plan.evals) > len(hashes) == len(set(hashes))
    assert hashes == list(dict.fromkeys(e.hash for e in plan.evals))


def test_a_stage_describes_its_role_task_languages_method_and_seed():
    stages = build_plan(study(), IDENTITY).train.values()
    multilingual = next(s for s in stages if s.role == "intermediate" and len(s.languages) > 1)
    assert multilingual.describe() == "intermediate synth-pos [base+swap+cyrl+sov+vsom] finetune / multilingual seed 0"


SELECTING = ("targets.synth-nli.training.select.every=50", "targets.synth-nli.training.select.on=[dev,target-dev]")


def test_stage_hashes_are_the_ones_existing_caches_hold():
    """Caches address stages by hash: the same study and identity must keep giving the same hashes. A change
    that moves them must bump PLAN_VERSION (every cached stage then reruns; CHANGELOG.md says why) and update
    these digests of the sorted hashes of the demo's plans."""
    plan, selecting = build_plan(study(), IDENTITY), build_plan(study(*SELECTING), IDENTITY)
    assert stable_hash(sorted(plan.train)) == "987a90ed96c686f2"
    assert stable_hash(sorted(e.hash for e in plan.evals)) == "a1b8f1650de561bd"
    assert stable_hash(sorted(selecting.train)) == "909eab843f79e58b"
    # the oracle evaluations moved once: they read their own checkpoint since (CHANGELOG)
    assert stable_hash(sorted(e.hash for e in selecting.evals)) == "518d3cf5523a80e9"


def test_evaluations_carry_their_targets_languages_split_seed_and_budgets():
    plan = build_plan(
        study(
            "targets.synth-nli.eval_languages=[cyrl,base]", "targets.synth-nli.training.eval_batch_size=16", "seeds=[3]"
        ),
        IDENTITY,
    )
    evals = [e for e in plan.evals if e.task == "synth-nli"]
    assert {e.label for e in evals} == {"finetune", "deep_prompt", "random_init", "majority"}
    for e in evals:
        assert (e.train_languages, e.languages, e.split, e.seed) == (("base",), ("cyrl", "base"), "test", 3)
        assert (e.batch_size, e.max_length, e.checkpoint, e.identity) == (16, 64, CHECKPOINT, IDENTITY)
    assert {s.seed for s in plan.train.values()} == {3}


def test_each_selection_criterion_evaluates_its_own_checkpoint_and_target_dev_is_the_oracle_row():
    assert (checkpoint_name("dev"), checkpoint_name("target-dev")) == (CHECKPOINT, f"{CHECKPOINT}-target-dev")
    plan = build_plan(study(*SELECTING), IDENTITY)
    nli = [e for e in plan.evals if e.task == "synth-nli" and e.intermediate == "none" and e.source]
    by_recipe = {e.label: e for e in nli}
    assert set(by_recipe) == {r for m in ("finetune", "deep_prompt", "random_init") for r in (m, oracle_label(m))}
    own, oracle = by_recipe["finetune"], by_recipe[oracle_label("finetune")]
    assert (own.checkpoint, oracle.checkpoint) == (checkpoint_name("dev"), checkpoint_name("target-dev"))
    assert own.source == oracle.source and own.hash != oracle.hash
    assert plan.train[own.source].oracle_languages == own.languages  # the oracle's dev sets are the evaluated ones
    assert all(not s.oracle_languages for s in plan.train.values() if s.task == "synth-pos")


def test_an_intermediate_condition_in_all_languages_trains_in_every_language_of_its_task():
    plan = build_plan(study("intermediate.multilingual.languages=all"), IDENTITY)
    languages = {s.languages for s in plan.train.values() if s.role == "intermediate"}
    assert languages == {("base",), get_task("synth-pos").eval_languages("synthetic")}
    assert len(get_task("synth-pos").eval_languages("synthetic")) == 7


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


def test_token_types_change_exactly_the_pair_tasks_stages():
    """On an encoder that embeds token types (BERT), the stages of a pair task (synth-nli) and those downstream
    of them get new hashes, since their features carry the pair's token types now; every other hash stays."""
    base, typed = build_plan(study(), IDENTITY), build_plan(study(), IDENTITY, token_types=True)
    pairs = {h for h, s in base.train.items() if get_kind(get_task(s.task).kind).pairs}
    assert {base.train[h].task for h in pairs} == {"synth-nli"}
    assert set(base.train) - set(typed.train) == pairs
    moved = {e.hash for e in base.evals} - {e.hash for e in typed.evals}
    assert moved == {e.hash for e in base.evals if e.task == "synth-nli" and e.source is not None}


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
    by_task = {e.task: e for e in plan.evals if e.label == "finetune"}
    assert len({by_task[task].source for task in ("tatoeba", "lareqa", "xquad")}) == 3
    assert by_task["tatoeba"].head_options.model_dump() == {"dropout": 0.1, "layer": 3, "pooling": "mean"}
    assert plan.train[by_task["tatoeba"].source].head_options.model_dump() == {"dropout": 0.1}  # the QA head's defaults


def test_all_languages_are_the_studys_benchmark_languages_where_the_task_has_them():
    training = {"steps": 0}
    plan = build_plan(
        retrieval_study({"task": "tatoeba", "training": training}, {"task": "bucc2018", "training": training}), IDENTITY
    )
    languages = {e.task: e.languages for e in plan.evals}
    assert languages["tatoeba"] == get_task("tatoeba").eval_languages("xtreme-r")  # 41, XTREME's own 36
    assert len(languages["tatoeba"]) == 41
    assert languages["bucc2018"] == get_task("bucc2018").eval_languages(None)  # BUCC is XTREME's only


def test_the_evaluated_head_moves_only_its_evaluation_stage():
    def plan(layer):
        return build_plan(
            retrieval_study({"task": "tatoeba", "training": {"steps": 0}, "head": {"layer": layer}}), IDENTITY
        )

    first, second = plan(1), plan(2)
    assert set(first.train) == set(second.train)  # the untrained SQuAD stage is the same
    assert {e.hash for e in first.evals if e.source} != {e.hash for e in second.evals if e.source}


# The carry-over rule (`xlt.pipeline.plan.carry`), whose head options the plan hashes; train and evaluate load by it.


def test_a_training_stage_takes_its_parents_encoder_side_and_a_fresh_head():
    taken = carry.into_training()
    assert (taken.prefix, taken.head) == (carry.ENCODER, "fresh")
    assert taken.policy("parent") == {
        "encoder": "from parent (backbone weights and method tensors: prompts, LoRA)",
        "head": "fresh",
    }


def test_an_evaluation_takes_everything_from_a_stage_of_its_own_kind_else_the_encoder_side():
    same = carry.into_evaluation("qa", "qa")
    assert (same.prefix, same.head) == ("", "trained")  # "" loads every tensor, the head's too
    assert same.policy("abc123")["head"] == "from abc123"
    other = carry.into_evaluation("qa", "retrieval")
    assert (other.prefix, other.head) == (carry.ENCODER, "fresh")
    assert other.policy("abc123")["head"] == "fresh"


def test_training_uses_the_evaluated_head_options_only_for_a_task_of_the_same_kind():
    evaluated = get_kind("retrieval").HeadOptions(layer=3, dropout=0.2)
    assert carry.training_head(evaluated, "retrieval", "retrieval") is evaluated
    assert carry.training_head(evaluated, "retrieval", "qa") == get_kind("qa").HeadOptions()
