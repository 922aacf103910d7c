"""`xlt analyze`: check every input, embed with each encoder (or read the cache), write analysis/ and the report.

Inputs are all checked before anything is embedded or written, so bad input leaves no trace.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

from xlt.analysis.embed import cache_key, embeddings
from xlt.analysis.reading import reading
from xlt.analysis.similarity import COLUMNS, LEVEL, REPLICATES, SEED, cached_draws, similarity_rows
from xlt.analysis.sources import parallel_source
from xlt.analysis.stages import Encoders, model_encoders, study_encoders
from xlt.errors import XltError
from xlt.runtime.io import atomic_write_csv, atomic_write_json

POOLINGS = ("mean", "cls")
ANALYSIS = "analysis"


def analyze(
    study_dir: Path | None = None,
    model: str | None = None,
    out: Path | None = None,
    parallel: str | None = None,
    layers: str = "all",
    pooling: str = "mean",
    max_sentences: int = 1000,
    progress: bool = True,
) -> Path:
    """Write {study_dir or out}/analysis/similarity.csv and summary.json, then the report; returns analysis/."""
    if (study_dir is None) == (model is None):
        raise XltError("give a study directory or --model PATH_OR_HUB_ID (one of the two)")
    if pooling not in POOLINGS:
        raise XltError(f"--pooling {pooling}: use one of {', '.join(POOLINGS)}")
    if study_dir is not None:
        encoders, root = study_encoders(study_dir), Path(study_dir)
    else:
        model = str(model)  # given: checked above
        encoders, root = model_encoders(model), Path(out or Path("runs") / f"analyze-{_slug(model)}")
    source = parallel_source(parallel, encoders.resources.data_dir, max_sentences)
    chosen = parse_layers(layers, encoders.depth)

    draws = {}
    for entry in encoders.entries:
        if entry.key not in draws:
            embed = partial(embeddings, entry, encoders, study_dir, source, chosen, pooling, progress)
            draws[entry.key] = cached_draws(cache_key(entry, source, chosen, pooling), source, chosen, embed)
    rows = [
        row
        for entry in encoders.entries
        for row in similarity_rows(entry, draws[entry.key], draws[entry.origin] if entry.origin else None)
    ]
    analysis_dir = root / ANALYSIS
    atomic_write_csv(analysis_dir / "similarity.csv", COLUMNS, rows)
    summary = _summary(encoders, source, chosen, pooling)
    summary["reading"] = reading(encoders.entries, draws, chosen[-1], study_dir)
    atomic_write_json(analysis_dir / "summary.json", summary)
    _write_report(root, study_dir is not None)
    return analysis_dir


def parse_layers(text: str, depth: int) -> list[int]:
    """ "all" or comma-separated hidden-state indices: 0 = the embeddings, `depth` = the last layer."""
    if text.strip() == "all":
        return list(range(depth + 1))
    try:
        chosen = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise XltError(f"--layers {text}: give 'all' or layer numbers such as 0,{depth}") from None
    outside = [layer for layer in chosen if not 0 <= layer <= depth]
    if outside or not chosen:
        raise XltError(f"--layers {text}: this encoder has layers 0 (embeddings) to {depth}")
    return chosen


def _summary(encoders: Encoders, source, layers: list[int], pooling: str) -> dict:
    return {
        "source": {
            "name": source.name,
            "base": source.base,
            "languages": source.languages,
            "sentences": source.sizes(),
            "shared_base": source.shared_base,
        },
        "layers": layers,
        "pooling": pooling,
        "resampling": {
            "scheme": "half-samples without replacement",
            "replicates": REPLICATES,
            "seed": SEED,
            "level": LEVEL,
        },
        "encoders": [
            {"stage": e.key, "role": e.role, "recipe": e.recipe, "task": e.task, "seed": e.seed, "origin": e.origin}
            for e in encoders.entries
        ],
        "skipped": encoders.skipped,
    }


def _write_report(root: Path, is_study: bool) -> None:
    from xlt.report import build_report
    from xlt.report.representations import write_standalone

    if is_study:
        build_report(root)
    else:
        write_standalone(root)


def _slug(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(model).name or model).strip("-") or "model"
