"""Shared, session-scoped fixtures: a tokenizer trained on the fly and tiny random XLM-R encoders.

Nothing here downloads. Fixtures are built once per session and must not be mutated by tests
(deep-copy a model before training it).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

import xlt  # noqa: F401  # before torch, as in every xlt process: torch's portable CPU kernels (xlt.runtime.machine)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Tests never touch the user's cache: one throwaway cache per session (shared by the session's tests).
os.environ["XLT_CACHE"] = tempfile.mkdtemp(prefix="xlt-test-cache-")

SHARED = Path(__file__).resolve().parents[2] / "shared"

TINY_TEXT = [
    "the quick brown fox jumps over the lazy dog .",
    "a small cat sat on the warm mat near the door .",
    "der schnelle braune fuchs springt über den faulen hund .",
    "быстрая коричневая лиса прыгает через ленивую собаку .",
    "le petit chat dort sur le tapis chaud près de la porte .",
    "numbers like 12 and 345 appear , names like Anna and Omar too !",
]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is absent")
    return SHARED


@pytest.fixture(scope="session")
def small_benchmark(tmp_path_factory) -> Path:
    """The synthetic benchmark with 12 dev and 10 test examples per language, for scoring without a study."""
    from xlt.data.synthetic import BenchmarkSizes, generate_benchmark

    sizes = BenchmarkSizes(train=10, dev=12, test=10, pretrain=100)
    return generate_benchmark(tmp_path_factory.mktemp("small-benchmark"), seed=0, sizes=sizes)


@pytest.fixture(scope="session")
def tiny_tokenizer():
    from xlt.data.tokenizer import train_tokenizer

    return train_tokenizer(TINY_TEXT * 20, vocab_size=300)


def tiny_config(tokenizer, **overrides):
    from transformers import XLMRobertaConfig

    fields = dict(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=130,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        type_vocab_size=1,
    )
    fields.update(overrides)
    return XLMRobertaConfig(**fields)


@pytest.fixture(scope="session")
def tiny_backbone(tiny_tokenizer):
    """A tiny random `XLMRobertaModel` (with pooler). Deep-copy before changing it."""
    import torch
    from transformers import XLMRobertaModel

    torch.manual_seed(0)
    return XLMRobertaModel(tiny_config(tiny_tokenizer)).eval()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_tokenizer, tiny_backbone):
    """The tiny encoder and tokenizer saved as a local "checkpoint" (safetensors), as from the Hub."""
    path = tmp_path_factory.mktemp("tiny-xlmr")
    tiny_backbone.save_pretrained(path)
    tiny_tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def quick_demo(tmp_path_factory) -> Path:
    """`xlt demo --quick` run once per session, as a user runs it (its default output, runs/demo-quick, under a
    fresh working directory); returns the study directory. Tests must not change it."""
    import subprocess
    import sys

    cwd = tmp_path_factory.mktemp("demo-cwd")
    result = subprocess.run(
        [sys.executable, "-m", "xlt", "demo", "--quick"], cwd=cwd, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (cwd / "stderr.txt").write_text(result.stderr)  # what the user saw, for tests of the console output
    return cwd / "runs" / "demo-quick"
