"""The rows `xlt tasks` prints: one per registered task, plain strings ready for a table."""

from __future__ import annotations

BENCHMARKS = ("xtreme", "xtreme-r")


def task_rows() -> list[dict]:
    """Tasks of XTREME / XTREME-R first, then the others (training-only, synthetic); by name within."""
    import xlt.tasks  # noqa: F401  (registers every task)
    from xlt.tasks.spec import TASKS

    specs = sorted((spec for _, spec in TASKS.items()), key=lambda spec: (not _in_benchmark(spec), spec.name))
    return [_row(spec) for spec in specs]


def _in_benchmark(spec) -> bool:
    return any(benchmark in spec.languages for benchmark in BENCHMARKS)


def _row(spec) -> dict:
    return {
        "task": spec.name,
        "kind": spec.kind,
        "metrics": ", ".join(spec.metrics),
        "averaged over": spec.averaging,
        "languages": ", ".join(f"{benchmark} {len(langs)}" for benchmark, langs in spec.languages.items()),
        "trained on": _training(spec),
        "splits": ", ".join(spec.splits),
        "hub": spec.hub or "local files only",
    }


def _training(spec) -> str:
    if spec.chain:
        return " -> ".join(spec.chain)
    if spec.train_task:
        return spec.train_task
    if "train" in spec.splits:
        count = len(spec.train_languages)
        languages = spec.train_languages[0] if count == 1 else f"{count} languages"
        return f"own train split ({languages})"
    return "nothing (zero-shot)"
