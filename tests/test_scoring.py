"""`score_folders` against the official evaluator's golden mock scores; submission file round trips."""

import json
import re
import shutil

import pytest
from typer.testing import CliRunner

from xlt.cli import app
from xlt.errors import XltError
from xlt.scoring import Scores, benchmark_tasks, format_scores, score_folders, scores_json, summarize
from xlt.submission import read_labels, read_predictions, write_predictions
from xlt.tasks import get_task

# /work/shared/data/README.md: the official evaluator on xtreme-mock, averaged over each task's list.
GOLDEN = {
    "pawsx": {"accuracy": 51.42857142857143},
    "xnli": {"accuracy": 30.666666666666668},
    "panx": {"f1": 57.50793650793652, "precision": 54.729166666666664, "recall": 62.750000000000014},
    "udpos": {
        "f1": 70.21746048354693,
        "precision": 71.02232625883823,
        "recall": 69.54982073976082,
        "f1_seqeval_1_2": 70.39805810699043,
        "precision_seqeval_1_2": 71.21832908642001,
        "recall_seqeval_1_2": 69.71397801088123,
    },
    "bucc2018": {"f1": 55.0, "precision": 55.0, "recall": 55.0},
    "tatoeba": {"accuracy": 53.611111111111114},
    "xquad": {"exact_match": 77.27272727272727, "f1": 79.9586776859504},
    "mlqa": {"exact_match": 57.142857142857146, "f1": 81.76870748299321},
    "tydiqa": {"exact_match": 88.88888888888889, "f1": 97.22222222222223},
}


@pytest.fixture(scope="module")
def mock(shared_dir):
    return shared_dir / "data/xtreme-mock"


@pytest.fixture(scope="module")
def xtreme_scores(mock):
    return score_folders(mock / "predictions", mock / "labels", benchmark="xtreme")


@pytest.mark.parametrize("task", sorted(GOLDEN))
def test_every_golden_xtreme_average_is_reproduced(xtreme_scores, task):
    for metric, expected in GOLDEN[task].items():
        assert abs(xtreme_scores[task]["avg"][metric] - expected) <= 1e-9, metric


def test_tasks_outside_the_benchmark_are_skipped_with_a_note(xtreme_scores):
    assert set(xtreme_scores) == set(GOLDEN)
    assert xtreme_scores.notes == ["mewslix: not part of xtreme; skipped"]


def test_mewslix_golden_average_over_the_xtreme_r_list(mock):
    result = score_folders(mock / "predictions", mock / "labels", tasks=["mewslix"], benchmark="xtreme-r")
    assert abs(result["mewslix"]["avg"]["map@20"] - 14.39025156130419) <= 1e-9
    assert len(result["mewslix"]) == 12  # 11 languages and the average


def _copy_task(mock, tmp_path, task, languages):
    for side in ("predictions", "labels"):
        (tmp_path / side / task).mkdir(parents=True)
        for lang in languages:
            name = f"test-{lang}.tsv"
            shutil.copy(mock / side / task / name, tmp_path / side / task / name)
    return tmp_path / "predictions", tmp_path / "labels"


def test_without_a_benchmark_the_average_is_over_the_languages_found(mock, tmp_path):
    predictions, labels = _copy_task(mock, tmp_path, "xnli", ["ar", "ru"])
    result = score_folders(predictions, labels)
    assert result["xnli"]["avg"] == {"accuracy": pytest.approx((20.0 + 70.0) / 2)}
    assert set(result["xnli"]) == {"ar", "ru", "avg"}


def test_mismatched_files_name_both_files(mock, tmp_path):
    predictions, labels = _copy_task(mock, tmp_path, "xnli", ["ar"])
    path = predictions / "xnli/test-ar.tsv"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))
    with pytest.raises(XltError, match=r"test-ar\.tsv against .*test-ar\.tsv: 9 predictions but 10 gold labels"):
        score_folders(predictions, labels)


def test_bad_requests_are_errors(mock):
    with pytest.raises(XltError, match="unknown benchmark"):
        score_folders(mock / "predictions", mock / "labels", benchmark="glue")
    with pytest.raises(XltError, match="unknown task 'xnl'; did you mean 'xnli'"):
        score_folders(mock / "predictions", mock / "labels", tasks=["xnl"])
    with pytest.raises(XltError, match="xcopa does not exist"):
        score_folders(mock / "predictions", mock / "labels", tasks=["xcopa"])


