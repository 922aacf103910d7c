"""The report's training curves, language table, transfer against distance, booktabs tables and wide CSV, on a
small fake study directory whose numbers are known."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest
from scipy.stats import spearmanr

from test_report import N, write_study
from xlt.report import build_report
from xlt.report.exports import booktabs, escape
from xlt.report.figures.curves import trailing_mean
from xlt.report.figures.distance import spearman_interval
from xlt.report.render import Table

LANGS = ["en", "de", "nl", "ru", "ja", "sw"]
DISTANCE = {"en": 0.0, "de": 0.1, "nl": 0.12, "ru": 0.3, "ja": 0.5, "sw": 0.45}
# ft falls with distance; ft + multi gains most far away; seeds 0 and 1 differ by a few examples
RUNS = {
    (method, intermediate, seed): {
        lang: round(80 - 60 * DISTANCE[lang] + bonus * DISTANCE[lang] + shift) for lang in LANGS
    }
    for method, intermediate, bonus in (("ft", "none", 0), ("ft", "multi", 30))
    for seed, shift in (("0", 0), ("1", 3))
}
RUNS[("majority", "none", "0")] = dict.fromkeys(LANGS, 33)
STAGES = {"ft-none-0": None, "ft-multi-0": "inter-0", "ft-none-1": None, "ft-multi-1": "inter-1"}


@pytest.fixture
def study(tmp_path):
    return fake_study(tmp_path)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One report with every export, built once for the tests that only read it."""
    return build_report(fake_study(tmp_path_factory.mktemp("study")), latex=True, csv_wide=True)


def fake_study(tmp_path):
    write_study(tmp_path, RUNS)
    stages = {
        stage: {
            "role": "target",
            "task": "toy",
            "parent": parent,
            "stage": stage,
            "selection": {"dev": {"step": 30}} if stage == "ft-multi-0" else None,
        }
        for stage, parent in STAGES.items()
    }
    stages |= {
        f"inter-{seed}": {"role": "intermediate", "task": "aux", "parent": None, "stage": "inter"} for seed in "01"
    }
    (tmp_path / "provenance.json").write_text(json.dumps({"stages": stages}))
    for stage in stages:
        (tmp_path / "stages" / stage).mkdir(parents=True)
        (tmp_path / "stages" / stage / "loss.json").write_text(json.dumps(list(np.linspace(2, 0.5, 60))))
    (tmp_path / "languages.json").write_text(
        json.dumps(
            {lang: {"script": "Latin", "iso639-3": lang * 2, "name": lang.upper(), "family": "F"} for lang in LANGS}
        )
    )
    (tmp_path / "distances.json").write_text(
        json.dumps(
            {
                "measures": {"syntactic": "toy syntax", "genetic": "toy genealogy"},
                "from": {
                    "en": {
                        lang: {"syntactic": d, "genetic": None if lang == "sw" else 1.0} for lang, d in DISTANCE.items()
                    }
                },
            }
        )
    )
    return tmp_path


def test_trailing_mean_averages_the_last_twentieth_of_the_steps():
    values = np.arange(40, dtype=float)  # window 2
    assert trailing_mean(values)[:3].tolist() == [0.0, 0.5, 1.5] and trailing_mean(values)[-1] == 38.5
    assert trailing_mean(np.array([3.0])).tolist() == [3.0]


def test_a_section_with_loss_files_gets_a_training_curves_figure(built):
    paths = built
    markdown = paths["markdown"].read_text()
    assert "### Training curves" in markdown and "![training curves, toy" in markdown
    assert paths["curves_toy_en_accuracy.png"].read_bytes().startswith(b"\x89PNG")


def test_no_loss_files_no_curves(study):
    for path in study.glob("stages/*/loss.json"):
        path.unlink()
    assert "Training curves" not in build_report(study)["markdown"].read_text()


def test_the_language_table_leads_with_name_family_and_script(built):
    markdown = built["markdown"].read_text()
    rows = [
        line.split(" | ")[0].lstrip("| ")
        for line in markdown.splitlines()
        if line.startswith(("| name", "| family", "| script", "| iso639-3"))
    ]
    assert rows == ["name", "family", "script", "iso639-3"]


def _distance_rows(markdown):
    return {
        (cells[0], cells[1], cells[2]): cells[3:]
        for line in markdown.splitlines()
        if (cells := [c.strip() for c in line.strip("|").split("|")])
        and len(cells) == 6
        and cells[2] in ("syntactic", "genetic")
    }


