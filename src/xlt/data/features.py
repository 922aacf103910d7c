"""Tokenised features, cached as Arrow (datasets) under a key of everything that shapes them:
the task, split and language, the data identity, the tokenizer's full definition, the kind, the
maximum length, the task's typed settings (`TaskSpec.settings`: QA windows) and whether the encoder embeds
token types. A changed tokenizer or setting never reads a stale cache.

Kinds give a pair's token types (`token_type_ids` and `candidate_token_type_ids`: the tokenizer's own); they are
kept only for an encoder that embeds them (`Encoder.token_types`: BERT's), so the features of any other encoder
cost nothing more and are those made before token types were carried.

An entry is written to a temporary folder, sealed (`xlt.runtime.integrity`) and renamed into place, so readers
(and concurrent runs featurising the same data) see a whole entry or none; a damaged one is made again.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from datasets import Dataset, load_from_disk

from xlt.kinds.common import TOKEN_TYPES
from xlt.runtime import integrity
from xlt.runtime.io import make_dirs, stable_hash


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
    kind,
    spec,
    examples: list[dict],
    tokenizer,
    max_length: int,
    cache_root: Path,
    key_parts: dict,
    token_types: bool = False,
) -> list[dict]:
    parts = {
        **key_parts,
        "task": spec.name,
        "kind": kind.name,
        "max_length": max_length,
        "settings": spec.settings.model_dump(mode="json"),
        "tokenizer": tokenizer_fingerprint(tokenizer),
        "n": len(examples),
    }
    key = stable_hash({**parts, "token_types": True} if token_types else parts)  # others keep their entries
    path = cache_root / "features" / key
    if integrity.is_complete(path):
        return load_from_disk(str(path)).to_list()
    features = kind.featurize(examples, tokenizer, spec, max_length)
    if not token_types:
        features = [{k: v for k, v in feature.items() if not k.endswith(TOKEN_TYPES)} for feature in features]
    _publish(Dataset.from_list(features), path)
    return features


def _publish(dataset: Dataset, path: Path) -> None:
    """Write into a private directory, seal it, then rename it into place: processes featurising the same
    split at once (cluster jobs) never see or remove each other's half-written files; the first rename wins."""
    make_dirs(path.parent)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.tmp-"))
    try:
        dataset.save_to_disk(str(tmp))
        integrity.seal(tmp)
        if path.exists() and not integrity.is_complete(path):
            shutil.rmtree(path, ignore_errors=True)  # damaged, or left unsealed by an older version or a crash
        try:
            os.rename(tmp, path)
        except OSError:
            if not integrity.is_complete(path):  # not another process's complete copy: a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
