"""Language pairs: `targets[].sources` plans one branch per source language, and the report reads the branches as a
source x target matrix with a replicability count across pairs (Dror et al. 2017) whose error rate is simulated."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest
import yaml
from scipy import stats

from simulated_pairs import METRIC, TASK, write_pair_study
from small_study import small_study
from test_plan import DEMO, IDENTITY
from xlt.config import validate_study
from xlt.errors import XltError
from xlt.pipeline.plan.graph import build_plan
from xlt.pipeline.run.runner import run_study
from xlt.report import build_report
from xlt.report.contrasts import ALPHA, Contrast, adjust, one_sided, replicability_bound

# Planning.


def demo(**target_changes):
    raw = yaml.safe_load(DEMO.read_text())
    raw["targets"] = [dict(raw["targets"][0], **target_changes)]
    raw["targets"][0].pop("train_languages") if "sources" in target_changes else None
    raw["references"] = []
    return validate_study(raw, "demo")


def test_sources_plan_one_branch_per_language_each_trained_on_it_alone():
    plan = build_plan(demo(sources=["base", "swap", "cyrl"]), IDENTITY)
    targets = [s for s in plan.train.values() if s.role == "target"]
    # 2 methods x 3 conditions (none, monolingual, multilingual) per source
    assert sorted({s.languages for s in targets}) == [("base",), ("cyrl",), ("swap",)]
    assert len(targets) == 3 * 2 * 3
    assert {ev.train_languages for ev in plan.evals} == {("base",), ("cyrl",), ("swap",)}
    # `languages: train` is the branch's source; the multilingual stage (fixed languages) is trained once per method
    intermediate = [s for s in plan.train.values() if s.role == "intermediate"]
    monolingual = {s.languages for s in intermediate if len(s.languages) == 1}
    assert monolingual == {("base",), ("swap",), ("cyrl",)}
    assert len([s for s in intermediate if len(s.languages) > 1]) == 2
    for stage in targets:
        parent = plan.train.get(stage.parent)
        assert parent is None or len(parent.languages) > 1 or parent.languages == stage.languages


def test_one_source_plans_exactly_the_stages_of_that_training_language():
    single = build_plan(demo(sources=["base"]), IDENTITY)
    plain = build_plan(demo(train_languages=["base"]), IDENTITY)
    assert list(single.train) == list(plain.train)
    assert [ev.hash for ev in single.evals] == [ev.hash for ev in plain.evals]


def test_the_embedded_pair_study_shares_the_multilingual_stage_across_its_three_sources():
    from xlt.config import load_study

    study = load_study(DEMO.parent / "pairs.yaml")
    plan = build_plan(study, IDENTITY)
    # per seed: 3 sources x 3 conditions, a monolingual stage per source, one multilingual stage for all
    assert plan.training_runs == 3 * (3 * 3 + 3 + 1)
    assert {ev.train_languages for ev in plan.evals} == {("base",), ("cyrl",), ("sov",)}


def test_sources_with_train_languages_are_refused_in_one_line():
    raw = yaml.safe_load(DEMO.read_text())
    raw["targets"][0]["sources"] = ["base", "swap"]
    with pytest.raises(XltError, match="give one of train_languages .* and sources"):
        validate_study(raw, "demo")


def test_unknown_or_repeated_source_is_refused_naming_the_field():
    with pytest.raises(XltError, match=r"targets\.0\.sources: found 'bse'.*did you mean 'base'"):
        demo(sources=["base", "bse"])
    with pytest.raises(XltError, match="sources: names must be unique"):
        demo(sources=["base", "base"])


# The replicability count.


def test_replicability_bound_is_the_partial_conjunction_count_by_hand():
    # sorted p: 0.001, 0.01, 0.02, 0.3 -> (N - u + 1) p_(u): 0.004, 0.03, 0.04, 0.3 -> three pairs at 0.05
    assert replicability_bound([0.02, 0.3, 0.001, 0.01]) == 3
    # 2 x 0.03 = 0.06 fails at u = 1, so u = 2 (1 x 0.04) cannot count: the partial-conjunction p is monotone
    assert replicability_bound([0.03, 0.04]) == 0
    assert replicability_bound([]) == 0
    assert replicability_bound([0.001] * 5, alpha=0.004) == 0 and replicability_bound([0.001] * 5) == 5


def test_replicability_bound_is_the_number_of_holm_rejections():
    rng = np.random.default_rng(3)
    for _ in range(200):
        p = rng.random(12) ** 3
        assert replicability_bound(p) == int((adjust(p, "holm") <= ALPHA).sum())


def _contrast(difference: float, p_value: float) -> Contrast:
    return Contrast(difference, difference - 1, difference + 1, p_value, (3, 3), True, 100, 2.0, "seeds")


def test_one_sided_p_halves_the_two_sided_one_on_the_observed_side():
    assert one_sided(_contrast(+2.0, 0.04)) == pytest.approx(0.02)
    assert one_sided(_contrast(+2.0, 0.04), -1) == pytest.approx(0.98)
    assert one_sided(_contrast(-2.0, 0.04), -1) == pytest.approx(0.02)


def _simulated_counts(effects: np.ndarray, replicates: int, correlation: float, seed: int):
    """Per replicate, the gain and loss counts (alpha / 2 each) over pairs whose z statistics share a component
    per source (one model per source scores every target): `effects` is sources x targets, in z units."""
    rng = np.random.default_rng(seed)
    sources, targets = effects.shape
    shared = rng.standard_normal((replicates, sources, 1))
    z = np.sqrt(correlation) * shared + np.sqrt(1 - correlation) * rng.standard_normal((replicates, sources, targets))
    z = (z + effects).reshape(replicates, -1)
    gains = np.array([replicability_bound(stats.norm.sf(row), ALPHA / 2) for row in z])
    losses = np.array([replicability_bound(stats.norm.cdf(row), ALPHA / 2) for row in z])
    return gains, losses


def test_replicability_bound_keeps_its_family_wise_error_under_no_effect():
    """5 sources x 10 targets, no effect anywhere: a claim of any pair (either direction) at most alpha."""
    replicates = 6000
    for correlation in (0.0, 0.5):
        gains, losses = _simulated_counts(np.zeros((5, 10)), replicates, correlation, seed=1)
        rate = ((gains >= 1) | (losses >= 1)).mean()
        assert rate <= ALPHA + 3 * np.sqrt(ALPHA * (1 - ALPHA) / replicates)
    assert rate > 0.01  # Bonferroni at u = 1 is not far below nominal: the test can fail


def test_replicability_bound_counts_a_known_effect_and_never_overstates_it():
    """A gain of 4.5 standard errors in 12 of 50 pairs: K is at most 12 in 95% of studies, and close to it."""
    effects = np.zeros((5, 10))
    effects[:3, :4] = 4.5
    gains, losses = _simulated_counts(effects, 3000, 0.5, seed=2)
    m = int((effects > 0).sum())
    assert (gains > m).mean() <= ALPHA / 2 + 0.01
    assert np.median(gains) >= m - 1 and (gains >= m - 3).mean() > 0.9
    assert (losses >= 1).mean() <= ALPHA / 2 + 0.01


# The report.

SOURCES, TARGETS = ["en", "de", "ru"], ["en", "de", "ru", "sw", "fi", "zh"]
RECIPES = [("ft", "none"), ("ft", "multi")]
GAINED = [("en", "sw"), ("en", "fi"), ("de", "sw"), ("de", "fi"), ("ru", "sw"), ("ru", "fi"), ("ru", "zh")]


@pytest.fixture(scope="module")
def pair_report(tmp_path_factory):
    study = tmp_path_factory.mktemp("pairs")
    gains = {(("ft", "multi"), s, t): 3.0 for s, t in GAINED}
    write_pair_study(study, SOURCES, TARGETS, RECIPES, ["0", "1", "2"], 300, gains, seed_sd=0.0)
    written = build_report(study)
    with written["contrasts"].open(newline="") as f:
        rows = [row for row in csv.DictReader(f) if row["a"] == "ft + multi" and row["b"] == "ft"]
    return study, written, rows


def _transfer(rows: list[dict]) -> list[dict]:
    return [row for row in rows if row["language"] in TARGETS and row["train_languages"] != row["language"]]


def test_every_source_target_cell_is_a_contrasts_row_with_its_source_as_train_languages(pair_report):
    _, _, rows = pair_report
    cells = {(row["train_languages"], row["language"]) for row in rows if row["language"] in TARGETS}
    assert cells == {(s, t) for s in SOURCES for t in TARGETS}
    transfer = _transfer(rows)
    p = np.array([float(row["p_value"]) for row in transfer])
    assert [float(row["p_pairs"]) for row in transfer] == pytest.approx(adjust(p, "holm"))
    assert all(row["p_pairs"] == "" for row in rows if row["train_languages"] == row["language"])


def test_replicability_sentence_counts_the_pairs_from_the_cells_one_sided_p_values(pair_report):
    _, written, rows = pair_report
    transfer = _transfer(rows)
    contrasts = [_contrast(float(row["difference"]), float(row["p_value"])) for row in transfer]
    k = replicability_bound([one_sided(c) for c in contrasts], ALPHA / 2)
    assert 1 <= k <= len(GAINED)  # the known gains, never more
    markdown = written["markdown"].read_text()
    summary = markdown.split("## Answer", 1)[1].split("\n## ", 1)[0]  # the answer says it, first
    assert f"ft + multi's gain holds in at least {k} of {len(transfer)} language pairs (95%)" in summary
    assert "## Language pairs: toy (accuracy)" in markdown


def test_pair_matrices_are_drawn_per_recipe_and_per_contrast(pair_report):
    study, written, _ = pair_report
    slug = f"{TASK}_{METRIC}"
    for name in (f"heatmap_pairs_{slug}_ft.png", f"heatmap_pairs_{slug}_ft-multi.png"):
        assert written[name].read_bytes().startswith(b"\x89PNG")
    assert (study / f"heatmap_pairs_contrast_{slug}_ft-multi_vs_ft.png").is_file()
    markdown = written["markdown"].read_text()
    assert "Transfer vs distance of source and target" in markdown
    assert "| ft + multi vs ft | 15 |" in markdown


# End to end, on the embedded benchmark.


@pytest.mark.slow
def test_a_study_with_three_sources_writes_the_pair_matrix_end_to_end(tmp_path):
    sources = ["base", "cyrl", "sov"]
    raw = small_study(tmp_path / "study", seeds=[0, 1])
    target = raw["targets"][0]
    del target["train_languages"], target["eval_languages"]
    target["sources"] = sources
    outcome = run_study(validate_study(raw, "pairs"), progress=False)
    out = outcome.out_dir
    with (out / "results.csv").open(newline="") as f:
        trained = {row["train_languages"] for row in csv.DictReader(f)}
    assert trained == set(sources)
    with (out / "contrasts.csv").open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if (r["a"], r["b"]) == ("finetune + multilingual", "finetune")]
    languages = outcome.plan.evals[0].languages
    cells = {(r["train_languages"], r["language"]) for r in rows if r["language"] in languages}
    assert cells == {(s, t) for s in sources for t in languages}
    assert all(r["p_pairs"] != "" for r in rows if r["language"] in languages and r["train_languages"] != r["language"])
    markdown = (out / "report.md").read_text()
    transfer = len(sources) * (len(languages) - 1)
    assert re.search(rf"finetune \+ multilingual's gain holds in at least \d+ of {transfer} language pairs", markdown)
    assert (out / "heatmap_pairs_synth-nli_accuracy_finetune-multilingual.png").is_file()
    assert (out / "heatmap_pairs_contrast_synth-nli_accuracy_finetune-multilingual_vs_finetune.png").is_file()
    predictions = {path.name for path in (out / "predictions").iterdir()}
    assert "finetune.none.seed0.from-cyrl" in predictions  # one folder per branch: none overwrites another
