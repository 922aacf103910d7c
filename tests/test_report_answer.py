"""The report's first screen (the question, its answer, one table of every contrast), degenerate recipes marked, and
the examples where recipes disagree: sentences from known numbers, and reports of small fake studies."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import shutil
import subprocess
import sys

import pytest

import xlt
from test_report import RUNS, N, write_study
from xlt.pipeline.stage.evaluate import example_lines
from xlt.report import build_report, document
from xlt.report.comparisons import Comparison, ContrastTable, Row, comparisons, seen_languages
from xlt.report.contrasts import SEEDS_AND_TEST_EXAMPLES, TEST_EXAMPLES, Contrast
from xlt.report.examples import Degenerate
from xlt.report.study import Cell, Recipe, Section
from xlt.report.summary import answer, contrast_summary, question_tables

LANGS = ["en", "de", "sw"]


def _row(language, group, difference, low, high, p_adjusted, seeds=3, covers=SEEDS_AND_TEST_EXAMPLES):
    contrast = Contrast(difference, low, high, p_adjusted, (seeds, seeds), True, 100, 4.0, covers)
    return Row(language, group, difference, contrast, p_adjusted)


def _table(a, b, family, languages, averages, task="xnli"):
    section = Section(task, ("en",), "test", "accuracy", LANGS, [], {})
    return ContrastTable(Comparison(a, b, family), section, languages, averages, ["en", "de"], ["sw"], "holm")


def _known(method, shift=0.0, family="conditions", b="mono", seeds=3, covers=SEEDS_AND_TEST_EXAMPLES):
    """A table of known numbers: better in de (significant), worse in sw (significant), seen +4.2, unseen +1.8."""
    languages = [
        _row("en", "seen", 1.0 + shift, -2.0, 4.0, 0.6, seeds, covers),
        _row("de", "seen", 7.4 + shift, 3.0, 11.8, 0.01, seeds, covers),
        _row("sw", "unseen", -3.0 + shift, -5.0, -1.0, 0.02, seeds, covers),
    ]
    averages = [
        _row("average", "all", 3.5 + shift, 1.8, 5.2, 0.004, seeds, covers),
        _row("average", "seen", 4.2, 1.0, 7.4, 0.03, seeds, covers),
        _row("average", "unseen", 1.8, -2.0, 5.6, 0.3, seeds, covers),
        _row("seen - unseen", "all", 2.4, -4.3, 9.1, 0.4, seeds, covers),
    ]
    return _table(Recipe(method, "multi"), Recipe(method, b), family, languages, averages)


def _marked(found):
    """Degenerate recipes of the known tables' section: {(recipe label, language): seeds}."""
    return Degenerate({("xnli_en_accuracy", label, lang): seeds for (label, lang), seeds in found.items()})


def test_the_answer_is_generated_from_the_contrast_numbers():
    tables = [_known("finetune"), _known("deep_prompt", shift=-2.0)]
    question, sentences, coverage = answer(tables, Degenerate())
    assert question == (
        "Does multi intermediate training beat mono intermediate training for zero-shot transfer on xnli (trained "
        "on en), for each method?"
    )
    assert sentences == (
        "finetune: +3.5 points on average, 95% interval [+1.8, +5.2]; significantly better in 1 (de) and worse in "
        "1 (sw) of 3 languages; seen languages +4.2, unseen +1.8 (not significantly different: +2.4 [-4.3, +9.1]). "
        "deep_prompt: +1.5 points on average, 95% interval [+1.8, +5.2]; significantly better in 1 (de) and worse "
        "in 1 (sw) of 3 languages; seen languages +4.2, unseen +1.8 (not significantly different: +2.4 [-4.3, +9.1])."
    )
    assert coverage == (
        "Differences in points (a minus b) with 95% intervals over 3 paired seeds and test examples; significant = "
        "adjusted p < 0.05 by Holm's step-down method (family-wise error) over each contrast's languages."
    )


def test_one_seed_intervals_say_they_cover_test_examples_only():
    coverage = answer([_known("finetune", seeds=1, covers=TEST_EXAMPLES)], Degenerate())[-1]
    assert coverage.startswith(
        "Differences in points (a minus b) with 95% intervals over test examples only (one seed: training randomness "
        "is not covered)"
    )


