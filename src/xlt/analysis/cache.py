"""The analysis cache: named numpy arrays in $XLT_CACHE/analysis/{kind}-{key}.npz, each written atomically once.

Embeddings are keyed by (encoder, layers, pooling, source); measures by that key and the resampling
settings, so a rerun with the same inputs loads no model and recomputes nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np

from xlt.pipeline.plan.resources import cache_dir
from xlt.runtime.io import atomic_write_bytes


def cached_arrays(kind: str, key: str, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    path = cache_dir() / "analysis" / f"{kind}-{key}.npz"
    if path.is_file():
        with np.load(path) as stored:
            return {name: stored[name] for name in stored.files}
    arrays = compute()
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub types the keywords as allow_pickle
    atomic_write_bytes(path, buffer.getvalue())
    return arrays
