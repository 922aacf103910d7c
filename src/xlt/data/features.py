"""Tokenised features, cached as Arrow (datasets) under a key of everything that shapes them:
the task, split and language, the data identity, the tokenizer's full definition, the kind and the
maximum length. A changed tokenizer or setting never reads a stale cache.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import datasets
from datasets import Dataset, load_from_disk

from xlt.io import stable_hash

datasets.disable_progress_bars()  # a cache write is quick; the stage's own bar is what matters


def tokenizer_fingerprint(tokenizer) -> str:
    definition = tokenizer.backend_tokenizer.to_str() if tokenizer.is_fast else repr(sorted(tokenizer.get_vocab().items()))
    return hashlib.sha256(definition.encode()).hexdigest()[:16]


def cached_features(
    kind, spec, examples: list[dict], tokenizer, max_length: int, cache_root: Path, key_parts: dict
) -> list[dict]:
    key = stable_hash({**key_parts, "task": spec.name, "kind": kind.name, "max_length": max_length,
                       "tokenizer": tokenizer_fingerprint(tokenizer), "n": len(examples)})
    path = cache_root / "features" / key
    if (path / "COMPLETED").exists():
        return load_from_disk(str(path)).to_list()
    features = kind.featurize(examples, tokenizer, spec, max_length)
    tmp = path.with_name(path.name + ".tmp")
    for stale in (tmp, path):
        shutil.rmtree(stale, ignore_errors=True)
    Dataset.from_list(features).save_to_disk(str(tmp))
    tmp.rename(path)
    (path / "COMPLETED").touch()
    return features
