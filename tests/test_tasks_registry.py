"""The task registry: the 12 XTREME / XTREME-R targets, their intermediate tasks, and `xlt tasks` rows."""

from __future__ import annotations

import pytest

from xlt.errors import XltError
from xlt.tasks import TASKS, get_task
from xlt.tasks.table import task_rows

# (XTREME, XTREME-R) language counts, reference.md "Language lists"; None: not in that benchmark
COUNTS = {
    "pawsx": (7, None),
    "xnli": (15, 15),
    "panx": (40, 48),
    "udpos": (33, 38),
    "bucc2018": (4, None),
    "tatoeba": (36, 41),
    "xquad": (11, 12),
    "mlqa": (7, 7),
    "tydiqa": (9, 9),
    "xcopa": (None, 11),
    "mewslix": (None, 11),
    "lareqa": (None, 11),
}
SCORER_METRICS = {
    "accuracy": ("accuracy",),
    "tagging": ("f1", "precision", "recall", "f1_seqeval_1_2", "accuracy"),
    "squad": ("f1", "exact_match"),
    "mlqa": ("f1", "exact_match"),
    "bucc": ("f1", "precision", "recall"),
    "mewslix": ("map@20",),
    "lareqa": ("map@20",),
}
KINDS = {
    "xnli": "pair_classification",
    "pawsx": "pair_classification",
    "xcopa": "multiple_choice",
    "udpos": "tagging",
    "panx": "tagging",
    "xquad": "qa",
    "mlqa": "qa",
    "tydiqa": "qa",
    "tatoeba": "retrieval",
    "bucc2018": "mining",
    "lareqa": "ranking",
    "mewslix": "ranking",
}
INTERMEDIATE = ("mnli", "squad", "squad-retrieval", "siqa", "copa", "paws", "xnli-tt", "pawsx-tt", "tydiqa-ml")


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_target_languages_kind_and_metrics(name):
    spec = get_task(name)
    for benchmark, count in zip(("xtreme", "xtreme-r"), COUNTS[name]):
        if count is None:
            assert benchmark not in spec.languages
        else:
            langs = spec.languages[benchmark]
            assert len(langs) == count and len(set(langs)) == count
    assert spec.kind == KINDS[name]
    assert spec.metrics == SCORER_METRICS[spec.scorer]


def test_xtreme_r_extends_xtreme_where_both_list_a_task():
    added = {
        "udpos": {"lt", "pl", "uk", "wo", "ro"},
        "panx": {"qu", "pl", "uk", "az", "lt", "pa", "gu", "ro"},
        "tatoeba": {"az", "lt", "pl", "uk", "ro"},
        "xquad": {"ro"},
    }
    for name, extra in added.items():
        spec = get_task(name)
        assert set(spec.languages["xtreme-r"]) - set(spec.languages["xtreme"]) == extra


def test_submission_extensions_match_the_official_mock_labels(shared_dir):
    labels = shared_dir / "data" / "xtreme-mock" / "labels"
    for folder in sorted(p for p in labels.iterdir() if p.is_dir()):
        extensions = {path.suffix.lstrip(".") for path in folder.iterdir()}
        assert extensions == {get_task(folder.name).submission_ext}, folder.name


def test_training_tasks_resolve_to_registered_tasks():
    for name in INTERMEDIATE:
        assert name in TASKS
    for _, spec in TASKS.items():
        for stage in (spec.train_task, *spec.chain):
            if stage is not None:
                assert get_task(stage).kind == spec.kind or "train" not in spec.splits, (spec.name, stage)
    assert get_task("xcopa").chain == ("siqa", "copa")
    assert get_task("xcopa").training_tasks == ("siqa", "copa")  # trained one after the other, as XTREME-R
    # a target without training data trains on its train_task; retrieval targets on SQuAD (XTREME-R)
    for name, spec in TASKS.items():
        assert spec.training_task == (name if "train" in spec.splits else spec.train_task)
    assert {get_task(n).training_task for n in ("tatoeba", "bucc2018", "xquad")} == {"squad"}
    assert get_task("lareqa").training_task == "squad-retrieval"  # XTREME-R's dual encoder on SQuAD
    assert get_task("mewslix").training_task == "mewslix"


def test_only_lareqa_averages_over_examples():
    # LAReQA's official mAP@20 pools the questions of all languages; every other task averages languages
    assert {name for name, spec in TASKS.items() if spec.averaging == "examples"} == {"lareqa"}
    assert get_task("xnli").train_task == "mnli"
    assert get_task("xquad").train_task == get_task("mlqa").train_task == "squad"


def test_translate_train_tasks_train_on_every_language_of_their_target():
    assert get_task("xnli-tt").train_languages == get_task("xnli").languages["xtreme"]
    assert get_task("pawsx-tt").train_languages == get_task("pawsx").languages["xtreme"]
    assert get_task("tydiqa-ml").train_languages == get_task("tydiqa").languages["xtreme"]


def test_unknown_task_suggests_the_closest_name():
    with pytest.raises(XltError, match="did you mean 'xquad'"):
        get_task("xquadd")


def test_task_rows_list_targets_first_with_counts_and_training():
    rows = task_rows()
    assert [row["task"] for row in rows][:12] == sorted(COUNTS)
    assert {row["task"] for row in rows} == set(TASKS)
    by_name = {row["task"]: row for row in rows}
    assert by_name["udpos"]["languages"] == "xtreme 33, xtreme-r 38"
    assert by_name["xcopa"]["trained on"] == "siqa -> copa"
    assert by_name["xnli"]["trained on"] == "mnli"
    assert by_name["mlqa"]["metrics"] == "f1, exact_match"
    assert by_name["bucc2018"]["hub"] == "local files only"
    assert by_name["mnli"]["languages"] == "english 1" and by_name["mnli"]["trained on"] == "own train split (en)"
    assert by_name["tydiqa-ml"]["trained on"] == "own train split (9 languages)"
