"""Training curves: each stage of a section (its recipes' target stages and the stages before them) as its loss
against the step, from stages/{hash}/loss.json, smoothed, with the step `training.select` kept marked (when it kept
one), in the recipe's colour and the seed's line style."""

from __future__ import annotations

import numpy as np

from xlt.report.figures.plots import STYLES, Line, lines_png
from xlt.report.render import Figure
from xlt.report.study import Recipe, Section

SMOOTHING = 20  # the trailing mean spans 1/SMOOTHING of a stage's steps


def curves_figure(
    section: Section, stages: dict, losses: dict[str, list[float]], colours: dict[str, str]
) -> Figure | None:
    """One panel per trained task (and role), a colour per recipe (`colours`) and a line style per seed; None when
    no stage of the section has a loss curve."""
    panels: dict[str, list[Line]] = {}
    seeds = sorted({seed for by_seed in section.cells.values() for seed in by_seed}, key=lambda s: (len(s), s))
    styles = {seed: STYLES[i % len(STYLES)] for i, seed in enumerate(seeds)}
    selected_any = False
    for stage_hash, (recipe, seed) in _stage_labels(section, stages).items():
        curve = losses.get(stage_hash)
        if not curve:
            continue
        record = stages[stage_hash]
        steps, smoothed = np.arange(1, len(curve) + 1), trailing_mean(np.asarray(curve, float))
        selected = ((record.get("selection") or {}).get("dev") or {}).get("step")
        mark = (selected, smoothed[selected - 1]) if selected else None
        selected_any |= mark is not None
        line = Line(recipe.label, steps, smoothed, colours[recipe.label], styles[seed], mark=mark)
        panels.setdefault(f"{record['task']} ({record['role']} stages)", []).append(line)
    if not panels:
        return None
    png = lines_png(
        list(panels.items()),
        "step",
        f"loss (trailing mean, 1/{SMOOTHING} of the steps)",
        f"{section.title}: training loss" + (" (o = step selected on dev)" if selected_any else ""),
        styles={f"seed {seed}": style for seed, style in styles.items()} if len(seeds) > 1 else None,
    )
    alt = (
        f"training curves, {section.title}: the smoothed training loss against the step of each stage behind its "
        f"recipes, one panel per task and role ({'; '.join(panels)})"
    )
    return Figure(f"curves_{section.slug}.png", png, alt)


def trailing_mean(values: np.ndarray) -> np.ndarray:
    """Each step's mean over the last max(1, n / SMOOTHING) steps (fewer at the start)."""
    window = max(1, len(values) // SMOOTHING)
    sums = np.concatenate([[0.0], np.cumsum(values)])
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(0, ends - window)
    return (sums[ends] - sums[starts]) / (ends - starts)


def _stage_labels(section: Section, stages: dict) -> dict[str, tuple[Recipe, str]]:
    """The training stages behind the section's recipes, each once, with the recipe and seed it is drawn as: a
    target stage its recipe's, the stages before it the first recipe's that uses them."""
    labels: dict[str, tuple[Recipe, str]] = {}
    for recipe, by_seed in section.cells.items():
        for seed, by_language in by_seed.items():
            stage_hash = next(iter(by_language.values())).stage_hash
            while stage_hash in stages and stage_hash not in labels:
                labels[stage_hash] = (recipe, seed)
                stage_hash = stages[stage_hash].get("parent")
    return labels