def test_the_answer_cautions_when_a_recipe_of_the_question_is_degenerate():
    marked = _marked({("finetune + mono", lang): ["0"] for lang in LANGS} | {("deep_prompt + multi", "sw"): ["1"]})
    sentences = answer([_known("finetune"), _known("deep_prompt")], marked)[1]
    assert sentences.count("Caution") == 2
    assert (
        "Caution: finetune + mono is degenerate (one label, or the majority's predictions) in every language: no "
        "transfer is measured there."
    ) in sentences
    assert (
        "Caution: deep_prompt + multi is degenerate (one label, or the majority's predictions) in 1 of 3 " in sentences
    )
    both = marked.seeds | _marked({("finetune + multi", "de"): ["2"]}).seeds
    assert (
        "Caution: degenerate (one label, or the majority's predictions): finetune + multi in 1 of 3 languages, "
        "finetune + mono in every language; no transfer is measured there."
    ) in answer([_known("finetune")], Degenerate(both))[1]
    everywhere = {(recipe, lang): ["0"] for recipe in ("finetune + multi", "finetune + mono") for lang in LANGS}
    assert (
        "Caution: finetune + multi and finetune + mono are degenerate (one label, or the majority's"
        in (answer([_known("finetune")], _marked(everywhere))[1])
    )
    assert "Caution" not in answer([_known("finetune")], _marked({("deep_prompt + multi", "sw"): ["1"]}))[1]
    other_task = Degenerate({("pos_en_accuracy", "finetune + mono", lang): ["0"] for lang in LANGS})
    assert "Caution" not in answer([_known("finetune")], other_task)[1]  # the same recipe on another task


def _section_of(*recipes):
    return Section("xnli", ("en",), "test", "accuracy", LANGS, [Recipe(m, c) for m, c in recipes], {})


def test_configured_comparisons_are_those_whose_recipes_both_ran_in_the_section():
    section = _section_of(("ft", "none"), ("ft", "multi"), ("dp", "none"))
    configured = [{"a": "ft + multi", "b": "ft"}, {"a": "dp", "b": "gone"}, {"a": "gone", "b": "ft"}]
    assert comparisons(section, configured) == [Comparison(Recipe("ft", "multi"), Recipe("ft", "none"), "configured")]


def test_default_comparisons_need_both_recipes_to_have_run():
    section = _section_of(("ft", "none"), ("ft", "multi"), ("dp", "multi"))  # no dp without intermediate stage
    assert comparisons(section, None) == [
        Comparison(Recipe("ft", "multi"), Recipe("ft", "none"), "against none"),
        Comparison(Recipe("dp", "multi"), Recipe("ft", "multi"), "methods"),
    ]


def test_seen_languages_are_the_training_ones_and_those_any_ancestor_stage_drew_examples_in():
    target, other = Recipe("ft", "multi"), Recipe("ft", "none")
    cells = {target: {"0": {"de": Cell(1.0, "target", "u")}}, other: {"0": {"de": Cell(1.0, "unrecorded", "u")}}}
    section = Section("xnli", ("en",), "test", "accuracy", LANGS, [target, other], cells)
    stages = {
        "target": {"languages": ["ar"], "parent": "intermediate"},
        "intermediate": {"mixture": {"pos": {"de": 5, "fr": 0}, "ner": {"sw": 1}}, "languages": ["zz"]},
    }  # a mixture says what a stage drew (fr: nothing); its languages list is the configured one
    assert seen_languages(section, [target, other], stages) == {"en", "ar", "de", "sw"}
    assert seen_languages(section, [other], stages) == {"en"}


def test_a_table_without_seen_and_unseen_averages_has_no_group_rows():
    overall = _row("average", "all", 3.5, 1.8, 5.2, 0.004)
    table = _table(Recipe("finetune", "multi"), Recipe("finetune", "mono"), "conditions", [], [overall])
    assert table.overall == overall and table.group("all") == overall
    assert table.group("seen") is None and table.group_difference is None


