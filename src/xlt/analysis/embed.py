"""Sentence embeddings per layer, computed once per (encoder, layers, pooling, source) and cached by hash.

One model load per encoder embeds every side of the source in one pass (`xlt.analysis.cache`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console

from xlt.analysis.cache import cached_arrays
from xlt.analysis.sources import Parallel
from xlt.analysis.stages import Encoders, Encoding, load_encoder
from xlt.runtime.display import progress_bars
from xlt.runtime.io import stable_hash

CACHE_VERSION = 1  # bump when embedding code changes what a key holds
MAX_LENGTH = 128  # tokens per sentence, <s> and </s> included (longer sentences are cut)
BATCH_SIZE = 64


@dataclass(frozen=True)
class Embedded:
    vectors: dict[str, np.ndarray]  # side -> float32 (layers, sentences, hidden)
    lengths: dict[str, np.ndarray]  # side -> tokens per sentence (specials included, after truncation)


def cache_key(entry: Encoding, source: Parallel, layers: list[int], pooling: str) -> str:
    return stable_hash(
        {
            "v": CACHE_VERSION,
            "encoder": entry.cache_identity,
            "layers": layers,
            "pooling": pooling,
            "source": source.fingerprint(),
            "max_length": MAX_LENGTH,
        }
    )


def embeddings(
    entry: Encoding,
    encoders: Encoders,
    study_dir: Path | None,
    source: Parallel,
    layers: list[int],
    pooling: str,
    progress: bool = True,
) -> Embedded:
    """Every side of `source` embedded by the entry's encoder, from the cache or one pass of the encoder."""
    sides = list(source.texts)

    def compute() -> dict[str, np.ndarray]:
        encoder, tokenizer = load_encoder(entry, encoders, study_dir)
        bar = progress_bars(Console(stderr=True), progress)
        texts = [text for side in sides for text in source.texts[side]]  # one pass: full batches for every side
        with bar:
            task = bar.add_task(f"embedding with {entry.recipe} {entry.task}".strip(), total=len(texts))
            vectors, lengths = _embed(encoder, tokenizer, texts, layers, pooling, lambda n: bar.advance(task, n))
        arrays, start = {}, 0
        for i, side in enumerate(sides):
            end = start + len(source.texts[side])
            arrays[f"vectors{i}"], arrays[f"lengths{i}"] = vectors[:, start:end], lengths[start:end]
            start = end
        return arrays

    arrays = cached_arrays("embeddings", cache_key(entry, source, layers, pooling), compute)
    return Embedded(
        {side: arrays[f"vectors{i}"] for i, side in enumerate(sides)},
        {side: arrays[f"lengths{i}"] for i, side in enumerate(sides)},
    )


def _embed(
    encoder, tokenizer, texts: list[str], layers: list[int], pooling: str, advance
) -> tuple[np.ndarray, np.ndarray]:
    import torch  # here, not above: a rerun that reads the cache never loads it

    from xlt.kinds.common import encode, masked_mean, pad

    max_length = min(MAX_LENGTH, encoder.max_input_length)
    ids = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # similar lengths share a batch: less padding
    out = np.empty((len(layers), len(ids), encoder.hidden_size), dtype=np.float32)
    for start in range(0, len(order), BATCH_SIZE):
        batch = order[start : start + BATCH_SIZE]
        input_ids = pad([ids[i] for i in batch], tokenizer.pad_token_id)
        mask = pad([[1] * len(ids[i]) for i in batch], 0)
        with torch.inference_mode():
            states = encode(encoder, input_ids, mask, hidden_states=True).hidden_states
        assert states is not None  # asked for above
        for row, layer in enumerate(layers):
            hidden = states[layer]
            pooled = masked_mean(hidden, mask) if pooling == "mean" else hidden[:, 0]
            out[row, batch] = pooled.float().numpy()
        advance(len(batch))
    return out, np.array([len(row) for row in ids], dtype=np.int32)
