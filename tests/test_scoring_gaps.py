"""`xlt score` with what a submission leaves out, counted as the official evaluator counts it: an unanswered
id (a warning, or an error with --strict), a line-aligned file of another length, a benchmark's missing files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xlt.errors import XltError
from xlt.metrics import SCORERS, UNANSWERED
from xlt.scoring import format_scores, score_folders, unanswered_table
from xlt.submission import write_predictions
from xlt.tasks import TASKS

DOCS = Path(__file__).resolve().parents[1] / "docs/scoring.md"


def xlt_score(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """`python -m xlt score ARGS` with stdout and stderr written to files, as a user's shell would."""
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        code = subprocess.run(
            [sys.executable, "-m", "xlt", "score", *args], stdout=stdout, stderr=stderr, env=os.environ
        ).returncode
    return code, out.read_text(), err.read_text()


def write_squad(root: Path, task: str, lang: str, golds: dict[str, str], predictions: dict[str, str]) -> None:
    """SQuAD v1.1 gold ({question id: answer}) and an {id: answer} prediction file."""
    qas = [{"id": id_, "answers": [{"text": text, "answer_start": 0}]} for id_, text in golds.items()]
    labels = {"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": "c", "qas": qas}]}]}
    (root / "labels" / task).mkdir(parents=True, exist_ok=True)
    (root / "labels" / task / f"test-{lang}.json").write_text(json.dumps(labels))
    write_predictions(
        root / "predictions" / task / f"test-{lang}.json", "qa", list(predictions.values()), list(predictions)
    )


# Three questions, the third unanswered. The SQuAD v1.1 script: EM and F1 each the max over gold answers,
# summed over the questions answered, divided by every gold question ("will receive score 0").
GOLDS = {"q1": "Paris", "q2": "the red house", "q3": "1848"}
ANSWERED = {"q1": "Paris", "q2": "red car"}
EXACT = 1 + 0  # "Paris" matches; "red car" does not
F1 = 1 + (2 * (1 / 2) * (1 / 2)) / (1 / 2 + 1 / 2)  # "red car" vs "red house" (the article dropped): 1 token of 2 each
OFFICIAL = {"exact_match": 100 * EXACT / 3, "f1": 100 * F1 / 3}


@pytest.fixture()
def unanswered(tmp_path):
    write_squad(tmp_path, "xquad", "en", GOLDS, ANSWERED)
    write_squad(tmp_path, "xquad", "de", GOLDS, GOLDS)
    return tmp_path


def test_an_unanswered_question_scores_zero_and_stays_in_the_denominator(unanswered):
    result = score_folders(unanswered / "predictions", unanswered / "labels")
    assert result["xquad"]["en"] == pytest.approx(OFFICIAL, abs=1e-9)
    assert result["xquad"]["en"]["exact_match"] != pytest.approx(50.0)  # not the mean over the two answered


def test_each_file_with_unanswered_ids_warns_once_through_the_cli(unanswered, tmp_path):
    folders = ["--predictions", str(unanswered / "predictions"), "--labels", str(unanswered / "labels")]
    code, stdout, stderr = xlt_score(tmp_path, *folders, "--json")
    assert code == 0, stderr
    assert json.loads(stdout)["xquad"]["en"] == pytest.approx(OFFICIAL, abs=1e-9)
    assert stderr.splitlines() == [
        f"warning: {unanswered}/predictions/xquad/test-en.json leaves 1 of the 3 ids of"
        f" {unanswered}/labels/xquad/test-en.json unanswered (first: 'q3'): each scores 0, as in the official evaluator"
    ]