def test_format_scores_lists_languages_average_and_notes(xtreme_scores):
    text = format_scores(xtreme_scores)
    assert "xnli (mean over 15 languages)" in text
    assert re.search(r"^  avg +30\.67$", text, re.MULTILINE)
    assert text.endswith("note: mewslix: not part of xtreme; skipped")


def test_xcopa_gold_is_read_from_release_json_lines(shared_dir, tmp_path):
    labels = tmp_path / "labels/xcopa"
    labels.mkdir(parents=True)
    shutil.copy(shared_dir / "data/xcopa/et/test.et.jsonl", labels / "test-et.jsonl")
    golds = read_labels(labels / "test-et.jsonl", "multiple_choice")
    assert len(golds) == 500 and set(golds) == {0, 1}
    predictions = [1 - g for g in golds[:100]] + golds[100:]
    write_predictions(tmp_path / "predictions/xcopa/test-et.jsonl", "multiple_choice", predictions)
    result = score_folders(tmp_path / "predictions", tmp_path / "labels")
    assert result["xcopa"]["et"] == {"accuracy": 80.0}


@pytest.mark.parametrize(
    ("kind", "name", "values", "ids"),
    [
        ("pair_classification", "x.tsv", ["entailment", "neutral"], None),
        ("retrieval", "x.tsv", [("de-1", "en-2"), ("de-3", "en-4")], None),
        ("tagging", "x.tsv", [["B-PER", "O"], [], ["NOUN"]], None),
        ("qa", "x.json", ["Paris", ""], ["q1", "q2"]),
        ("retrieval", "x.json", [["Q1", "Q2"], []], ["m1", "m2"]),
        ("multiple_choice", "x.jsonl", [0, 1], ["a", "b"]),
    ],
)
def test_submissions_round_trip(tmp_path, kind, name, values, ids):
    path = tmp_path / "task" / name
    write_predictions(path, kind, values, ids)
    read = read_predictions(path, kind)
    if isinstance(read, dict):
        read = [read[i] for i in ids]
    expected = ["\t".join(v) for v in values] if isinstance(values[0], tuple) else values
    assert read == expected
    assert [p.name for p in path.parent.iterdir()] == [name]  # no temporary file left behind


def test_json_submissions_need_distinct_ids(tmp_path):
    with pytest.raises(XltError, match="need as many example ids"):
        write_predictions(tmp_path / "x.json", "qa", ["a"])
    with pytest.raises(XltError, match="ids repeat"):
        write_predictions(tmp_path / "x.json", "qa", ["a", "b"], ["q", "q"])


def test_squad_gold_reads_as_answer_lists(mock):
    golds = read_labels(mock / "labels/mlqa/test-ar.json", "qa")
    assert len(golds) == 2 and all(isinstance(answers, list) and answers for answers in golds.values())


def test_unreadable_files_are_one_line_errors(tmp_path):
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(XltError, match="is not valid JSON"):
        read_predictions(tmp_path / "bad.json", "qa")
    (tmp_path / "latin.tsv").write_bytes(b"caf\xe9\n")
    with pytest.raises(XltError, match="is not UTF-8"):
        read_predictions(tmp_path / "latin.tsv", "lines")


def test_lareqa_lines_hold_tab_separated_rankings_and_average_like_the_pooled_map(tmp_path):
    rankings = {"en": [["a", "b"], ["c", "x"], ["x"]], "de": [["x", "y"]]}
    relevant = {"en": [["b"], ["c", "d"], ["x"]], "de": [["y", "x"]]}
    for lang in rankings:
        write_predictions(tmp_path / f"predictions/lareqa/test-{lang}.tsv", "retrieval", rankings[lang])
        write_predictions(tmp_path / f"labels/lareqa/test-{lang}.tsv", "retrieval", relevant[lang])
    result = score_folders(tmp_path / "predictions", tmp_path / "labels")
    pooled = (1 / 2 + 1 / 2 + 1 + 1) / 4  # AP@20 of each question, pooled over both languages
    assert result["lareqa"]["de"]["map@20"] == 100.0 and result["lareqa"]["en"]["map@20"] == pytest.approx(200 / 3)
    assert result["lareqa"]["avg"]["map@20"] == pytest.approx(100 * pooled)  # not the mean of the two (83.3)


