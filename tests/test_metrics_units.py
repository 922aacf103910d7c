"""Per-example units reproduce each decomposable scorer's primary metric exactly; metrics stay torch-free."""

import subprocess
import sys

import pytest

from xlt.errors import XltError
from xlt.metrics import SCORERS, UNITS

CASES = {
    "accuracy": ([1, "0", "2", 2], ["1", 0, "1", "2"], "en"),
    "tagging": (
        [["B-PER", "O", "O"], ["NOUN", "NOUN"], ["O"]],
        [["B-PER", "O", "B-LOC"], ["NOUN", "NOUN"], ["B-ORG"]],
        "en",
    ),
    "squad": (["the cat sat", None, "dog", ""], [["cat"], ["x"], ["a dog", "dog"], ["y"]], "en"),
    "mlqa": (["北京大学", "上海", None], [["北京"], ["上海"], ["天津"]], "zh"),
    "mewslix": ([["a", "b"], ["c"], None], [["b"], ["x"], ["y"]], "en"),
    "lareqa": ([["a", "b", "c"], ["d"]], [["b", "c"], ["d", "e"]], "en"),
}


def test_every_decomposable_scorer_has_a_case():
    assert set(CASES) == set(UNITS)
    assert set(UNITS) <= set(SCORERS)


@pytest.mark.filterwarnings("ignore:.*seems not to be NE tag")
@pytest.mark.parametrize("name", sorted(CASES))
def test_units_reproduce_the_primary_metric_exactly(name):
    predictions, golds, lang = CASES[name]
    scores = SCORERS[name](predictions, golds, lang)
    assert next(iter(scores)) in UNITS[name], "the scorer's primary metric has units"
    for metric, units in UNITS[name].items():
        numerators, denominators = units(predictions, golds, lang)
        assert len(numerators) == len(denominators) == len(golds)
        assert 100 * sum(numerators) / sum(denominators) == scores[metric]
        assert 0 < scores[metric] < 100  # the cases mix hits and misses


@pytest.mark.parametrize(
    ("name", "what"),
    [("accuracy", "labels"), ("tagging", "sentences"), ("squad", "questions"), ("mewslix", "mentions")]
    + [("mlqa", "questions"), ("lareqa", "questions")],
)
def test_per_example_scorers_refuse_misaligned_inputs_with_the_counts_and_the_fix(name, what):
    predictions, golds, lang = CASES[name]
    message = (
        f"{len(golds) - 1} predictions but {len(golds)} gold {what}; "
        "score a prediction for every gold example, in the same order"
    )
    for units in UNITS[name].values():
        with pytest.raises(XltError) as error:
            units(predictions[:-1], golds, lang)
        assert str(error.value) == message


def test_accuracy_counts_labels_that_match_as_strings():
    predictions, golds, lang = CASES["accuracy"]  # 1 = "1", "0" = 0, "2" != "1", 2 = "2"
    assert SCORERS["accuracy"](predictions, golds, lang) == {"accuracy": 75.0}


def test_metrics_import_neither_torch_nor_transformers():
    code = "import sys, xlt.metrics; print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.filterwarnings("ignore:.*seems not to be NE tag")
@pytest.mark.parametrize("task", ["xnli", "udpos", "panx", "tatoeba", "xquad", "mlqa", "mewslix"])
def test_units_reproduce_every_mock_language_exactly(shared_dir, task):
    from xlt.submission import read_labels, read_predictions
    from xlt.tasks import get_task

    spec = get_task(task)
    fmt, mock = spec.submission, shared_dir / "data/xtreme-mock"
    for path in sorted((mock / "labels" / task).iterdir()):
        lang = path.stem[len("test-") :]
        golds, predictions = read_labels(path, fmt), read_predictions(mock / "predictions" / task / path.name, fmt)
        if fmt == "json":
            predictions, golds = [predictions.get(i) for i in golds], list(golds.values())
        scores = SCORERS[spec.scorer](predictions, golds, lang)
        for metric, units in UNITS[spec.scorer].items():
            numerators, denominators = units(predictions, golds, lang)
            assert 100 * sum(numerators) / sum(denominators) == scores[metric], (lang, metric)


def test_every_task_primary_metric_has_units_for_the_bootstrap():
    from xlt.tasks import TASKS, get_task

    for name in TASKS:
        spec = get_task(name)
        if spec.scorer != "bucc":  # BUCC's F1 is mined over a whole language, not per example
            assert spec.primary_metric in UNITS[spec.scorer], name