def test_transfer_vs_distance_correlates_scores_and_gains_with_distance(built):
    paths = built
    rows = _distance_rows(paths["markdown"].read_text())
    others = LANGS[1:]
    scores = [np.mean([RUNS[("ft", "none", s)][lang] for s in "01"]) for lang in others]
    rho = spearmanr([DISTANCE[lang] for lang in others], scores).statistic
    languages, shown, interval = rows[("ft", "score", "syntactic")]
    assert languages == "5" and shown == f"{rho:+.2f}" and rho < -0.8
    low, high = map(float, interval.strip("[]").split(", "))
    assert low <= round(rho, 2) <= high
    gain_rho = float(rows[("ft + multi vs ft", "a - b", "syntactic")][1])
    assert gain_rho > 0.8  # the intermediate stage helps most far away
    assert ("ft", "score", "genetic") not in rows  # every known genetic distance is 1: nothing to rank
    assert paths["distance_toy_en_accuracy.png"].read_bytes().startswith(b"\x89PNG")


def test_spearman_interval_replicates_are_scipy_spearman_on_resampled_languages():
    x, y = np.array([0.0, 0.0, 0.25, 0.5, 0.75, 0.75]), np.array([48.0, 42, 47, 35, 43, 44])
    found = spearman_interval(x, y, replicates=1000)
    rng = np.random.default_rng(20240521)
    idx = rng.integers(0, 6, size=(1000, 6))
    direct = [spearmanr(x[i], y[i]).statistic for i in idx if np.ptp(x[i]) and np.ptp(y[i])]
    assert found.rho == pytest.approx(spearmanr(x, y).statistic)
    assert (found.low, found.high) == pytest.approx(tuple(np.percentile(direct, [2.5, 97.5])))
    assert spearman_interval(np.zeros(5), np.arange(5.0)) is None


def _cells(markdown, label):
    """The cells of `label`'s row in the scores table."""
    scores = markdown.split("### Scores", 1)[1]
    line = next(line for line in scores.splitlines() if line.startswith(f"| {label} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_latex_tables_print_the_report_numbers_to_the_digit(built):
    paths = built
    markdown = paths["markdown"].read_text()
    tex = {name: path.read_text() for name, path in paths.items() if name.endswith(".tex")}
    assert set(tex) == {"tables/scores_toy_en_accuracy.tex", "tables/contrast_toy_en_accuracy_ft-multi-vs-ft.tex"}
    scores = tex["tables/scores_toy_en_accuracy.tex"]
    assert scores.count(r"\toprule") == scores.count(r"\midrule") == scores.count(r"\bottomrule") == 1
    for label in ("ft", "ft + multi", "majority"):
        latex = next(line for line in scores.splitlines() if line.startswith(f"{label} &"))
        assert latex.removesuffix(r" \\").split(" & ") == _cells(markdown, label)
    contrast = tex["tables/contrast_toy_en_accuracy_ft-multi-vs-ft.tex"]
    md_rows = [line for line in markdown.splitlines() if line.startswith(("| ja |", "| average |"))]
    for line in md_rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        latex = next(tex for tex in contrast.splitlines() if tex.startswith(f"{cells[0]} & {cells[1]} &"))
        numbers = re.findall(r"[-+]?\d+\.\d+", latex)
        assert numbers == re.findall(r"[-+]?\d+\.\d+", " ".join(cells)), (latex, cells)
        assert ("$^{*}$" in latex) == cells[2].endswith("*")
    assert r"95\% interval" in contrast and r"\textless{}0.001" in contrast


def test_booktabs_escapes_latex_specials():
    text = booktabs(Table(["a_b", "100%"], [["x & y", "+1.00 *"]], "#1 {z} ~ $"), "tab:t")
    assert r"a\_b & 100\%" in text and r"x \& y & +1.00$^{*}$ \\" in text
    assert r"\caption{\#1 \{z\} \textasciitilde{} \$}" in text
    assert escape("a\\b") == r"a\textbackslash{}b"


def test_wide_csv_has_a_row_per_recipe_and_a_column_per_language(built):
    paths = built
    with paths["wide"].open(newline="") as handle:
        rows = {row["recipe"]: row for row in csv.DictReader(handle)}
    markdown = paths["markdown"].read_text()
    assert list(rows) == ["ft", "ft + multi", "majority"]
    for label, row in rows.items():
        printed = _cells(markdown, label)[2 : 2 + len(LANGS) + 1]  # after recipe and seeds: languages, avg
        assert [f"{float(row[lang]):.2f}" for lang in LANGS] + [f"{float(row['avg']):.2f}"] == printed
    assert rows["ft"]["seeds"] == "2" and float(rows["majority"]["de"]) == 100 * 33 / N