def test_the_question_is_each_methods_first_pair_of_conditions_then_against_none():
    against_none = [_known(method, family="against none", b="none") for method in ("finetune", "deep_prompt")]
    conditions = [_known(method) for method in ("finetune", "deep_prompt")]
    other = _table(Recipe("finetune", "other"), Recipe("finetune", "mono"), "conditions", [], [])
    asked = question_tables([*against_none, *conditions, other])
    assert asked == conditions  # the conditions family first, the pattern of its first table (multi vs mono)
    assert question_tables(against_none) == against_none
    assert "beat no intermediate training" in answer(against_none, Degenerate())[0]
    summary = contrast_summary([*against_none, *conditions, other], Degenerate())
    assert [row[:2] for row in summary.rows] == [
        ["finetune + multi", "finetune + mono"],
        ["deep_prompt + multi", "deep_prompt + mono"],
        ["finetune + multi", "finetune"],
        ["deep_prompt + multi", "deep_prompt"],
        ["finetune + other", "finetune + mono"],
    ]
    assert summary.rows[0][2:] == ["xnli", "+3.50 *", "[+1.80, +5.20]", "0.004", "1 / 1 of 3", "+4.20", "+1.80"]
    assert summary.rows[-1][3:] == ["n/a", "", "", "", "", ""]  # no average: a language lacks a recipe


def test_a_configured_first_comparison_is_the_question():
    configured = [_known("finetune", family="configured"), _known("deep_prompt", family="configured")]
    assert question_tables(configured) == configured[:1]
    assert answer(configured[:1], Degenerate())[0] == (
        "Does finetune + multi beat finetune + mono for zero-shot transfer on xnli (trained on en)?"
    )


# A fake study with per-example outputs: gold "A" for the first 40 examples, "B" after; a run that gets k right gets
# the first k right and the rest wrong, so a run with k = 40 predicts "A" everywhere (one label: degenerate).
GOLD = ["A"] * 40 + ["B"] * (N - 40)
MONO = {("ft", "mono", seed): {"en": 80 + int(seed), "de": 62, "sw": 45} for seed in "01"}


def _write_examples(study, runs):
    for (method, intermediate, seed), right in runs.items():
        for lang, k in right.items():
            predictions = [gold if i < k else {"A": "B", "B": "A"}[gold] for i, gold in enumerate(GOLD)]
            examples = [
                {"id": f"{lang}-{i}", "text": f"sentence {i} in {lang}", "label": g} for i, g in enumerate(GOLD)
            ]
            path = study / "examples" / f"{method}.{intermediate}.seed{seed}" / "toy" / f"test-{lang}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(example_lines(examples, GOLD, predictions))


@pytest.fixture
def study(tmp_path):
    runs = MONO | RUNS  # the conditions in this order: the question is ft + multi vs ft + mono
    write_study(tmp_path, runs)
    _write_examples(tmp_path, runs)
    return tmp_path


def test_example_lines_hold_the_text_without_the_gold_field():
    examples = [{"id": 7, "text_a": "a b", "text_b": "c", "label": "yes", "score": 0.5}]
    [record] = [json.loads(line) for line in example_lines(examples, ["yes"], ["no"]).splitlines()]
    assert record == {"id": "7", "text": {"text_a": "a b", "text_b": "c"}, "gold": "yes", "prediction": "no"}
    tagged = example_lines([{"id": "s", "tokens": ["a", "b"], "tags": ["N", "V"]}], [["N", "V"]], [["N", "N"]])
    assert json.loads(tagged)["text"] == {"tokens": ["a", "b"]}


def test_the_contrast_table_holds_every_contrast_with_the_question_first(study):
    markdown = build_report(study)["markdown"].read_text()
    table = markdown.split("## Contrasts\n", 1)[1].split("\n\n_", 1)[0]
    rows = [[cell.strip().removesuffix(" †") for cell in line.strip("|").split("|")] for line in table.splitlines()[3:]]
    with (study / "contrasts.csv").open(newline="") as handle:
        averages = [r for r in csv.DictReader(handle) if r["language"] == "average" and r["group"] == "all"]
    assert [row[:2] for row in rows] == [
        ["ft + multi", "ft + mono"],  # the question: the pair of conditions
        ["ft + mono", "ft"],
        ["ft + multi", "ft"],
    ]
    assert {(r["a"], r["b"]) for r in averages} == {(row[0], row[1]) for row in rows}  # every contrast
    for row in rows:
        found = next(r for r in averages if (r["a"], r["b"]) == (row[0], row[1]))
        assert row[3].removesuffix(" *") == f"{float(found['difference']):+.2f}"
        assert row[4] == f"[{float(found['low']):+.2f}, {float(found['high']):+.2f}]"
    assert markdown.index("## Answer") < markdown.index("## Contrasts") < markdown.index("### Scores")