def test_a_file_with_unanswered_and_unknown_ids_gets_one_warning_naming_both_files(tmp_path):
    write_squad(tmp_path, "xquad", "en", GOLDS, {"q1": "Paris", "q8": "x", "q9": "y"})
    write_squad(tmp_path, "xquad", "de", GOLDS, GOLDS)  # complete: no warning
    predictions, labels = tmp_path / "predictions/xquad", tmp_path / "labels/xquad"
    result = score_folders(tmp_path / "predictions", tmp_path / "labels")
    assert result.warnings == [
        f"{predictions}/test-en.json leaves 2 of the 3 ids of {labels}/test-en.json unanswered (first: 'q2'):"
        " each scores 0, as in the official evaluator; answers 2 ids the gold file lacks (first: 'q8'):"
        " ignored, as in the official evaluator"
    ]


def test_strict_makes_an_unanswered_id_a_one_line_error(unanswered, tmp_path):
    folders = ["--predictions", str(unanswered / "predictions"), "--labels", str(unanswered / "labels")]
    code, stdout, stderr = xlt_score(tmp_path, *folders, "--strict")
    assert code == 2
    assert stdout == ""  # no partial result
    [line] = stderr.splitlines()
    assert line.startswith("error: ") and "xquad/test-en.json leaves 1 of the 3 ids" in line
    assert "--strict refuses it" in line


def test_ids_the_gold_lacks_are_ignored_with_a_warning(tmp_path):
    write_squad(tmp_path, "mlqa", "de", {"q1": "Bonn"}, {"q1": "Bonn", "q9": "Rom"})
    result = score_folders(tmp_path / "predictions", tmp_path / "labels")
    assert result["mlqa"]["de"] == {"exact_match": 100.0, "f1": 100.0}
    [warning] = result.warnings
    assert "answers 1 ids the gold file lacks (first: 'q9'): ignored" in warning
    with pytest.raises(XltError, match="--strict refuses it"):
        score_folders(tmp_path / "predictions", tmp_path / "labels", strict=True)


def test_a_mention_without_a_ranking_scores_zero(tmp_path):
    for side, value in (("labels", {"m1": ["Q1"], "m2": ["Q2"]}), ("predictions", {"m1": ["Q9", "Q1"]})):
        (tmp_path / side / "mewslix").mkdir(parents=True)
        (tmp_path / side / "mewslix/test-de.json").write_text(json.dumps(value))
    result = score_folders(tmp_path / "predictions", tmp_path / "labels")
    assert result["mewslix"]["de"] == {"map@20": 100 * (1 / 2 + 0) / 2}
    assert "leaves 1 of the 2 ids" in result.warnings[0]


# ---- the per-scorer rule, what each scorer does, and its table -------------------------------------------

# Per scorer: (predictions, golds, lang) with the last gold example unanswered in the scorer's own shape:
# None for an id-keyed file's missing id, a line left out for a line-aligned file.
SHORT_BY_ONE = {
    "accuracy": (["a"], ["a", "b"], "en"),
    "tagging": ([["B-PER"]], [["B-PER"], ["O"]], "en"),
    "squad": (["Paris", None], [["Paris"], ["Rome"]], "en"),
    "mlqa": (["Paris", None], [["Paris"], ["Rome"]], "de"),
    "bucc": (["d1\te1"], ["d1\te1", "d2\te2"], "de"),
    "mewslix": ([["Q1"], None], [["Q1"], ["Q2"]], "de"),
    "lareqa": ([["a"]], [["a"], ["b"]], "en"),
}


@pytest.mark.parametrize("scorer", sorted(SCORERS))
def test_each_scorer_does_what_its_unanswered_rule_says(scorer):
    predictions, golds, lang = SHORT_BY_ONE[scorer]
    rule = UNANSWERED[scorer].rule
    if rule == "refuse":
        with pytest.raises(XltError, match="predictions but 2 gold"):
            SCORERS[scorer](predictions, golds, lang)
        return
    primary = next(iter(SCORERS[scorer](predictions, golds, lang).values()))
    if rule == "zero":  # the answered example is right: 1 of 2 counts
        assert primary == 50.0
    else:  # "set": one of the two gold pairs found, the one predicted right: F1 of P = 1, R = 1/2
        assert rule == "set" and primary == pytest.approx(100 * 2 / 3)


