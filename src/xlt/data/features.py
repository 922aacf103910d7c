"""Tokenised features, cached as Arrow (datasets) under a key of everything that shapes them:
the task, split and language, the data identity, the tokenizer's full definition, the kind, the
maximum length and the task's typed settings (`TaskSpec.settings`: QA windows). A changed
tokenizer or setting never reads a stale cache.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from datasets import Dataset, load_from_disk

from xlt.io import stable_hash


def tokenizer_fingerprint(tokenizer) -> str:
    """The tokenizer's definition. The fast backend's serialisation also holds the truncation and padding
    of its last call (a QA kind's windows set them), which are not part of the tokenizer: left out."""
    if tokenizer.is_fast:
        definition = json.loads(tokenizer.backend_tokenizer.to_str())
        definition.pop("truncation", None)
        definition.pop("padding", None)
    else:
        definition = sorted(tokenizer.get_vocab().items())
    return stable_hash(definition)


def cached_features(
    kind, spec, examples: list[dict], tokenizer, max_length: int, cache_root: Path, key_parts: dict
) -> list[dict]:
    key = stable_hash({**key_parts, "task": spec.name, "kind": kind.name, "max_length": max_length,
                       "settings": spec.settings.model_dump(mode="json"), "tokenizer": tokenizer_fingerprint(tokenizer),
                       "n": len(examples)})
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