def test_a_recipe_predicting_one_label_is_marked_in_every_table_and_heat_map(study, monkeypatch):
    drawn = {}

    def capture(values, labels, rows, columns, title, diverging=False):
        drawn[title] = (labels, rows)
        return b"\x89PNG"

    monkeypatch.setattr(document, "heatmap_png", capture)
    _write_examples(study, {("majority", "none", "0"): {"sw": 47}})  # one label alone marks, not the majority's
    markdown = build_report(study)["markdown"].read_text()
    scores = markdown.split("### Scores", 1)[1]
    # seed 0 of ft and of ft + multi gets 40 right in sw: "A" everywhere; ft + mono (45) and seed 1 (50) do not
    assert "| ft | 2 | 85.00 | 65.00 | 45.00† |" in scores and "| ft + multi | 2 | 86.00 | 75.00 | 45.00† |" in scores
    assert "| ft + mono | 2 | 80.50 | 62.00 | 45.00 |" in scores
    assert "| majority | 1 | 50.00 | 50.00 | 40.00 |" in scores  # a reference is the baseline itself: never marked
    assert "† = degenerate" in next(line for line in scores.splitlines() if line.startswith("_accuracy x100"))
    contrast = markdown.split("#### ft + multi vs ft + mono", 1)[1]
    assert "\n| sw† | unseen |" in contrast and "\n| de | unseen |" in contrast
    assert "| ft + multi † | ft + mono |" in markdown  # the contrast summary table
    assert (
        "Caution: ft + multi is degenerate (one label, or the majority's predictions) in 1 of 3 languages"
        in (markdown.split("## Contrasts", 1)[0])
    )
    score_labels, recipes = next(value for title, value in drawn.items() if title.endswith("scores († = degenerate)"))
    assert [row[2] for row in score_labels] == ["45.0†", "45.0", "45.0†", "40.0"] and recipes[1] == "ft + mono"
    contrast_labels, _ = next(value for title, value in drawn.items() if "a - b" in title)
    assert [row[2].endswith("†") for row in contrast_labels] == [True] * 3  # sw: ft and ft + multi degenerate
    assert [row[1].endswith("†") for row in contrast_labels] == [False] * 3


def test_a_recipe_predicting_what_the_majority_predicts_is_degenerate(study):
    _write_examples(study, {("majority", "none", "0"): {"de": 62}})  # as ft + mono's de predictions
    markdown = build_report(study)["markdown"].read_text()
    assert "| ft + mono | 2 | 80.50 | 62.00† | 45.00 |" in markdown


def test_examples_show_where_recipes_disagree(study):
    markdown = build_report(study, examples=2)["markdown"].read_text()
    section = markdown.split("## Examples", 1)[1].split("\n## ", 1)[0]
    header, *rows = [line for line in section.splitlines() if line.startswith("| ")]
    assert header == "| language | id | text | gold | ft | ft + mono | ft + multi |"
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    # seed 0, right of ft, ft + mono and ft + multi: en 80, 80, 82 (80 and 81 differ); de 60, 62, 70 (60 to 69);
    # sw 40, 45, 40 (40 to 44); the first two of each
    assert [row[:2] for row in cells] == [["en", "en-80"], ["en", "en-81"], ["de", "de-60"], ["de", "de-61"]] + [
        ["sw", "sw-40"],
        ["sw", "sw-41"],
    ]
    assert cells[0][2:] == ["sentence 80 in en", "B", "A", "A", "B ✓"]
    assert "## Examples" not in build_report(study)["markdown"].read_text()  # only when asked


def test_the_notebook_api_loads_the_examples(study):
    frame = xlt.load_study(study).examples(task="toy", language="de")
    runs = MONO | RUNS
    assert len(frame) == N * len(runs) and set(frame["eval_language"]) == {"de"}
    row = frame.query("method == 'ft' and intermediate == 'none' and seed == 0 and id == 'de-60'").iloc[0]
    assert (row["gold"], row["prediction"], bool(row["correct"]), row["text"]) == (
        "B",
        "A",
        False,
        {"text": "sentence 60 in de"},
    )
    assert frame["correct"].sum() == sum(right["de"] for right in runs.values())  # as results.csv says


