"""The analysis sees alignment where pretraining made it and none where there is none.

A short masked-LM pretraining on two synthetic languages (the base one and its vocabulary swap, which
share no word) aligns them a little; the same architecture freshly initialised does not. Translation
pairs must score above length-matched random pairs after centring for the first and not for the second.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from xlt.analysis.run import analyze
from xlt.data.synthetic import BenchmarkSizes, generate_benchmark
from xlt.pretrain import PretrainOptions, pretrain

pytestmark = pytest.mark.slow
# The cheapest budget measured to separate the two: 400 steps of a 2-layer encoder (the demo's other
# options), about 0.8M tokens; the centred-cosine gap was +0.06 [+0.04, +0.09] against +0.01 [-0.00, +0.03].
OPTIONS = PretrainOptions(layers=2, batch_size=32, lr=3e-3, warmup_steps=100, max_steps=400, log_every=50)


@pytest.fixture(scope="module")
def encoders(tmp_path_factory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("aligned")
    bench = generate_benchmark(root / "bench", seed=0,
                               sizes=BenchmarkSizes(train=10, dev=10, test=10, pretrain=10000))
    pretrained = pretrain([bench / "text" / "base.txt", bench / "text" / "swap.txt"], root / "pretrained", OPTIONS,
                          progress=False)
    import torch
    from transformers import AutoModel, AutoTokenizer, XLMRobertaModel

    torch.manual_seed(0)
    random_init = XLMRobertaModel(AutoModel.from_pretrained(pretrained).config)
    random_init.save_pretrained(root / "random_init")
    AutoTokenizer.from_pretrained(pretrained).save_pretrained(root / "random_init")
    return bench, pretrained, root / "random_init"


def centred_gap(model: Path, bench: Path, out: Path) -> tuple[float, float, float]:
    directory = analyze(model=str(model), out=out, parallel=f"synthetic:{bench}", layers="2", max_sentences=300,
                        progress=False)
    with open(directory / "similarity.csv", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["language"] == "swap" and r["measure"] == "cos_centred_gap")
    return float(row["value"]), float(row["low"]), float(row["high"])


def test_translation_pairs_beat_random_pairs_on_a_pretrained_encoder_and_not_on_a_random_one(encoders, tmp_path):
    bench, pretrained, random_init = encoders
    value, low, _ = centred_gap(pretrained, bench, tmp_path / "pretrained")
    assert low > 0.02 and value > 0.04
    random_value, random_low, _ = centred_gap(random_init, bench, tmp_path / "random")
    assert abs(random_value) < 0.03 and random_low < 0.01  # no more than length-matched random pairs
    assert value - random_value > 0.03