# ---- summary: task, group and overall scores -------------------------------------------------------


def _write_squad(root, task, lang, answers):
    """answers: {question id: (gold answer, predicted answer)}, as SQuAD v1.1 gold and a prediction file."""
    qas = [{"id": id_, "answers": [{"text": gold, "answer_start": 0}]} for id_, (gold, _) in answers.items()]
    labels = {"data": [{"title": "t", "paragraphs": [{"context": "c", "qas": qas}]}], "version": "1.1"}
    (root / f"labels/{task}").mkdir(parents=True, exist_ok=True)
    (root / f"labels/{task}/test-{lang}.json").write_text(json.dumps(labels))
    predicted = [prediction for _, prediction in answers.values()]
    write_predictions(root / f"predictions/{task}/test-{lang}.json", "qa", predicted, list(answers))


def _write_benchmark_task(root, task, golds, predictions, benchmark="xtreme"):
    for lang in get_task(task).languages[benchmark]:
        write_predictions(root / f"labels/{task}/test-{lang}.tsv", "lines", golds)
        write_predictions(root / f"predictions/{task}/test-{lang}.tsv", "lines", predictions)


def test_a_qa_task_score_is_the_mean_of_exact_match_and_f1(tmp_path):
    _write_squad(tmp_path, "xquad", "en", {"q1": ("Paris", "Paris"), "q2": ("the red house", "red car")})
    result = score_folders(tmp_path / "predictions", tmp_path / "labels")
    assert result["xquad"]["avg"] == {"exact_match": 50.0, "f1": 75.0}
    assert result.summary == {"tasks": {"xquad": 62.5}, "groups": {}}


def test_other_task_scores_are_the_primary_metric():
    result = {"udpos": {"avg": {"f1": 70.0, "precision": 1.0, "recall": 2.0, "accuracy": 90.0}}}
    assert summarize(result)["tasks"] == {"udpos": 70.0}


# One score per XTREME-R task (every metric of a task holds it, so a QA task's score is that value too).
XTREME_R_SCORES = {
    "xnli": 80.0,
    "xcopa": 60.0,
    "udpos": 70.0,
    "panx": 50.0,
    "xquad": 70.0,
    "mlqa": 60.0,
    "tydiqa": 50.0,
    "tatoeba": 90.0,
    "mewslix": 40.0,
    "lareqa": 30.0,
}


def _averages(scores):
    return {task: {"avg": dict.fromkeys(get_task(task).metrics, score)} for task, score in scores.items()}


def test_xtreme_r_groups_follow_the_official_table():
    summary = summarize(_averages(XTREME_R_SCORES), "xtreme-r")
    assert summary["groups"] == {
        "classification": 70.0,
        "tagging": 60.0,
        "qa": 60.0,
        "retrieval": 65.0,
        "multi_choice": 60.0,
    }
    assert summary["all_task"] == pytest.approx(60.0)  # all 10 tasks, LAReQA included


def test_a_group_needs_all_its_tasks_and_all_task_needs_every_benchmark_task():
    without_xcopa = {task: score for task, score in XTREME_R_SCORES.items() if task != "xcopa"}
    summary = summarize(_averages(without_xcopa), "xtreme-r")
    assert set(summary["groups"]) == {"tagging", "qa", "retrieval"}
    assert "all_task" not in summary
    without_lareqa = {task: score for task, score in XTREME_R_SCORES.items() if task != "lareqa"}
    summary = summarize(_averages(without_lareqa), "xtreme-r")
    assert len(summary["groups"]) == 5 and "all_task" not in summary
    assert summarize(_averages(XTREME_R_SCORES)) == {"tasks": XTREME_R_SCORES, "groups": {}}


@pytest.fixture()
def classification_only(tmp_path):
    _write_benchmark_task(tmp_path, "xnli", ["entailment", "neutral"], ["entailment", "entailment"])
    _write_benchmark_task(tmp_path, "pawsx", ["1", "0"], ["1", "0"])
    return tmp_path


