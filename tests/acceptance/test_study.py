"""A study on real languages from the release files, run to its report by the installed `xlt`; `xlt status` on it."""

from __future__ import annotations

import csv
import json
import re

import pytest

from acceptance.conftest import UDPOS_LANGUAGES, UDPOS_STEPS, VERSION

pytestmark = pytest.mark.slow

STAMPED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")  # the date and time a log line starts with
SCORED = {("xcopa", "et")} | {("udpos", lang) for lang in UDPOS_LANGUAGES}


def test_the_study_ends_with_status_0_and_its_log_says_what_it_did(finished_study):
    ended = finished_study.ended
    assert ended.code == 0, ended.log[-3000:]
    lines = [STAMPED.sub("", line) for line in ended.log.splitlines()]  # off a terminal, lines are timestamped
    for line in (
        "training target udpos [en] finetune / none seed 0",
        "evaluating finetune / none on udpos, 3 languages",
        "evaluating finetune / none on xcopa, 1 language",
    ):
        assert any(entry.startswith(line) for entry in lines), line
    assert lines[-1] == "done: 2 evaluations; report at study/report.html"
    assert "Traceback" not in ended.log and "error:" not in ended.log


def test_results_score_each_language_of_both_tasks_with_their_predictions(finished_study):
    with open(finished_study.out / "results.csv", newline="") as handle:
        primary = [row for row in csv.DictReader(handle) if row["primary"] == "1"]
    assert {(row["target_task"], row["eval_language"]) for row in primary} == SCORED
    assert all(0 <= float(row["value"]) <= 100 for row in primary)
    predictions = finished_study.out / "predictions" / "finetune.none.seed0"
    assert sorted(str(p.relative_to(predictions)) for p in predictions.rglob("test-*")) == [
        *(f"udpos/test-{lang}.tsv" for lang in UDPOS_LANGUAGES),
        "xcopa/test-et.jsonl",
    ]


def test_languages_json_names_the_real_languages_with_their_families_and_scripts(finished_study):
    languages = json.loads((finished_study.out / "languages.json").read_text())
    described = {lang: (info["name"], info["family"], info["script"]) for lang, info in languages.items()}
    assert described == {
        "el": ("Greek", "Indo-European", "Greek"),
        "he": ("Hebrew", "Afro-Asiatic", "Hebrew"),
        "te": ("Telugu", "Dravidian", "Telugu"),
        "et": ("Estonian", "Uralic", "Latin"),
    }


def test_the_report_has_a_section_per_task_with_its_languages(finished_study):
    report = (finished_study.out / "report.md").read_text()
    assert re.findall(r"^## (.+, trained on .+)$", report, re.M) == [
        "xcopa, trained on en (test, accuracy)",
        "udpos, trained on en (test, f1)",
    ]
    assert "| name | Estonian |" in report and "| name | Greek | Hebrew | Telugu |" in report
    assert (finished_study.out / "report.html").is_file()


def test_provenance_records_the_installed_version_and_each_training_stage(finished_study):
    provenance = json.loads((finished_study.out / "provenance.json").read_text())
    assert provenance["versions"]["xlt"] == VERSION
    steps = {stage["stage"]: stage["steps"] for stage in provenance["stages"].values()}
    assert steps == {
        "target siqa [en] finetune / none seed 0": 0,
        "target copa [en] finetune / none seed 0": 0,
        "target udpos [en] finetune / none seed 0": UDPOS_STEPS,
    }


def stage_states(log: str) -> dict[str, str]:
    """Each stage's state in `xlt status`'s table, by stage hash."""
    return dict(re.findall(r"│ ([0-9a-f]{16}) +│ ([a-z ]+?) +│", log))


def test_status_of_the_finished_study_lists_every_stage_done(finished_study, installed, tmp_path):
    ended = installed.run("status", str(finished_study.out), cwd=tmp_path, log=tmp_path / "log")
    assert ended.code == 0, ended.log
    stages = {p.name for p in (finished_study.out / "stages").iterdir()}
    assert stage_states(ended.log) == dict.fromkeys(stages, "done")
    assert re.search(r"^5/5 stages done, elapsed \d", ended.log, re.M)
    assert f"results are up to date: {finished_study.out / 'results.csv'}" in ended.log  # at full width off a terminal
