"""Training curves: each stage of a section (its recipes' target stages and the stages before them) as its loss
against the step, from stages/{hash}/loss.json, smoothed, with the step `training.select` kept marked."""

from __future__ import annotations

import numpy as np

from xlt.report.plots import Line, lines_png
from xlt.report.render import Figure
from xlt.report.study import Section

SMOOTHING = 20  # the trailing mean spans 1/SMOOTHING of a stage's steps


def curves_figure(section: Section, stages: dict, losses: dict[str, list[float]]) -> Figure | None:
    """One panel per trained task (and role); None when no stage of the section has a loss curve."""
    panels: dict[str, list[Line]] = {}
    for stage_hash, label in _stage_labels(section, stages).items():
        curve = losses.get(stage_hash)
        if not curve:
            continue
        record = stages[stage_hash]
        steps, smoothed = np.arange(1, len(curve) + 1), trailing_mean(np.asarray(curve, float))
        selected = ((record.get("selection") or {}).get("dev") or {}).get("step")
        mark = (selected, smoothed[selected - 1]) if selected else None
        panels.setdefault(f"{record['task']} ({record['role']} stages)", []).append(Line(label, steps, smoothed, mark))
    if not panels:
        return None
    png = lines_png(
        list(panels.items()),
        "step",
        f"loss (trailing mean, 1/{SMOOTHING} of the steps)",
        f"{section.title}: training curves (o = step selected on dev)",
    )
    return Figure(f"curves_{section.slug}.png", png, f"training curves, {section.title}")


def trailing_mean(values: np.ndarray) -> np.ndarray:
    """Each step's mean over the last max(1, n / SMOOTHING) steps (fewer at the start)."""
    window = max(1, len(values) // SMOOTHING)
    sums = np.concatenate([[0.0], np.cumsum(values)])
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(0, ends - window)
    return (sums[ends] - sums[starts]) / (ends - starts)


def _stage_labels(section: Section, stages: dict) -> dict[str, str]:
    """The training stages behind the section's recipes, each once: a target stage by its recipe (and seed when
    the section has several), the stages before it by the recipe and their task."""
    seeds = {seed for by_seed in section.cells.values() for seed in by_seed}
    labels: dict[str, str] = {}
    for recipe, by_seed in section.cells.items():
        for seed, by_language in by_seed.items():
            stage_hash = next(iter(by_language.values())).stage_hash
            label = recipe.label + (f" seed {seed}" if len(seeds) > 1 else "")
            while stage_hash in stages and stage_hash not in labels:
                labels[stage_hash] = label
                stage_hash = stages[stage_hash].get("parent")
    return labels
