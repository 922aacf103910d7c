"""The majority reference of a task without a train split of its own (XCOPA, trained SIQA -> COPA): it counts the
labels of the last task trained before evaluation when that task has the same kind and labels, and is refused at
config time, in one line and before anything trains, when it has not."""

from __future__ import annotations

import contextlib
import csv
from collections import Counter
from functools import partial

import pytest

from in_process import run_xlt
from small_study import TRAINING, small_study, write_config
from xlt.config import validate_study
from xlt.data.synthetic import load_examples, task_languages
from xlt.data.synthetic_grammar import BASE
from xlt.data.synthetic_tasks import NLI_LABELS
from xlt.pipeline.run.manifest import load_manifest
from xlt.pipeline.run.runner import run_study
from xlt.tasks import TASKS, get_task
from xlt.tasks.spec import TaskSpec, register

UNTRAINED = "synth-nli-untrained"  # synth-nli's dev and test splits alone


@contextlib.contextmanager
def untrained_nli(train_task: str):
    """synth-nli without its train split, trained on `train_task` instead (as XCOPA is on COPA)."""
    register(
        TaskSpec(
            name=UNTRAINED,
            kind="pair_classification",
            languages={"synthetic": task_languages("synth-nli")},
            load=partial(load_examples, "synth-nli"),
            labels=NLI_LABELS,
            train_languages=(BASE,),
            splits=("dev", "test"),
            train_task=train_task,
        )
    )
    try:
        yield
    finally:
        TASKS.unregister(UNTRAINED)


def study_of_untrained(tmp_path) -> dict:
    target = {"task": UNTRAINED, "train_languages": [BASE], "eval_languages": [BASE, "cyrl"], "training": TRAINING}
    return small_study(tmp_path / "out", intermediate=[], targets=[{**target, "head": {"pooling": "pair"}}])


def test_xcopa_counts_the_labels_of_copa_the_last_task_it_is_trained_on():
    assert get_task("xcopa").majority_task() is get_task("copa")
    assert get_task("xnli").majority_task() is get_task("xnli")  # a train split of its own: its own labels
    assert get_task("xquad").majority_task() is None  # a QA task's majority answers nothing: no labels read


def test_a_majority_without_labels_to_count_is_refused_in_one_line_before_anything_trains(tmp_path, capsys):
    config = write_config(tmp_path / "study.yaml", study_of_untrained(tmp_path))
    with untrained_nli(train_task="synth-pos"):  # tagging: no sentence labels to count
        code, stderr = run_xlt(capsys, "run", str(config))
    assert code == 2 and stderr.count("\n") == 1 and stderr.startswith("error: "), stderr
    assert f"targets.0.task: {UNTRAINED} has no train split" in stderr and "references" in stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # trains and evaluates a small study
def test_a_chained_target_gets_a_majority_row_from_its_training_tasks_labels(tmp_path):
    with untrained_nli(train_task="synth-nli"):
        outcome = run_study(validate_study(study_of_untrained(tmp_path), "study"), progress=False)
        data_dir = load_manifest(outcome.out_dir).resources.data_dir
    rows = list(csv.DictReader((outcome.out_dir / "results.csv").open()))
    got = {row["eval_language"]: float(row["value"]) for row in rows if row["method"] == "majority"}
    train = get_task("synth-nli").load("train", BASE, data_dir)
    label = Counter(example["label"] for example in train).most_common(1)[0][0]
    expected = {}
    for lang in (BASE, "cyrl"):
        test = get_task("synth-nli").load("test", lang, data_dir)
        expected[lang] = 100 * sum(example["label"] == label for example in test) / len(test)
    assert got == pytest.approx(expected)
