"""`xlt analyze` end to end on a tiny study: rows for every encoder, the cache, the report section, bad input."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from in_process import run_xlt
from test_pipeline import TRAINING, run, tiny_study
from xlt.analysis import embed
from xlt.analysis.measures import MEASURES
from xlt.analysis.run import analyze
from xlt.errors import XltError
from xlt.pipeline.plan.resources import cache_dir

pytestmark = pytest.mark.slow
MAX = 40  # parallel sentences per language: enough for every measure, cheap to embed


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("analyse") / "study"
    raw = tiny_study(out, references=["majority", "random_init"])
    raw["targets"] = [
        {
            "task": "synth-nli",
            "train_languages": ["base"],
            "intermediate": ["none", "multilingual"],
            "training": TRAINING,
            "head": {"pooling": "pair"},
        }
    ]
    run(raw)
    return out


@pytest.fixture(scope="module")
def analysed(study) -> Path:
    result = subprocess.run(
        [sys.executable, "-m", "xlt", "analyze", str(study), "--max", str(MAX)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return study


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_rows_cover_the_base_and_every_trained_stage_at_every_layer_language_and_measure(analysed):
    rows = read_csv(analysed / "analysis" / "similarity.csv")
    assert list(rows[0]) == [
        "stage",
        "role",
        "recipe",
        "task",
        "seed",
        "layer",
        "language",
        "measure",
        "value",
        "low",
        "high",
    ]
    trained = set(json.loads((analysed / "provenance.json").read_text())["stages"])
    assert {r["stage"] for r in rows} == trained | {"base", "random_init.seed0"}
    recipes = {(r["role"], r["recipe"]) for r in rows}
    assert {
        ("target", m)
        for m in ("finetune", "finetune + multilingual", "deep_prompt", "deep_prompt + multilingual", "random_init")
    } <= recipes
    assert {("intermediate", "finetune + multilingual"), ("base", "pretrained")} <= recipes
    layers = {r["layer"] for r in rows}
    assert layers == {"0", "1", "2"}  # the tiny encoder: embeddings and two layers
    languages = {r["language"] for r in rows}
    assert languages == {"swap", "cyrl", "adjn", "sov", "sovm", "vsom", "mean"}
    by_stage = {}
    for r in rows:
        by_stage.setdefault(r["stage"], set()).add(r["measure"])
    assert by_stage["base"] == set(MEASURES)
    assert all(
        measures == set(MEASURES) | {m + "_drift" for m in MEASURES}
        for stage, measures in by_stage.items()
        if stage in trained
    )
    for r in rows:
        if r["low"]:
            assert float(r["low"]) <= float(r["value"]) + 1e-9 and float(r["value"]) <= float(r["high"]) + 1e-9


def test_drift_is_the_difference_against_the_encoder_the_stage_started_from(analysed):
    rows = read_csv(analysed / "analysis" / "similarity.csv")
    value = {(r["stage"], r["role"], r["layer"], r["language"], r["measure"]): float(r["value"]) for r in rows}
    summary = json.loads((analysed / "analysis" / "summary.json").read_text())
    for entry in summary["encoders"]:
        if entry["origin"] is None:
            continue
        key = (entry["stage"], entry["role"], "2", "swap")
        origin = value[entry["origin"], "base", "2", "swap", "cka"]
        assert value[(*key, "cka_drift")] == pytest.approx(value[(*key, "cka")] - origin, abs=2e-6)
    random_init = next(e for e in summary["encoders"] if e["recipe"] == "random_init")
    assert random_init["origin"] == "random_init.seed0"


def test_report_gains_a_representations_section_with_its_figures(analysed):
    markdown = (analysed / "report.md").read_text()
    assert 0 < markdown.index("## Representations") < markdown.index("## Provenance")
    section = markdown.split("## Representations")[1].split("## Provenance")[0]
    assert "finetune + multilingual -> synth-nli" in section
    assert "A diagnostic, not a cause" in section or "No rank correlation" in section
    figures = [line.rsplit("](", 1)[1][:-1] for line in section.splitlines() if line.startswith("![")]
    assert len(figures) == 7
    assert all((analysed / name).is_file() and name.startswith("analysis/") for name in figures)
    reading = json.loads((analysed / "analysis" / "summary.json").read_text())["reading"]
    assert {item["measure"] for item in reading["least_moved"]} == {"cos_centred", "cka"}
    assert len(reading["least_moved"][0]["recipes"]) == 4  # random_init starts elsewhere: not ranked
    for item in reading["transfer"]:
        assert -1 <= item["low"] <= item["rho"] <= item["high"] <= 1 and item["recipes"] == 4


def test_a_rerun_reads_the_cache_and_writes_the_same_numbers(analysed, monkeypatch):
    before = (analysed / "analysis" / "similarity.csv").read_bytes()

    def no_model(*args, **kwargs):
        raise AssertionError("a rerun with the same inputs must not load a model")

    monkeypatch.setattr(embed, "load_encoder", no_model)
    analyze(analysed, max_sentences=MAX, progress=False)
    assert (analysed / "analysis" / "similarity.csv").read_bytes() == before
    measured = list((cache_dir() / "analysis").glob("measures-*.npz"))
    assert measured and len(list((cache_dir() / "analysis").glob("embeddings-*.npz"))) == len(measured)
    for path in measured:  # the measures again, from the cached embeddings alone
        path.unlink()
    analyze(analysed, max_sentences=MAX, progress=False)
    assert (analysed / "analysis" / "similarity.csv").read_bytes() == before


def test_a_target_dev_oracle_is_not_analysed_as_a_recipe(study, tmp_path):
    """Its rows carry the stage hash of the recipe's own checkpoint; the analysis embeds that checkpoint only."""
    from xlt.analysis.stages import study_encoders
    from xlt.config import validate_study
    from xlt.pipeline.plan.graph import build_plan
    from xlt.pipeline.plan.resources import resolve
    from xlt.pipeline.stage.directory import mark_complete

    provenance = json.loads((study / "provenance.json").read_text())
    target = provenance["config"]["targets"][0]
    target["training"] = {**target["training"], "select": {"every": 2, "on": ["dev", "target-dev"]}}
    copy = tmp_path / "oracle"
    copy.mkdir()
    (copy / "provenance.json").write_text(json.dumps(provenance))
    config = validate_study(provenance["config"], "oracle")
    resources = resolve(config, progress=False, build=False)
    plan = build_plan(config, {**resources.identity, "mixed_precision": config.mixed_precision})
    assert any(ev.label.endswith("@target-dev") for ev in plan.evals)
    for stage_hash in plan.train:  # sealed empty: only which encoders are chosen is under test
        (copy / "stages" / stage_hash).mkdir(parents=True)
        mark_complete(copy / "stages" / stage_hash, {})
    entries = study_encoders(copy).entries
    targets = [(e.recipe, e.key) for e in entries if e.role == "target"]
    assert sorted(targets) == sorted(
        (ev.label if ev.intermediate == "none" else f"{ev.label} + {ev.intermediate}", ev.source)
        for ev in plan.evals
        if ev.source is not None and not ev.label.endswith("@target-dev")
    )
    assert {e.key for e in entries if e.role == "intermediate"} == {
        h for h, stage in plan.train.items() if stage.role == "intermediate"
    }


