"""`training.select`: the Selector's bookkeeping on a model that predicts one label (fast), then whole studies
(slow): dev-based checkpoint selection records its chosen step, the target-dev oracle is its own labelled row,
and a run killed mid-stage resumes to the same chosen step."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch
import yaml
from safetensors.torch import load_file
from torch import nn

from test_pipeline import TRAINING, _kill_when, _xlt_run, read_rows, run, tiny_study
from xlt.config import Selection, Training
from xlt.kinds import HeadOptions
from xlt.methods import MethodOptions
from xlt.model import META, WEIGHTS
from xlt.pipeline.plan.graph import TrainStage
from xlt.pipeline.stage.selection import SELECTED, Selector
from xlt.tasks import get_task

SELECT = {"every": 2, "on": ["dev", "target-dev"]}
NLI = get_task("synth-nli")


class OneLabel(nn.Module):
    """A model whose only tensor is the logits it outputs for every example: it predicts one label."""

    def __init__(self) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(len(NLI.labels)))
        self.modes: list[bool] = []  # self.training at each forward

    def predict(self, label: str) -> OneLabel:
        with torch.no_grad():
            self.logits.copy_(torch.tensor([float(name == label) for name in NLI.labels]))
        return self

    def forward(self, batch: dict) -> torch.Tensor:
        self.modes.append(self.training)
        return self.logits.expand(len(batch["input_ids"]), -1)

    def trainable_state(self) -> dict[str, torch.Tensor]:
        return {"logits": self.logits.detach()}


def share(small_benchmark, label: str, languages: tuple[str, ...]) -> float:
    """Accuracy x100 of predicting `label` everywhere, averaged over the languages' dev sets."""
    shares = [[e["label"] == label for e in NLI.load("dev", lang, small_benchmark)] for lang in languages]
    return sum(100 * sum(s) / len(s) for s in shares) / len(shares)


def selector(small_benchmark, directory, feature_calls: list | None = None, on=("dev", "target-dev")) -> Selector:
    """A Selector of a synth-nli stage trained on base, its oracle on base and swap, every 2 of 6 steps."""

    def features(spec, kind, examples, split, lang, max_length, token_types):
        if feature_calls is not None:
            feature_calls.append((spec.name, kind.name, len(examples), split, lang, max_length))
        return [{"example_index": i, "input_ids": [5] * (1 + i % 3)} for i in range(len(examples))]

    training = Training(steps=6, eval_batch_size=5, select=Selection(every=2, on=list(on)))
    stage = TrainStage(
        "target", "synth-nli", ("base",), 1.0, training, "finetune", MethodOptions(), HeadOptions(), 0, None, {},
        oracle_languages=("base", "swap"),
    )  # fmt: skip
    ctx = SimpleNamespace(resources=SimpleNamespace(data_dir=small_benchmark), features=features)
    return Selector(stage, ctx, max_length=17, token_types=False, directory=directory)


def test_selector_loads_each_criterions_dev_sets_through_the_feature_cache(small_benchmark, tmp_path):
    calls: list = []
    chosen = selector(small_benchmark, tmp_path, calls)
    assert [(c.name, c.spec.name, list(c.data)) for c in chosen.criteria] == [
        ("dev", "synth-nli", ["base"]),
        ("target-dev", "synth-nli", ["base", "swap"]),
    ]
    kind = NLI.kind
    assert calls == [("synth-nli", kind, 12, "dev", lang, 17) for lang in ("base", "base", "swap")]
    examples, features = chosen.criteria[1].data["swap"]
    assert examples == NLI.load("dev", "swap", small_benchmark) and len(features) == 12
    assert chosen.every == 2 and chosen.batch_size == 5 and chosen.directory == tmp_path / SELECTED


def test_selection_is_due_every_n_steps_and_at_the_last(small_benchmark, tmp_path):
    every_two = selector(small_benchmark, tmp_path)
    assert [step for step in range(1, 8) if every_two.due(step, 7)] == [2, 4, 6, 7]


def test_each_criterion_keeps_its_first_best_mean_over_its_languages_and_saves_that_checkpoint(
    small_benchmark, tmp_path
):
    chosen, model = selector(small_benchmark, tmp_path), OneLabel()
    steps = {2: "neutral", 4: "entailment", 6: "contradiction", 8: "entailment"}  # step 8 ties step 4
    for step, label in steps.items():
        chosen.score(model.predict(label), step)
    assert not any(model.modes) and model.training  # scored in eval mode, left in training mode
    for criterion in chosen.criteria:
        languages = tuple(criterion.data)
        history = [[step, round(share(small_benchmark, label, languages), 6)] for step, label in steps.items()]
        assert criterion.history == history
        best = max(history, key=lambda entry: entry[1])  # the first of equal maxima
        assert [criterion.step, criterion.best] == best and best[0] != 8
        saved = tmp_path / SELECTED / criterion.name
        weights = load_file(saved / WEIGHTS)["logits"]
        assert NLI.labels[int(weights.argmax())] == steps[best[0]]
        assert json.loads((saved / META).read_text()) == {"step": best[0], "score": best[1]}


def test_a_restored_selector_continues_from_the_saved_state(small_benchmark, tmp_path):
    first, model = selector(small_benchmark, tmp_path / "first"), OneLabel()
    first.score(model.predict("entailment"), 2)
    resumed = selector(small_benchmark, tmp_path / "resumed")
    resumed.restore(json.loads(json.dumps(first.state())))  # as the resume state stores it
    assert resumed.state() == first.state()
    resumed.score(model.predict("neutral"), 4)  # worse: the restored best stands
    dev = resumed.criteria[0]
    assert (dev.step, dev.best) == (2, first.criteria[0].best) and [s for s, _ in dev.history] == [2, 4]


def test_restoring_a_state_without_a_criterion_starts_it_afresh(small_benchmark, tmp_path):
    resumed = selector(small_benchmark, tmp_path)
    resumed.restore({"dev": {"best": 50.0, "step": 4, "history": [[4, 50.0]]}})
    assert resumed.state() == {
        "dev": {"best": 50.0, "step": 4, "history": [[4, 50.0]]},
        "target-dev": {"best": None, "step": None, "history": []},
    }


def test_finish_puts_each_best_checkpoint_in_its_place_and_returns_the_records(small_benchmark, tmp_path):
    chosen, model = selector(small_benchmark, tmp_path / "work"), OneLabel()
    chosen.score(model.predict("entailment"), 2)
    stage_dir = tmp_path / "stage"
    (stage_dir / "checkpoint").mkdir(parents=True)
    (stage_dir / "checkpoint" / "stale").write_text("")  # the last step's checkpoint, replaced
    records = chosen.finish(stage_dir)
    kept = tmp_path / "work" / SELECTED
    for criterion, name in (("dev", "checkpoint"), ("target-dev", "checkpoint-target-dev")):
        assert sorted(p.name for p in (stage_dir / name).iterdir()) == sorted([META, WEIGHTS])
        assert (stage_dir / name / WEIGHTS).read_bytes() == (kept / criterion / WEIGHTS).read_bytes()
    languages = {"dev": ("base",), "target-dev": ("base", "swap")}
    scores = {name: round(share(small_benchmark, "entailment", languages[name]), 6) for name in languages}
    assert records == {
        name: {
            "step": 2,
            "score": scores[name],
            "metric": "accuracy",
            "every": 2,
            "task": "synth-nli",
            "languages": list(languages[name]),
            "history": [[2, scores[name]]],
        }
        for name in languages
    }


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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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