def test_text_summary_names_the_groups_left_out(classification_only):
    result = score_folders(classification_only / "predictions", classification_only / "labels", benchmark="xtreme")
    text = format_scores(result)
    assert re.search(r"^task scores .*\n  pawsx +100\.00\n  xnli +50\.00$", text, re.MULTILINE)
    assert re.search(r"^xtreme group scores\n  classification +75\.00$", text, re.MULTILINE)
    assert "all_task" not in text.split("note:")[0]
    assert text.endswith(
        "note: left out because a task has no score: tagging (no udpos, panx); qa (no xquad, mlqa, tydiqa); "
        "retrieval (no bucc2018, tatoeba); all_task (no bucc2018, mlqa, panx, tatoeba, tydiqa, udpos, xquad)"
    )


def test_json_keeps_the_task_scores_and_adds_the_summary(classification_only):
    folders = ["--predictions", classification_only / "predictions", "--labels", classification_only / "labels"]
    output = CliRunner().invoke(app, ["score", *map(str, folders), "--benchmark", "xtreme", "--json"])
    assert output.exit_code == 0, output.output
    scores = json.loads(output.output)
    assert set(scores) == {"pawsx", "xnli", "summary"}
    assert scores["xnli"]["ar"] == {"accuracy": 50.0} and scores["xnli"]["avg"] == {"accuracy": 50.0}
    missing = scores["summary"].pop("missing")
    assert scores["summary"] == {"tasks": {"pawsx": 100.0, "xnli": 50.0}, "groups": {"classification": 75.0}}
    assert missing["bucc2018"] == ["de", "fr", "ru", "zh"]
    assert set(missing) == {"udpos", "panx", "xquad", "mlqa", "tydiqa", "bucc2018", "tatoeba"}


def test_mock_summary_matches_the_golden_averages(xtreme_scores):
    summary = xtreme_scores.summary
    qa = {
        task: (golden["exact_match"] + golden["f1"]) / 2 for task, golden in GOLDEN.items() if "exact_match" in golden
    }
    expected = {task: golden[get_task(task).primary_metric] for task, golden in GOLDEN.items()} | qa
    assert summary["tasks"] == pytest.approx(expected, abs=1e-9)
    assert summary["tasks"]["xquad"] == pytest.approx((77.27272727272727 + 79.9586776859504) / 2, abs=1e-9)
    assert summary["groups"]["qa"] == pytest.approx((expected["xquad"] + expected["mlqa"] + expected["tydiqa"]) / 3)
    assert summary["all_task"] == pytest.approx(sum(expected.values()) / 9)
    assert re.search(r"^  all_task +62\.17$", format_scores(xtreme_scores), re.MULTILINE)


# ---- without ../shared: folders, languages, missing files and the text table on files written here --------


def _write_lines(root, task, languages, golds, predictions):
    for lang in languages:
        write_predictions(root / f"labels/{task}/test-{lang}.tsv", "lines", golds)
        write_predictions(root / f"predictions/{task}/test-{lang}.tsv", "lines", predictions)


def test_without_a_benchmark_a_task_averages_the_languages_it_predicts(tmp_path):
    _write_lines(tmp_path, "xnli", ["ar", "ru"], ["entailment", "neutral"], ["entailment", "entailment"])
    result = score_folders(tmp_path / "predictions", tmp_path / "labels")
    assert result == {"xnli": {"ar": {"accuracy": 50.0}, "ru": {"accuracy": 50.0}, "avg": {"accuracy": 50.0}}}
    assert (result.notes, result.warnings, result.missing) == ([], [], {})


def test_without_a_benchmark_a_gold_language_without_predictions_is_refused(tmp_path):
    _write_lines(tmp_path, "xnli", ["ar"], ["neutral"], ["neutral"])
    write_predictions(tmp_path / "labels/xnli/test-de.tsv", "lines", ["neutral"])
    write_predictions(tmp_path / "labels/xnli/test-sw.tsv", "lines", ["neutral"])
    predictions, labels = tmp_path / "predictions", tmp_path / "labels"
    with pytest.raises(XltError) as error:
        score_folders(predictions, labels)
    assert str(error.value) == (
        f"{predictions / 'xnli'} lacks the languages de, sw that {labels / 'xnli'} has; predict them, or name a"
        " --benchmark to score its list"
    )


