"""The evaluation sweep's parts on small inputs: what it scores and writes per language, which checkpoint it
loads, and how it batches a model's inputs. (Whole studies that evaluate trained stages: test_pipeline.py.)"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from test_selection import NLI, OneLabel
from xlt.config import Training
from xlt.kinds import HeadOptions, get_kind
from xlt.methods import MethodOptions
from xlt.model import save_tensors
from xlt.pipeline.plan.graph import EvalStage, TrainStage
from xlt.pipeline.stage import evaluate
from xlt.pipeline.stage.context import Context
from xlt.pipeline.stage.evaluate import evaluate_stage, example_lines, official_scores, scored_checkpoint
from xlt.pipeline.stage.evaluator import run_model
from xlt.results.layout import EXAMPLES, RECORD, StudyLayout
from xlt.submission import read_predictions

KIND = get_kind(NLI.kind)
LANGUAGES = ("base", "swap")


@dataclass(frozen=True)
class StubFeatures(Context):
    """A study context whose features are an id list per example (no tokenizer), as long as its index mod 3 + 1;
    `calls` records what each request asked for."""

    calls: list = field(default_factory=list)

    def features(self, spec, kind, examples, split, lang, max_length, token_types):
        self.calls.append((spec.name, kind.name, split, lang, max_length))
        return [{"example_index": i, "input_ids": [5] * (1 + i % 3)} for i in range(len(examples))]


def context(root, small_benchmark) -> StubFeatures:
    resources = SimpleNamespace(data_dir=small_benchmark)
    return StubFeatures(StudyLayout(root), resources, root / "cache")  # type: ignore[arg-type]


def source_stage(task: str = "synth-nli") -> TrainStage:
    options = MethodOptions(lr=1e-3)
    return TrainStage(
        "target", task, ("base",), 1.0, Training(steps=6), "finetune", options, HeadOptions(), 3, None, {}
    )


def evaluation(source: TrainStage | None, checkpoint: str = "checkpoint", split: str = "test") -> EvalStage:
    recipe = "majority" if source is None else "finetune"
    return EvalStage(
        recipe, "none", "synth-nli", ("base",), LANGUAGES, split, 0, source and source.hash, {}, 4, 64,
        head_options=None if source is None else HeadOptions(), checkpoint=checkpoint,
    )  # fmt: skip


def write_record(ctx: Context, stage: TrainStage, record: dict) -> None:
    directory = ctx.stage_dir(stage.hash)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / RECORD).write_text(json.dumps(record))


def accuracy_of(label: str, examples: list[dict]) -> float:
    return 100 * sum(e["label"] == label for e in examples) / len(examples)


def test_official_scores_are_the_tasks_scorer_against_the_examples_golds(small_benchmark):
    examples = NLI.load("test", "base", small_benchmark)
    predictions = ["neutral"] * len(examples)
    scores, golds = official_scores(NLI, "base", examples, predictions)
    assert golds == [e["label"] for e in examples]
    assert scores == {"accuracy": pytest.approx(accuracy_of("neutral", examples))}


def test_the_majority_reference_writes_rows_units_predictions_and_examples_per_language(small_benchmark, tmp_path):
    ctx, ev = context(tmp_path, small_benchmark), evaluation(None)
    evaluate_stage(ev, None, ctx)
    directory = ctx.stage_dir(ev.hash)
    train = NLI.load("train", "base", small_benchmark)
    [(label, _)] = Counter(e["label"] for e in train).most_common(1)  # ties: the first seen
    rows = json.loads((directory / "rows.json").read_text())
    expected = [accuracy_of(label, NLI.load("test", lang, small_benchmark)) for lang in LANGUAGES]
    assert rows == [
        {"eval_language": lang, "split": "test", "metric": "accuracy", "value": pytest.approx(value), "primary": 1}
        for lang, value in zip(LANGUAGES, expected)
    ]
    for lang, value in zip(LANGUAGES, expected):
        examples = NLI.load("test", lang, small_benchmark)
        units = np.load(directory / "units" / f"test-{lang}.npz")
        assert units["num"].dtype == units["den"].dtype == np.float64
        assert 100 * units["num"].sum() / units["den"].sum() == pytest.approx(value)
        predictions = read_predictions(directory / "predictions" / "synth-nli" / f"test-{lang}.tsv", NLI.submission)
        assert predictions == [label] * len(examples)
        lines = (directory / EXAMPLES / "synth-nli" / f"test-{lang}.jsonl").read_text().splitlines()
        assert [json.loads(line)["id"] for line in lines] == [e["id"] for e in examples]
    record = json.loads((directory / RECORD).read_text())
    assert record["evaluation"] == "synth-nli test on 2 languages"
    assert (record["source"], record["checkpoint"], record["carry_policy"]) == (None, None, None)


def one_label_builder(ctx: Context, built: list):
    """build_task_model's stand-in: a OneLabel model (inputs of up to 48 tokens); `built` records the requests."""

    def build(method, options, spec, head_options, resources, seed):
        assert resources is ctx.resources
        built.append((method, options, spec.name, head_options, seed))
        model = OneLabel()
        model.encoder = SimpleNamespace(max_input_length=48, token_types=False)
        return model

    return build


