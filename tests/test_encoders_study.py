"""A study with all four methods runs to scores on a local checkpoint of every encoder family (a tiny random model
with a tokenizer of its kind trained on the embedded benchmark's text)."""

from __future__ import annotations

import csv

import pytest

from encoder_families import FAMILIES, build
from small_study import tiny_benchmark
from xlt.config import validate_study
from xlt.data.synthetic import BenchmarkSizes, generate_benchmark, pretraining_files
from xlt.errors import XltError
from xlt.pipeline.run.runner import run_study

pytestmark = pytest.mark.slow

METHODS = ("finetune", "deep_prompt", "shallow_prompt", "lora")
TRAINING = {"steps": 4, "batch_size": 8, "max_length": 48, "eval_batch_size": 32}


@pytest.fixture(scope="module")
def benchmark_text(tmp_path_factory) -> list[str]:
    settings = tiny_benchmark()["synthetic"]
    root = generate_benchmark(tmp_path_factory.mktemp("text"), settings["seed"], BenchmarkSizes(**settings["sizes"]))
    return [line for path in pretraining_files(root) for line in path.read_text(encoding="utf-8").splitlines()]


def local_checkpoint(path, family: str, lines: list[str]):
    tokenizer, backbone = build(family, lines, vocab_size=400)
    backbone.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def study(out, model, methods=METHODS) -> dict:
    return {
        "name": "families",
        "benchmark": "synthetic",
        "data": tiny_benchmark(),
        "model": {"name_or_path": str(model)},
        "methods": [
            {"name": name, "options": {"prompt_length": 4}} if "prompt" in name else {"name": name} for name in methods
        ],
        "targets": [
            {
                "task": "synth-nli",
                "train_languages": ["base"],
                "eval_languages": ["base", "cyrl"],
                "training": TRAINING,
                "head": {"pooling": "pair"},
            },
            {
                "task": "synth-pos",
                "train_languages": ["base"],
                "eval_languages": ["base", "cyrl"],
                "training": TRAINING,
            },
        ],
        "seeds": [0],
        "output_dir": str(out),
    }


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_method_scores_a_study_on_the_family(family, benchmark_text, tmp_path):
    model = local_checkpoint(tmp_path / "model", family, benchmark_text)
    outcome = run_study(validate_study(study(tmp_path / "out", model), "families"), progress=False)
    # BERT's two token types, read from the checkpoint's config, name its pair task's stages (and only theirs)
    typed = {stage.task for stage in outcome.plan.train.values() if stage.token_types}
    assert typed == ({"synth-nli"} if family == "bert" else set())
    with open(tmp_path / "out" / "results.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["primary"] == "1" and row["split"] == "test"]
    scored = {
        (row["method"], row["target_task"], row["eval_language"])
        for row in rows
        if row["method"] in METHODS and 0 <= float(row["value"]) <= 100  # the majority reference rows aside
    }
    tasks, languages = ("synth-nli", "synth-pos"), ("base", "cyrl")
    assert scored == {(m, t, lang) for m in METHODS for t in tasks for lang in languages}


def test_a_method_the_family_cannot_run_is_refused_before_anything_trains(benchmark_text, tmp_path):
    model = local_checkpoint(tmp_path / "model", "deberta-v2", benchmark_text)
    config = tmp_path / "model" / "config.json"
    config.write_text(
        config.read_text().replace('"max_position_embeddings"', '"conv_kernel_size": 3, "max_position_embeddings"')
    )
    with pytest.raises(XltError) as error:
        run_study(validate_study(study(tmp_path / "out", model), "families"), progress=False)
    assert "'deep_prompt' cannot run" in str(error.value) and "convolution" in str(error.value)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "out" / "stages").exists()
