"""build_report on a small fake study directory whose numbers can be checked by hand."""

from __future__ import annotations

import base64
import csv
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from xlt.errors import XltError
from xlt.report import build_report
from xlt.report.contrasts import adjust
from xlt.results.rows import COLUMNS

N = 100  # test examples per language
# (method, intermediate, seed) -> {language: examples right of N}; units mark the first k examples right,
# so a recipe that gets more right than its baseline gets a superset right (strongly paired).
RUNS = {
    ("ft", "none", "0"): {"en": 80, "de": 60, "sw": 40},
    ("ft", "none", "1"): {"en": 90, "de": 70, "sw": 50},
    ("ft", "multi", "0"): {"en": 82, "de": 70, "sw": 40},
    ("ft", "multi", "1"): {"en": 90, "de": 80, "sw": 50},
    ("majority", "none", "0"): {"en": 50, "de": 50, "sw": 40},
}


def write_study(study, runs=RUNS, train_languages="en"):
    rows = []
    for (method, intermediate, seed), right in runs.items():
        stage = f"{method}-{intermediate}-{seed}"
        (study / "units" / stage).mkdir(parents=True)
        for lang, k in right.items():
            np.savez(study / "units" / stage / f"test-{lang}.npz", num=(np.arange(N) < k) * 1.0, den=np.ones(N))
            row = dict(
                method=method,
                intermediate=intermediate,
                target_task="toy",
                train_languages=train_languages,
                eval_language=lang,
                split="test",
                metric="accuracy",
                value=100 * k / N,
                seed=seed,
                stage_hash=stage,
                primary=1,
            )
            rows += [row, dict(row, metric="loss", value=0.5, primary=0)]
    with (study / "results.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return study


@pytest.fixture
def study(tmp_path):
    return write_study(tmp_path)


def _table_row(markdown, label):
    return next(line for line in markdown.splitlines() if line.startswith(f"| {label} |"))


def test_scores_table_has_seed_means_macro_gap_and_nt(study):
    markdown = build_report(study)["markdown"].read_text()
    assert "| recipe | seeds | en (train) | de | sw | avg | gap | NT |" in markdown
    # ft: en (80+90)/2, de (60+70)/2, sw (40+50)/2; avg 65; gap 85 - 55; NT ((15/35) + (5/35)) / 2
    assert _table_row(markdown, "ft") == "| ft | 2 | 85.00 | 65.00 | 45.00 | 65.00 | +30.00 | 0.286 |"
    assert _table_row(markdown, "majority") == "| majority | 1 | 50.00 | 50.00 | 40.00 | 46.67 | +5.00 | – |"


def _contrast_row(markdown, language):
    """The row of `language` in the first contrast table, as its cells."""
    table = markdown.split("#### ", 1)[1]
    line = next(line for line in table.splitlines() if line.startswith(f"| {language} |"))
    return [c.strip() for c in line.split("|")[1:-1]]


def test_contrasts_are_paired_over_seeds_and_marked_when_significant(study):
    markdown = build_report(study)["markdown"].read_text()
    assert "#### ft + multi vs ft" in markdown  # the condition against none, by default
    # de: +10 right in both seeds; the paired interval excludes 0, holds the estimate, survives Holm
    language, group, difference, interval, p, p_adjusted, seeds = _contrast_row(markdown, "de")
    low, high = map(float, re.match(r"\[([-+.\d]+), ([-+.\d]+)\]$", interval).groups())
    assert (group, difference, seeds) == ("unseen", "+10.00 *", "2") and low <= 10.0 <= high and low > 0
    assert _contrast_row(markdown, "sw")[2:4] == ["+0.00", "[+0.00, +0.00]"]  # identical recipe: not marked
    en = _contrast_row(markdown, "en (train)")
    assert en[1] == "seen" and en[2] == "+1.00" and float(en[5]) > 0.05  # 2 examples of 100 in one seed only
    averages = [row for row in markdown.split("#### ", 1)[1].splitlines() if row.startswith("| average |")]
    assert averages[0].startswith("| average | all | +3.67 |")
    rows = list(csv.DictReader((study / "contrasts.csv").open()))
    de = next(row for row in rows if row["language"] == "de")
    assert (de["a"], de["b"], float(de["difference"]), de["seeds"]) == ("ft + multi", "ft", 10.0, "2")
    assert float(de["p_adjusted"]) < 0.05 <= float(next(r for r in rows if r["language"] == "en")["p_adjusted"])


def test_missing_units_give_no_interval_and_no_crash(study):
    shutil.rmtree(study / "units" / "ft-multi-1")
    markdown = build_report(study)["markdown"].read_text()
    assert _contrast_row(markdown, "de")[2:4] == ["+10.00", "n/a"]
    assert "| average | all | +3.67 | n/a |" in markdown
    shutil.rmtree(study / "units")
    assert _contrast_row(build_report(study)["markdown"].read_text(), "de")[2:4] == ["+10.00", "n/a"]


def test_contrasts_csv_leaves_the_interval_fields_of_a_row_without_units_empty(study):
    shutil.rmtree(study / "units" / "ft-multi-1")
    build_report(study)
    rows = list(csv.DictReader((study / "contrasts.csv").open()))
    de = next(row for row in rows if row["language"] == "de")
    assert float(de["difference"]) == 10.0
    assert [de[field] for field in ("low", "high", "p_value", "p_adjusted", "seeds", "examples")] == [""] * 6


def _contrast_csv(study, a="ft + multi", b="ft"):
    rows = list(csv.DictReader((study / "contrasts.csv").open()))
    return {(row["language"], row["group"]): row for row in rows if (row["a"], row["b"]) == (a, b)}


def test_contrasts_csv_counts_unpaired_seeds_per_recipe_and_joins_the_training_languages(tmp_path):
    multi = {seed: right for (_, condition, seed), right in RUNS.items() if condition == "multi"}
    runs = {run: right for run, right in RUNS.items() if run[1] != "multi"}
    runs |= {("ft", "multi", str(int(seed) + 2)): right for seed, right in multi.items()}  # seeds 2, 3: none shared
    runs[("ft", "multi", "4")] = multi["1"]
    build_report(write_study(tmp_path, runs, train_languages="en+de"))
    rows = _contrast_csv(tmp_path)
    assert (rows["sw", "unseen"]["train_languages"], rows["sw", "unseen"]["seeds"]) == ("en+de", "3+2")
    assert rows["sw", "unseen"]["examples"] == str(N)
    assert {key for key in rows if key[0] in ("average", "seen - unseen")} == {
        ("average", "all"),
        ("average", "seen"),
        ("average", "unseen"),
        ("seen - unseen", "all"),
    }


def test_when_every_language_is_seen_the_only_average_is_over_all(tmp_path):
    build_report(write_study(tmp_path, train_languages="en+de+sw"))
    rows = _contrast_csv(tmp_path)
    assert {key for key in rows if key[0] in ("average", "seen - unseen")} == {("average", "all")}
    assert {group for _, group in rows} == {"seen", "all"}


def test_the_configured_multiplicity_method_adjusts_the_p_values(study):
    (study / "provenance.json").write_text(json.dumps({"config": {"multiplicity": "bh"}}))
    build_report(study)
    rows = [row for key, row in _contrast_csv(study).items() if key[0] in ("en", "de", "sw")]
    p_values = [float(row["p_value"]) for row in rows]
    expected = adjust(p_values, "bh")
    assert [float(row["p_adjusted"]) for row in rows] == pytest.approx(expected.tolist())
    assert not np.allclose(expected, adjust(p_values, "holm"))  # the two methods differ here


def test_units_of_different_lengths_are_not_paired(study):
    np.savez(study / "units" / "ft-multi-0" / "test-de.npz", num=np.ones(N // 2), den=np.ones(N // 2))
    markdown = build_report(study)["markdown"].read_text()
    assert _contrast_row(markdown, "de")[2:4] == ["+10.00", "n/a"]
    assert _contrast_row(markdown, "en (train)")[3].startswith("[")


def test_the_report_opens_with_the_answer_read_from_the_contrast_table(study):
    markdown = build_report(study)["markdown"].read_text()
    assert markdown.split("\n## ")[1].startswith("Answer\n")
    question, answer, coverage = markdown.split("## Answer", 1)[1].split("##", 1)[0].strip().split("\n\n")
    assert question == (
        "Does multi intermediate training beat no intermediate training for zero-shot transfer on toy (trained on "
        "en), for each method?"
    )
    average = _contrast_row(markdown, "average")  # +3.67 [low, high]: the answer prints it to one decimal
    low, high = map(float, re.match(r"\[([-+.\d]+), ([-+.\d]+)\]$", average[3]).groups())
    assert answer == (
        f"ft: +3.7 points on average, 95% interval [{low:+.1f}, {high:+.1f}]; significantly better in 1 (de) and "
        "worse in none of 3 languages; seen languages +1.0, unseen +5.0 (not significantly different: -4.0 "
        f"[{_group_difference(markdown)}])."
    )
    assert coverage.startswith("Differences in points (a minus b) with 95% intervals over 2 paired seeds and test")


def _group_difference(markdown):
    row = next(line for line in markdown.splitlines() if line.startswith("| seen - unseen |"))
    low, high = map(float, re.findall(r"[-+]\d+\.\d+", row.split("|")[4]))
    return f"{low:+.1f}, {high:+.1f}"


def test_malformed_units_file_is_one_line_error(study):
    (study / "units" / "ft-multi-0" / "test-de.npz").write_bytes(b"not a zip")
    with pytest.raises(XltError, match="test-de.npz is not a units file") as error:
        build_report(study)
    assert "\n" not in str(error.value)


def test_html_is_self_contained_and_embeds_every_png(study):
    written = build_report(study)
    pngs = sorted(name for name in written if name.endswith(".png"))
    assert pngs == ["heatmap_contrasts_toy_en_accuracy.png", "heatmap_scores_toy_en_accuracy.png"]
    assert written["markdown"] == study / "report.md" and written["html"] == study / "report.html"
    page = written["html"].read_text()
    sources = re.findall(r'src="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"href=|<link|<script|url\(", page)
    for name in pngs:
        assert written[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert base64.b64encode(written[name].read_bytes()).decode() in page


def test_two_builds_are_identical(study):
    first = {key: path.read_bytes() for key, path in build_report(study).items()}
    assert {key: path.read_bytes() for key, path in build_report(study).items()} == first
    assert not [p for p in study.iterdir() if p.name.startswith(".")]  # atomic writes leave no temporary file


def test_languages_and_provenance_are_shown(study):
    (study / "languages.json").write_text(json.dumps({"de": {"word_order": "SOV"}, "en": {"word_order": "SVO"}}))
    stage = {
        "stage": "target toy ft",
        "hash": "ab12",
        "seed": 0,
        "steps": 300,
        "wall_seconds": 1.5,
        "parameters": {"trainable": 1000, "total": 4000},
        "method_options": {"lr": 0.001},
    }
    (study / "provenance.json").write_text(
        json.dumps(
            {
                "git_commit": "abc123",
                "versions": {"torch": "2.13"},
                "config": {"seeds": [0, 1]},
                "stages": {"ab12": stage},
            }
        )
    )
    markdown = build_report(study)["markdown"].read_text()
    assert "| word_order | SVO | SOV |  |" in markdown
    assert "| git_commit | abc123 |" in markdown and "| seeds (config) | 0, 1 |" in markdown
    assert "| torch | 2.13 |" in markdown
    assert "| stage | seed | steps | trainable params | total params | trainable % | wall s |" in markdown
    assert "| target toy ft | 0 | 300 | 1,000 | 4,000 | 25 | 1.5 |" in markdown


def test_sparse_provenance_shows_what_it_has(study):
    (study / "provenance.json").write_text(json.dumps({"config": {"name": "x"}, "stages": {"ab12": {"steps": 8}}}))
    markdown = build_report(study)["markdown"].read_text()
    assert "| steps |\n|---|\n| 8 |" in markdown and "seeds (config)" not in markdown
    (study / "provenance.json").write_text(json.dumps({"stages": {"ab12": {"unknown": 1}}}))
    assert "training stages" not in build_report(study)["markdown"].read_text()


def test_results_missing_a_column_is_one_line_error(study):
    (study / "results.csv").write_text("method,value\nft,80\n")
    with pytest.raises(XltError) as error:
        build_report(study)
    assert "stage_hash" in str(error.value) and "\n" not in str(error.value)


def test_truncated_results_line_is_one_line_error(study):
    with (study / "results.csv").open("a") as f:
        f.write("ft,none,toy,en,de,test,accuracy\n")
    with pytest.raises(XltError, match=r"results.csv line 32: primary '' is not 0 or 1"):
        build_report(study)


def test_missing_results_is_an_error(tmp_path):
    with pytest.raises(XltError, match="no results.csv"):
        build_report(tmp_path)


@pytest.mark.slow  # a fresh interpreter
def test_report_never_imports_torch(study):
    code = f"import sys; from xlt.report import build_report; build_report({str(study)!r}); print(sorted(sys.modules))"
    modules = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "'torch'" not in modules and "'transformers'" not in modules