@pytest.mark.slow
def test_report_examples_on_the_quick_demo(quick_demo, tmp_path):
    study = tmp_path / "study"
    shutil.copytree(quick_demo, study)  # the session's demo stays as it was
    result = subprocess.run(
        [sys.executable, "-m", "xlt", "report", str(study), "--examples", "3"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    markdown = (study / "report.md").read_text()
    frame = xlt.load_study(study).examples()
    tasks = sorted(set(frame["task"]))
    assert tasks == ["synth-nli", "synth-pos"] and len(frame) == len(
        frame.drop_duplicates(["method", "intermediate", "seed", "task", "eval_language", "id"])
    )
    section = markdown.split("## Examples", 1)[1].split("\n## ", 1)[0]
    for task in tasks:
        table = section.split(f"### {task},", 1)[1].split("\n\n_", 1)[0]
        header, *rows = [_cells(line) for line in table.splitlines() if line.startswith("| ")]
        per_language = {lang: sum(row[0] == lang for row in rows) for lang in {row[0] for row in rows}}
        assert rows and max(per_language.values()) <= 3
        runs = frame.query("task == @task and seed == 0 and method not in ('majority', 'random_init')")
        for row in rows:  # each shown example: the gold and every recipe's prediction, as examples/ holds them
            found = runs[(runs["eval_language"] == row[0]) & (runs["id"] == row[1])]
            predictions = {_label(r.method, r.intermediate): r.prediction for r in found.itertuples()}
            assert len({json.dumps(p) for p in predictions.values()}) >= 2  # recipes disagree on it
            for recipe, cell in zip(header[4:], row[4:]):
                shown = " ".join(predictions[recipe]) if isinstance(predictions[recipe], list) else predictions[recipe]
                assert cell.removesuffix(" ✓") == (shown if len(shown) <= 160 else shown[:159] + "…"), (
                    row,
                    recipe,
                    cell,
                    shown,
                )
    # a recipe is marked in a language exactly where, in some seed, it predicts one label or the majority's labels
    for task in tasks:
        scores = markdown.split(f"\n## {task},", 1)[1].split("### Scores", 1)[1].split("\n\n_", 1)[0]
        header, *rows = [_cells(line) for line in scores.splitlines() if line.startswith("| ")]
        languages = [cell.removesuffix(" (train)") for cell in header[2:]]
        for cells in rows:
            if cells[0] in ("majority", "random_init"):
                continue
            for lang, cell in zip(languages, cells[2:]):
                assert cell.endswith("†") == _degenerate(frame, task, cells[0], lang), (task, cells[0], lang, cell)


def _cells(line):
    """A Markdown table row's cells (a cell's own "|" is escaped)."""
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line.strip()[1:-1])]


def _degenerate(frame, task, recipe, lang):
    method, _, intermediate = recipe.partition(" + ")
    runs = frame[(frame["task"] == task) & (frame["eval_language"] == lang)]
    majority = runs[runs["method"] == "majority"]
    for seed, group in runs[(runs["method"] == method) & (runs["intermediate"] == (intermediate or "none"))].groupby(
        "seed"
    ):
        labels = {json.dumps(x) for p in group["prediction"] for x in (p if isinstance(p, list) else [p])}
        reference = majority[majority["seed"] == seed]
        if len(labels) == 1 or list(group["prediction"]) == list(reference["prediction"]):
            return True
    return False


def _label(method, intermediate):
    return method if intermediate == "none" else f"{method} + {intermediate}"


def test_a_task_trained_from_several_sources_names_each_sentences_source():
    """A target with `sources`: one section per source of the same task, so the task alone would not say which."""
    base = _known("finetune")
    other = dataclasses.replace(base, section=dataclasses.replace(base.section, train_languages=("de",)))
    _, sentences, _ = answer([base, other], Degenerate())
    assert sentences.startswith("finetune on xnli (trained on en): +3.5 points")
    assert " finetune on xnli (trained on de): +3.5 points" in sentences
    two_tasks = [base, dataclasses.replace(base, section=dataclasses.replace(base.section, task="pawsx"))]
    _, sentences, _ = answer(two_tasks, Degenerate())
    assert sentences.startswith("finetune on xnli: +3.5") and " finetune on pawsx: +3.5" in sentences