def test_a_task_folder_without_prediction_files_is_refused(tmp_path):
    _write_lines(tmp_path, "xnli", ["ar"], ["neutral"], ["neutral"])
    (tmp_path / "predictions/xnli/test-ar.tsv").unlink()
    with pytest.raises(XltError) as error:
        score_folders(tmp_path / "predictions", tmp_path / "labels")
    assert (
        str(error.value) == f"{tmp_path / 'predictions/xnli'} holds no test-{{lang}}.tsv file; write one per language"
    )


def test_folders_that_are_not_tasks_on_both_sides_are_skipped_with_a_note_each(tmp_path):
    _write_lines(tmp_path, "xnli", ["ar"], ["neutral"], ["neutral"])
    _write_lines(tmp_path, "pawsx", ["de"], ["1"], ["1"])
    (tmp_path / "labels/pawsx/test-de.tsv").unlink()
    (tmp_path / "labels/pawsx").rmdir()  # pawsx: predictions only
    for folder in ("labels/udpos", "labels/notes", "predictions/notes", "predictions/tmp"):
        (tmp_path / folder).mkdir()
    result = score_folders(tmp_path / "predictions", tmp_path / "labels")
    assert list(result) == ["xnli"]
    assert result.notes == [
        "pawsx: only in predictions; skipped",
        "tmp: only in predictions; skipped",
        "udpos: only in labels; skipped",
        "notes: not a known task; skipped",
    ]


def test_named_tasks_are_the_only_ones_scored_and_each_must_exist_on_both_sides(tmp_path):
    _write_lines(tmp_path, "xnli", ["ar"], ["neutral"], ["neutral"])
    _write_lines(tmp_path, "pawsx", ["de"], ["1"], ["0"])
    predictions, labels = tmp_path / "predictions", tmp_path / "labels"
    result = score_folders(predictions, labels, tasks=["pawsx"])
    assert result == {"pawsx": {"de": {"accuracy": 0.0}, "avg": {"accuracy": 0.0}}} and result.notes == []
    (labels / "udpos").mkdir()  # in labels only
    (predictions / "tatoeba").mkdir()  # in predictions only
    for task, folder in (("udpos", predictions), ("tatoeba", labels)):
        with pytest.raises(XltError) as error:
            score_folders(predictions, labels, tasks=["xnli", task])
        assert str(error.value) == f"{folder / task} does not exist; add its files or leave {task} out of --tasks"
    with pytest.raises(XltError, match="^unknown task 'xnl'; did you mean 'xnli'"):
        score_folders(predictions, labels, tasks=["xnl"])


def test_bad_folders_and_benchmarks_are_one_line_errors(tmp_path):
    with pytest.raises(XltError) as error:
        score_folders(tmp_path / "absent", tmp_path)
    assert str(error.value) == (
        f"{tmp_path / 'absent'} is not a folder; expected one holding {{task}}/test-{{lang}}.{{ext}} files"
    )
    with pytest.raises(XltError) as error:
        score_folders(tmp_path, tmp_path, benchmark="glue")
    assert str(error.value) == "unknown benchmark 'glue'; use one of xtreme, xtreme-r"


def test_a_named_task_outside_the_benchmark_is_skipped_with_a_note(tmp_path):
    _write_lines(tmp_path, "lareqa", ["en"], ["a"], ["a"])
    result = score_folders(tmp_path / "predictions", tmp_path / "labels", tasks=["lareqa"], benchmark="xtreme")
    assert result == {} and result.missing == {}
    assert result.notes == ["lareqa: not part of xtreme; skipped"]


@pytest.fixture()
def xnli_without_de(tmp_path):
    """Every xtreme language of XNLI but de, one example each (right in ar only), and no other task."""
    languages = get_task("xnli").languages["xtreme"]
    _write_lines(tmp_path, "xnli", languages, ["neutral"], ["entailment"])
    write_predictions(tmp_path / "predictions/xnli/test-ar.tsv", "lines", ["neutral"])
    for side in ("labels", "predictions"):
        (tmp_path / side / "xnli/test-de.tsv").unlink()
    return score_folders(tmp_path / "predictions", tmp_path / "labels", benchmark="xtreme")