def test_an_evaluation_scores_the_checkpoint_its_plan_names_and_records_it(small_benchmark, tmp_path, monkeypatch):
    """The stage's own checkpoint predicts one label, the oracle's another: each evaluation scores its own."""
    ctx, source = context(tmp_path, small_benchmark), source_stage()
    selection = {"dev": {"step": 4}, "target-dev": {"step": 2}}
    write_record(ctx, source, {"steps": 6, "selection": selection})
    for name, label in (("checkpoint", "entailment"), ("checkpoint-target-dev", "contradiction")):
        save_tensors(OneLabel().predict(label).trainable_state(), ctx.stage_dir(source.hash) / name)
    built: list = []
    monkeypatch.setattr(evaluate, "build_task_model", one_label_builder(ctx, built))
    for name, label, step in (("checkpoint", "entailment", 4), ("checkpoint-target-dev", "contradiction", 2)):
        ev = evaluation(source, name)
        evaluate_stage(ev, source, ctx)
        directory = ctx.stage_dir(ev.hash)
        rows = json.loads((directory / "rows.json").read_text())
        expected = [accuracy_of(label, NLI.load("test", lang, small_benchmark)) for lang in LANGUAGES]
        assert [row["value"] for row in rows] == pytest.approx(expected)
        record = json.loads((directory / RECORD).read_text())
        assert record["checkpoint"] == {"stage": source.hash, "name": name, "step": step}
        assert record["source"] == source.hash and record["carry_policy"]["head"] == "from the evaluated stage"
    assert built == [("finetune", source.method_options, "synth-nli", HeadOptions(), 3)] * 2
    # features of the evaluated split, cut to the shorter of the evaluation's 64 and the encoder's 48 tokens
    assert ctx.calls == [("synth-nli", NLI.kind, "test", lang, 48) for lang in LANGUAGES] * 2


def test_a_stage_of_another_kind_gives_its_encoder_side_and_a_fresh_head(small_benchmark, tmp_path, monkeypatch):
    ctx, source = context(tmp_path, small_benchmark), source_stage("synth-pos")  # tagging, evaluated on pairs
    write_record(ctx, source, {"steps": 6})
    save_tensors(OneLabel().predict("contradiction").trainable_state(), ctx.stage_dir(source.hash) / "checkpoint")
    monkeypatch.setattr(evaluate, "build_task_model", one_label_builder(ctx, []))
    ev = evaluation(source)
    evaluate_stage(ev, source, ctx)
    rows = json.loads((ctx.stage_dir(ev.hash) / "rows.json").read_text())
    fresh = NLI.labels[0]  # the untrained head's zero logits: the first label
    expected = [accuracy_of(fresh, NLI.load("test", lang, small_benchmark)) for lang in LANGUAGES]
    assert [row["value"] for row in rows] == pytest.approx(expected)
    assert json.loads((ctx.stage_dir(ev.hash) / RECORD).read_text())["carry_policy"]["head"] == "fresh"


