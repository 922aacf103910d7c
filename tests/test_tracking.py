"""Experiment tracking through accelerate's TensorBoard tracker: the event files are read back and checked against
what the stages wrote (loss.json, the selection history, results.csv)."""

from __future__ import annotations

import csv
import importlib.util
import json

import pytest
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from test_pipeline import TRAINING, run, tiny_study
from xlt.config import validate_study
from xlt.errors import XltError
from xlt.pipeline.plan.graph import build_plan
from xlt.pipeline.stage.tracking import Tracking, run_names

pytestmark = pytest.mark.slow
IDENTITY = {"model": {"pretrained": "k"}, "data": {"synthetic": {}}}


def tracked_study(out, **changes):
    raw = tiny_study(out, methods=[{"name": "finetune", "options": {"lr": 1e-3}}], **changes)
    raw["targets"] = [
        {
            "task": "synth-nli",
            "train_languages": ["base"],
            "intermediate": ["none", "multilingual"],
            "head": {"pooling": "pair"},
            "training": {**TRAINING, "select": {"every": 3}},
        }
    ]
    return raw


@pytest.fixture(scope="module")
def tracked(tmp_path_factory):
    out = tmp_path_factory.mktemp("tracked") / "run"
    run(tracked_study(out, tracking={"backend": "tensorboard", "project": "my project"}))
    return out


def _events(tracked, name):
    accumulator = EventAccumulator(str(tracked / "tracking" / "my-project" / name))
    accumulator.Reload()
    return {
        tag: [(event.step, event.value) for event in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]
    }


def _stages(tracked):
    return json.loads((tracked / "provenance.json").read_text())["stages"]


def test_each_training_stage_logs_loss_lr_throughput_and_dev_scores(tracked):
    [target] = [s for s in _stages(tracked).values() if s["role"] == "target" and s["parent"]]
    events = _events(tracked, "finetune.multilingual.seed0.target-synth-nli-base")
    losses = json.loads((tracked / "stages" / target["hash"] / "loss.json").read_text())
    assert [step for step, _ in events["train/loss"]] == list(range(1, len(losses) + 1))
    assert [value for _, value in events["train/loss"]] == pytest.approx(losses, rel=1e-6)
    lrs = [value for _, value in events["train/lr"]]
    assert lrs[0] > lrs[-1] >= 0 and lrs == sorted(lrs, reverse=True)  # the linear schedule after warmup
    assert all(value > 0 for _, value in events["train/examples_per_second"])
    history = target["selection"]["dev"]["history"]
    assert [step for step, _ in events["dev/accuracy"]] == [step for step, _ in history] == [3, 6]
    assert [value for _, value in events["dev/accuracy"]] == pytest.approx([value for _, value in history], rel=1e-6)


def test_the_intermediate_stage_is_its_own_run_with_its_hash_as_metadata(tracked):
    [inter] = [s for s in _stages(tracked).values() if s["role"] == "intermediate"]
    folder = (
        tracked / "tracking" / "my-project" / "finetune.multilingual.seed0.intermediate-synth-pos-"
        f"{'+'.join(inter['languages'])}"
    )
    assert len(_events(tracked, folder.name)["train/loss"]) == inter["steps"]
    [hparams] = folder.glob("*/hparams.yml")
    metadata = yaml.safe_load(hparams.read_text())
    assert metadata["stage_hash"] == inter["hash"] and metadata["method_options.lr"] == 1e-3
    assert metadata["training.steps"] == TRAINING["steps"]


def test_evaluation_logs_every_language_score(tracked):
    with open(tracked / "results.csv", newline="") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r["method"] == "finetune" and r["intermediate"] == "none" and r["primary"] == "1"
        ]
    events = _events(tracked, "finetune.none.seed0.evaluation-synth-nli-base")
    assert len(rows) == 7
    for row in rows:
        [(step, value)] = events[f"test/accuracy/{row['eval_language']}"]
        assert value == pytest.approx(float(row["value"]), rel=1e-6) and step == TRAINING["steps"]
    [(_, average)] = events["test/accuracy/average"]
    assert average == pytest.approx(sum(float(r["value"]) for r in rows) / len(rows), rel=1e-6)
    majority = _events(tracked, "majority.none.seed0.evaluation-synth-nli-base")
    assert majority["test/accuracy/base"][0][0] == 0  # a reference has no training steps


def test_tracking_is_off_by_default_and_never_changes_a_stage_hash(tmp_path):
    plain = validate_study(tracked_study(tmp_path), "tiny")
    tracked = validate_study(tracked_study(tmp_path, tracking={"backend": "tensorboard"}), "tiny")
    assert plain.tracking is None and Tracking.for_study(plain, build_plan(plain, IDENTITY), tmp_path) is None
    assert build_plan(plain, IDENTITY).train.keys() == build_plan(tracked, IDENTITY).train.keys()
    names = run_names(build_plan(tracked, IDENTITY))
    assert len(set(names.values())) == len(names)  # one run per stage


@pytest.mark.skipif(importlib.util.find_spec("wandb") is not None, reason="wandb is installed")
def test_a_backend_that_is_not_installed_is_one_line_before_any_work(tmp_path):
    study = validate_study(tracked_study(tmp_path, tracking={"backend": "wandb"}), "tiny")
    with pytest.raises(XltError, match="pip install wandb") as err:
        Tracking.for_study(study, build_plan(study, IDENTITY), tmp_path)
    assert "\n" not in str(err.value) and not any(tmp_path.iterdir())  # one line; nothing written