@pytest.fixture
def fresh_copy(study, tmp_path) -> Path:
    """The study without its analysis, to check that bad input writes nothing into it."""
    copy = tmp_path / "copy"
    shutil.copytree(study, copy, ignore=shutil.ignore_patterns("analysis"))
    return copy


def listing(directory: Path) -> dict[str, float]:
    return {str(p.relative_to(directory)): p.stat().st_mtime_ns for p in directory.rglob("*")}


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--parallel", "wikipedia"], "unknown parallel source"),
        (["--layers", "0,9"], "layers 0 (embeddings) to 2"),
        (["--layers", "last"], "give 'all' or layer numbers"),
        (["--pooling", "max"], "use one of mean, cls"),
        (["--max", "3"], "at least 8 sentences"),
        (["--parallel", "tatoeba:/no/such/dir"], "is not a directory"),
    ],
)
def test_bad_input_gets_one_line_exit_2_and_writes_nothing(fresh_copy, capsys, extra, message):
    before = listing(fresh_copy)
    code, err = run_xlt(capsys, "analyze", str(fresh_copy), *extra)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert listing(fresh_copy) == before


def test_misaligned_pair_files_are_refused(fresh_copy, tmp_path, capsys):
    (tmp_path / "en.txt").write_text("".join(f"sentence {i}\n" for i in range(10)))
    (tmp_path / "de.txt").write_text("".join(f"Satz {i}\n" for i in range(9)))
    before = listing(fresh_copy)
    pairs = f"pairs:{tmp_path / 'en.txt'},{tmp_path / 'de.txt'}"
    code, err = run_xlt(capsys, "analyze", str(fresh_copy), "--parallel", pairs)
    assert code == 2 and "has 10 lines but" in err and len(err.strip().splitlines()) == 1
    assert listing(fresh_copy) == before