def test_scored_checkpoint_is_the_step_its_criterion_chose_else_the_stages_last(small_benchmark, tmp_path):
    ctx, source = context(tmp_path, small_benchmark), source_stage()
    write_record(ctx, source, {"steps": 6, "selection": {"dev": {"step": 4}, "target-dev": {"step": 2}}})
    steps = {
        name: scored_checkpoint(evaluation(source, name), source, ctx)["step"]
        for name in ("checkpoint", "checkpoint-target-dev")
    }
    assert steps == {"checkpoint": 4, "checkpoint-target-dev": 2}
    write_record(ctx, source, {"steps": 6, "selection": None})
    assert scored_checkpoint(evaluation(source), source, ctx) == {"stage": source.hash, "name": "checkpoint", "step": 6}


def test_example_lines_keep_the_string_fields_but_the_golds_and_need_a_gold_and_prediction_per_example():
    examples = [{"id": 3, "question": "q?", "context": ["a", "b"], "label": "x", "score": 0.5, "mixed": ["a", 1]}]
    [record] = [json.loads(line) for line in example_lines(examples, ["x"], ["y"]).splitlines()]
    assert record == {"id": "3", "text": {"question": "q?", "context": ["a", "b"]}, "gold": "x", "prediction": "y"}
    assert example_lines(examples, ["q?"], ["y"]).endswith("\n")
    assert json.loads(example_lines(examples, ["q?"], ["y"]))["text"] == {"context": ["a", "b"], "label": "x"}
    with pytest.raises(ValueError):  # one gold and one prediction per scored example
        example_lines(examples, ["x", "x"], ["y"])


def test_example_lines_write_non_ascii_text_as_it_is():
    line = example_lines([{"id": "1", "text": "быстрая"}], ["x"], ["y"])
    assert "быстрая" in line


class RowSums(nn.Module):
    """Outputs each row's sum of input ids (times a weight of 1); records each batch's row lengths."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(()))
        self.batches: list[list[int]] = []

    def forward(self, batch: dict) -> torch.Tensor:
        ids = batch["input_ids"]
        self.batches.append([int(row.count_nonzero()) for row in ids])
        return (ids.sum(1, keepdim=True) * self.weight).double()


def features(*rows: list[int]) -> list[dict]:
    return [{"example_index": i, "input_ids": row, "attention_mask": [1] * len(row)} for i, row in enumerate(rows)]


def test_run_model_batches_by_length_and_returns_outputs_in_feature_order():
    model = RowSums()
    outputs = run_model(model, KIND, features([1], [2, 2, 2], [3, 3], [4, 4, 4], [5]), batch_size=2)
    assert model.batches == [[3, 3], [2, 1], [1]]  # longest first
    assert [output.tolist() for output in outputs] == [[1.0], [6.0], [6.0], [12.0], [5.0]]
    assert all(output.dtype == torch.float32 for output in outputs)


def test_run_model_with_seen_runs_each_distinct_input_once_across_calls():
    model, seen = RowSums(), {}
    first = run_model(model, KIND, features([1, 1], [2], [1, 1]), batch_size=8, seen=seen)
    again = run_model(model, KIND, features([2], [3, 3, 3]), batch_size=8, seen=seen)
    assert model.batches == [[2, 1], [3]]  # [1, 1] once, and [2] not again
    assert [o.item() for o in first] == [2.0, 2.0, 2.0] and [o.item() for o in again] == [2.0, 9.0]


def test_inputs_differing_in_any_list_field_are_run_separately():
    model, seen = RowSums(), {}
    same_ids = [{"input_ids": [1], "attention_mask": [1]}, {"input_ids": [1], "attention_mask": [0]}]
    run_model(model, KIND, same_ids, batch_size=8, seen=seen)
    assert model.batches == [[1, 1]] and len(seen) == 2