def test_every_id_keyed_task_scores_an_unanswered_id_zero():
    id_keyed = [spec for _, spec in TASKS.items() if spec.submission == "json"]
    assert {spec.name for spec in id_keyed} >= {"xquad", "mlqa", "tydiqa", "mewslix"}
    assert all(UNANSWERED[spec.scorer].rule == "zero" for spec in id_keyed)


def test_docs_table_is_the_codes_rules():
    table = unanswered_table()
    assert table in DOCS.read_text(), "regenerate docs/scoring.md's table: print(xlt.scoring.unanswered_table())"
    assert len(table.splitlines()) == 2 + len(UNANSWERED)


def test_a_line_aligned_file_of_another_length_is_still_refused(tmp_path):
    for side, labels in (("labels", ["0", "1"]), ("predictions", ["0"])):
        write_predictions(tmp_path / side / "xnli/test-en.tsv", "lines", labels)
    with pytest.raises(XltError, match=r"xnli/test-en\.tsv: 1 predictions but 2 gold labels"):
        score_folders(tmp_path / "predictions", tmp_path / "labels")


# ---- --benchmark with missing files -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def mock(shared_dir):
    return shared_dir / "data/xtreme-mock"


@pytest.fixture(scope="module")
def complete(mock):
    return score_folders(mock / "predictions", mock / "labels", benchmark="xtreme")


def test_a_removed_language_file_leaves_the_rest_scored_and_is_listed(mock, complete, tmp_path):
    submission = tmp_path / "mock"
    shutil.copytree(mock, submission)
    (submission / "predictions/panx/test-de.tsv").unlink()
    folders = ["--predictions", str(submission / "predictions"), "--labels", str(submission / "labels")]
    code, stdout, stderr = xlt_score(tmp_path, *folders, "--benchmark", "xtreme", "--json")
    assert code == 0, stderr
    scores = json.loads(stdout)
    assert scores["summary"]["missing"] == {"panx": ["de"]}
    assert scores["panx"] == {lang: complete["panx"][lang] for lang in complete["panx"] if lang not in ("de", "avg")}
    assert scores["xnli"] == complete["xnli"]  # other tasks as before, averages included
    assert set(scores["summary"]["tasks"]) == set(complete) - {"panx"}
    assert "tagging" not in scores["summary"]["groups"] and "all_task" not in scores["summary"]
    assert scores["summary"]["groups"]["qa"] == complete.summary["groups"]["qa"]
    code, stdout, _ = xlt_score(tmp_path, *folders, "--benchmark", "xtreme")
    assert code == 0
    assert re.search(r"^panx \(39 of 40 languages; no average without the rest\)$", stdout, re.M)
    assert "note: missing files (a task missing any gets no average): panx: de (1 of 40)\n" in stdout


def test_the_mock_is_scored_as_an_xtreme_r_submission_for_what_it_has(mock):
    result = score_folders(mock / "predictions", mock / "labels", benchmark="xtreme-r")
    assert result.missing == {
        "lareqa": list(TASKS.get("lareqa").languages["xtreme-r"]),
        "panx": ["az", "gu", "lt", "pa", "pl", "qu", "ro", "uk"],
        "tatoeba": ["az", "lt", "pl", "ro", "uk"],
        "udpos": ["lt", "pl", "ro", "uk", "wo"],
        "xcopa": list(TASKS.get("xcopa").languages["xtreme-r"]),
        "xquad": ["ro"],
    }
    assert abs(result["mewslix"]["avg"]["map@20"] - 14.39025156130419) <= 1e-9
    assert set(result.summary["tasks"]) == {"mewslix", "mlqa", "tydiqa", "xnli"}
    assert len(result["panx"]) == 40 and "avg" not in result["panx"]
    text = format_scores(result)
    assert "panx: az gu lt pa pl qu ro uk (8 of 48)" in text and "; no file of lareqa, xcopa\n" in text
    assert "all_task" not in text.split("note:")[0]
