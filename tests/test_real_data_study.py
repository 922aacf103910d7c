"""A small real-data study: a tiny encoder trained on UD-POS English, scored on the test files of 11 languages."""

from __future__ import annotations

import csv

import pytest

from xlt.config import validate_study
from xlt.pipeline.run.runner import run_study

pytestmark = pytest.mark.slow  # a whole study on the release files

LANGUAGES = ["en", "mr", "te", "tl", "yo", "af", "hu", "el", "he", "ur", "ta"]  # en + the 10 smallest test sets


def udpos_model_dir(shared_dir, path):
    """A tiny random encoder with a tokenizer trained on UD-POS English training words."""
    import torch
    from transformers import XLMRobertaModel

    from conftest import tiny_config
    from xlt.data.tokenizer import train_tokenizer

    lines = (shared_dir / "data/udpos/train-en.tsv").read_text(encoding="utf-8").splitlines()
    words = (line.split("\t")[0] for line in lines[:100_000] if line)  # a quarter of the file: 2 s, not 8
    tokenizer = train_tokenizer(words, vocab_size=1000)
    torch.manual_seed(0)
    XLMRobertaModel(tiny_config(tokenizer, hidden_size=64)).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_udpos_study_on_release_files(shared_dir, tmp_path):
    study = validate_study(
        {
            "name": "udpos-tiny",
            "benchmark": "xtreme",
            "model": {"name_or_path": str(udpos_model_dir(shared_dir, tmp_path / "model"))},
            "data": {"dir": str(shared_dir / "data")},
            "methods": [{"name": "finetune", "options": {"lr": 1e-3}}],
            "targets": [
                {
                    "task": "udpos",
                    "train_languages": ["en"],
                    "eval_languages": LANGUAGES,
                    "training": {"steps": 60, "batch_size": 16, "max_length": 64, "eval_batch_size": 128},
                }
            ],
            "references": ["majority"],
            "output_dir": str(tmp_path / "study"),
        },
        "udpos-tiny",
    )
    outcome = run_study(study, progress=False)
    with open(outcome.out_dir / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    scored = {(r["method"], r["eval_language"]) for r in rows if r["metric"] == "f1"}
    assert scored == {(m, lang) for m in ("finetune", "majority") for lang in LANGUAGES}
    accuracy = {(r["method"], r["eval_language"]): float(r["value"]) for r in rows if r["metric"] == "accuracy"}
    # 60 steps on English beat the most frequent tag (NOUN) in English
    assert accuracy[("finetune", "en")] > accuracy[("majority", "en")]
    predictions = outcome.out_dir / "predictions" / "finetune.none.seed0" / "udpos"
    assert sorted(p.name for p in predictions.iterdir()) == sorted(f"test-{lang}.tsv" for lang in LANGUAGES)
