"""The synthetic benchmark: deterministic, languages disjoint but for anchors, tasks registered and loadable."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from xlt.data import synthetic
from xlt.data.synthetic import (
    ANCHORS,
    BenchmarkSizes,
    generate_benchmark,
    language_properties,
    load_lexicons,
    pretraining_files,
)
from xlt.data.synthetic_grammar import BASE
from xlt.errors import XltError
from xlt.tasks import get_task

SIZES = BenchmarkSizes(train=300, dev=20, test=60, pretrain=300)
TASKS = ("synth-pos", "synth-nli", "synth-qa", "synth-retrieval")


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return generate_benchmark(tmp_path_factory.mktemp("data") / "synthetic", seed=0, sizes=SIZES)


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow  # generates the benchmark twice more
def test_generation_is_deterministic_and_seeded(bench, tmp_path):
    again = generate_benchmark(tmp_path / "again", seed=0, sizes=SIZES)
    other = generate_benchmark(tmp_path / "other", seed=1, sizes=SIZES)
    assert _files(again) == _files(bench)
    assert _files(other)[pretraining_files(other)[0].relative_to(other)] != pretraining_files(bench)[0].read_bytes()


def test_several_processes_write_the_files_one_process_writes(bench, tmp_path, monkeypatch):
    monkeypatch.setattr(synthetic, "PARALLEL_FROM", 0)  # the pool, whatever the sizes
    monkeypatch.setattr(synthetic, "usable_cores", lambda: 2)
    assert _files(generate_benchmark(tmp_path / "pooled", seed=0, sizes=SIZES)) == _files(bench)


def test_complete_benchmark_is_reused_and_foreign_directory_refused(bench, tmp_path):
    stamp = (bench / "COMPLETED").stat().st_mtime_ns
    assert generate_benchmark(bench, seed=0, sizes=SIZES) == bench
    assert (bench / "COMPLETED").stat().st_mtime_ns == stamp
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(XltError, match="not a synthetic benchmark"):
        generate_benchmark(tmp_path, seed=0, sizes=SIZES)


def test_languages_are_data_with_graded_differences():
    props = language_properties()
    assert BASE in props and len(props) >= 7
    assert all({"script", "order", "morphology"} <= set(p) for p in props.values())
    assert {p["order"] for p in props.values()} >= {"SVO", "SOV", "VSO"}
    assert {p["script"] for p in props.values()} >= {"Latin", "Cyrillic"}
    assert any(p["morphology"] == "suffixes" for p in props.values())


def test_derived_languages_share_only_anchors_with_base(bench):
    words = {p.stem: set(p.read_text(encoding="utf-8").split()) for p in pretraining_files(bench)}
    assert len(words) == len(language_properties())
    for lang, vocab in words.items():
        if lang != BASE:
            shared = vocab & words[BASE]
            assert shared and shared <= ANCHORS, (lang, sorted(shared - ANCHORS)[:5])
    assert any("\u0400" <= ch <= "\u04ff" for ch in "".join(words["cyrl"]))


def test_lexicons_map_the_same_concepts_to_different_words(bench):
    lexicons = load_lexicons(bench)
    assert set(lexicons) == set(language_properties())
    assert lexicons[BASE].keys() <= lexicons["vsom"].keys()
    assert lexicons[BASE]["hyper0"] != lexicons["swap"]["hyper0"]


def test_tasks_registered_with_splits_in_every_language(bench):
    for name in TASKS:
        spec = get_task(name)
        langs = spec.eval_languages("synthetic")
        assert len(langs) >= 6
        for split in spec.splits:
            for lang in langs:
                assert len(spec.load(split, lang, bench)) == getattr(SIZES, split)
    assert get_task("synth-pos").primary_metric == "accuracy"
    assert get_task("synth-nli").labels == ("entailment", "neutral", "contradiction")


def test_loaders_need_a_generated_directory(bench, tmp_path):
    spec = get_task("synth-pos")
    with pytest.raises(XltError, match="data_dir") as err:
        spec.load("test", BASE, None)
    assert "\n" not in str(err.value)
    with pytest.raises(XltError, match="no complete synthetic benchmark"):
        spec.load("test", BASE, tmp_path)
    with pytest.raises(XltError, match="missing"):
        spec.load("test", "xx", bench)
    assert spec.load("test", BASE, bench.parent) == spec.load("test", BASE, bench)  # a data root holding synthetic/


def test_example_shapes(bench):
    pos = get_task("synth-pos").load("dev", "sovm", bench)[0]
    assert len(pos["tokens"]) == len(pos["tags"]) and set(pos["tags"]) <= set(get_task("synth-pos").labels)
    for lang in language_properties():
        for qa in get_task("synth-qa").load("dev", lang, bench):
            answer = qa["answers"][0]
            assert qa["context"][answer["answer_start"] :].startswith(answer["text"]) and qa["question"].endswith("?")
    pair = get_task("synth-retrieval").load("test", "cyrl", bench)[0]
    assert set(pair) == {"id", "query", "candidate"}


def test_nli_label_does_not_follow_from_the_edit_shape(bench):
    """Grouping pairs by the length change (substitution, drop, add) must not predict the label."""
    items = [e for split in ("train", "test") for e in get_task("synth-nli").load(split, BASE, bench)]
    overall = Counter(e["label"] for e in items).most_common(1)[0][1] / len(items)
    groups: dict[int, Counter] = {}
    for e in items:
        change = len(e["text_b"].split()) - len(e["text_a"].split())
        sign = (change > 0) - (change < 0)
        groups.setdefault(sign, Counter())[e["label"]] += 1
    by_shape = sum(c.most_common(1)[0][1] for c in groups.values()) / len(items)
    assert by_shape < overall + 0.08
    assert all(len(c) >= 2 for c in groups.values())


def test_settings_are_recorded(bench):
    settings = json.loads((bench / "settings.json").read_text())
    assert settings["seed"] == 0 and settings["sizes"] == SIZES.model_dump()