def test_a_study_without_trained_stages_or_no_study_at_all_is_refused(study, tmp_path, capsys):
    untrained = tmp_path / "untrained"
    untrained.mkdir()
    shutil.copy(study / "provenance.json", untrained)
    code, err = run_xlt(capsys, "analyze", str(untrained))
    assert code == 2 and "no completed training stage" in err
    assert sorted(p.name for p in untrained.iterdir()) == ["provenance.json"]
    empty = tmp_path / "empty"
    empty.mkdir()
    code, err = run_xlt(capsys, "analyze", str(empty))
    assert code == 2 and "not a study directory" in err and not any(empty.iterdir())
    code, err = run_xlt(capsys, "analyze")
    assert code == 2 and "--model" in err


def test_a_bare_encoder_on_aligned_files(tiny_model_dir, tmp_path):
    lines = [f"word{i} and word{i + 1} ." for i in range(30)]
    (tmp_path / "en.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "xx.txt").write_text("\n".join(line.upper() for line in lines) + "\n")
    out = tmp_path / "out"
    directory = analyze(
        model=str(tiny_model_dir),
        out=out,
        parallel=f"pairs:{tmp_path / 'en.txt'},{tmp_path / 'xx.txt'}",
        layers="2",
        pooling="cls",
        progress=False,
    )
    rows = read_csv(directory / "similarity.csv")
    assert {(r["stage"], r["layer"], r["language"]) for r in rows} == {("base", "2", "xx"), ("base", "2", "mean")}
    assert "## Representations" in (out / "report.md").read_text()
    with pytest.raises(XltError, match="not a model directory"):
        analyze(model=str(tmp_path / "nothing-here"), out=tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_a_bare_encoder_on_the_tatoeba_files(tiny_model_dir, shared_dir, tmp_path):
    directory = analyze(
        model=str(tiny_model_dir),
        out=tmp_path / "tatoeba",
        parallel=f"tatoeba:{shared_dir / 'data' / 'tatoeba'}",
        layers="0,2",
        max_sentences=16,
        progress=False,
    )
    rows = read_csv(directory / "similarity.csv")
    languages = {r["language"] for r in rows}
    assert {"de", "fr", "zh", "mean"} <= languages and len(languages) > 100
    sizes = json.loads((directory / "summary.json").read_text())["source"]["sentences"]
    assert set(sizes.values()) == {16}


def test_xquad_questions_are_parallel_by_index(tiny_model_dir, shared_dir, tmp_path):
    directory = analyze(
        model=str(tiny_model_dir),
        out=tmp_path / "xquad",
        parallel=f"xquad:{shared_dir / 'data'}",
        layers="2",
        max_sentences=24,
        progress=False,
    )
    summary = json.loads((directory / "summary.json").read_text())
    assert summary["source"]["base"] == "en"
    assert set(summary["source"]["languages"]) == {"ar", "de", "el", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"}
    from xlt.analysis.sources import parallel_source
    from xlt.tasks import get_task

    source = parallel_source(f"xquad:{shared_dir / 'data'}", None, 24)
    xquad, data = get_task("xquad"), shared_dir / "data"
    first_id = {example["question"]: example["id"] for example in reversed(xquad.load("test", "en", data))}
    german = {example["id"]: example["question"] for example in xquad.load("test", "de", data)}
    # each English question pairs with the German question of the same example id
    assert list(source.texts["de"]) == [german[first_id[question]] for question in source.texts["en"]]