def test_a_missing_language_is_listed_and_the_others_scored_without_an_average(xnli_without_de):
    result = xnli_without_de
    assert list(result["xnli"]) == [lang for lang in get_task("xnli").languages["xtreme"] if lang != "de"]
    assert result["xnli"]["ar"] == {"accuracy": 100.0} and result["xnli"]["bg"] == {"accuracy": 0.0}
    assert result.missing["xnli"] == ["de"] and result.missing["pawsx"] == list(get_task("pawsx").languages["xtreme"])
    assert set(result.missing) == set(benchmark_tasks("xtreme"))
    assert scores_json(result)["summary"] == {"tasks": {}, "groups": {}, "missing": result.missing}


def test_the_text_of_a_partial_task_names_what_is_missing_and_has_no_task_scores(xnli_without_de):
    text = format_scores(xnli_without_de)
    table, summary = text.split("\n\n")
    assert table.splitlines()[:3] == [
        "xnli (14 of 15 languages; no average without the rest)",
        "  lang  accuracy",
        "  ar      100.00",
    ]
    others = "bucc2018, mlqa, panx, pawsx, tatoeba, tydiqa, udpos, xquad"
    assert summary.splitlines()[0] == (
        f"note: missing files (a task missing any gets no average): xnli: de (1 of 15); no file of {others}"
    )  # no task score, so no block of task or group scores before it
    assert "scores" not in summary


def test_the_missing_files_note_lists_a_named_tasks_missing_languages_alone(tmp_path):
    _write_lines(tmp_path, "xnli", get_task("xnli").languages["xtreme"], ["neutral"], ["neutral"])
    for side, lang in (("labels", "de"), ("predictions", "fr")):
        (tmp_path / side / f"xnli/test-{lang}.tsv").unlink()
    result = score_folders(tmp_path / "predictions", tmp_path / "labels", tasks=["xnli"], benchmark="xtreme")
    assert result.missing == {"xnli": ["de", "fr"]}
    assert format_scores(result).splitlines()[-2] == (
        "note: missing files (a task missing any gets no average): xnli: de fr (2 of 15)"
    )


def test_the_text_table_has_a_right_aligned_column_per_metric_then_the_summary_and_notes(tmp_path):
    _write_squad(tmp_path, "xquad", "en", {"q1": ("Paris", "Paris"), "q2": ("the red house", "red car")})
    _write_squad(tmp_path, "xquad", "de", {"q1": ("Bonn", "Bonn")})
    (tmp_path / "labels/extra").mkdir()
    (tmp_path / "labels/other").mkdir()
    result = score_folders(tmp_path / "predictions", tmp_path / "labels")
    assert format_scores(result) == "\n".join(
        [
            "xquad (mean over 2 languages)",
            "  lang       f1  exact_match",
            "  de     100.00       100.00",
            "  en      75.00        50.00",
            "  avg     87.50        75.00",
            "",
            "task scores (QA tasks: (exact_match + f1) / 2)",
            "  xquad             81.25",
            "",
            "note: extra: only in labels; skipped",
            "note: other: only in labels; skipped",
        ]
    )


def test_a_plain_dict_of_scores_formats_without_a_summary_by_benchmark():
    scores = {"udpos": {"en": {"f1": 70.0}, "avg": {"f1": 70.0}}}
    assert format_scores(scores) == "\n".join(
        [
            "udpos (mean over 1 languages)",
            "  lang       f1",
            "  en      70.00",
            "  avg     70.00",
            "",
            "task scores (QA tasks: (exact_match + f1) / 2)",
            "  udpos             70.00",
        ]
    )


def test_a_complete_benchmark_shows_its_groups_and_all_task():
    result = Scores("xtreme-r")
    for task, scores in _averages(XTREME_R_SCORES).items():
        result[task] = {"xx": scores["avg"], **scores}
    summary = format_scores(result).split("\n\n")[-1].splitlines()
    assert summary[-7:] == [
        "xtreme-r group scores",
        "  classification    70.00",
        "  tagging           60.00",
        "  qa                60.00",
        "  retrieval         65.00",
        "  multi_choice      60.00",
        "  all_task          60.00",
    ]
    assert "missing" not in scores_json(result)["summary"]


def test_nothing_to_score_says_so():
    assert format_scores(Scores()) == "no task scored"
