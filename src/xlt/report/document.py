"""The report's content, in order: an overview, then per section its tables and heat maps, then provenance."""

from __future__ import annotations

import numpy as np

from xlt.report.plots import heatmap_png
from xlt.report.render import Block, Figure, Heading, Paragraph
from xlt.report.stats import BOOTSTRAP_REPLICATES, BOOTSTRAP_SEED, Summary
from xlt.report.tables import (
    gain_table,
    language_header,
    language_table,
    provenance_tables,
    score_table,
)


def report_blocks(title: str, summaries: list[Summary], languages: dict | None,
                  provenance: dict | None) -> list[Block]:
    seeds = list(dict.fromkeys(s for summary in summaries for per in summary.section.cells.values() for s in per))
    blocks: list[Block] = [
        Heading(title, 1),
        Paragraph(
            f"{len(summaries)} section(s) of primary-metric scores; seeds in the results: {', '.join(seeds)}. "
            f"Intervals: {BOOTSTRAP_REPLICATES} paired bootstrap replicates over test examples "
            f"(numpy seed {BOOTSTRAP_SEED}), 2.5th to 97.5th percentile."
        ),
    ]
    for summary in summaries:
        blocks += section_blocks(summary, languages)
    if provenance is not None:
        blocks += [Heading("Provenance"), *provenance_tables(provenance)]
    return blocks


def section_blocks(summary: Summary, languages: dict | None) -> list[Block]:
    section = summary.section
    blocks: list[Block] = [Heading(section.title), Heading("Scores", 3), score_table(summary)]
    described = language_table(languages, section.languages) if languages else None
    if described is not None:
        blocks.append(described)
    blocks.append(_score_figure(summary))
    gains = gain_table(summary)
    if gains is not None:
        blocks += [Heading("Gains over the baseline", 3), gains, _gain_figure(summary)]
    return blocks


def _score_figure(summary: Summary) -> Figure:
    section = summary.section
    values = np.array(
        [[summary.scores[r].get(lang, np.nan) for lang in section.languages] + [_or_nan(summary.average[r])]
         for r in section.recipes]
    )
    labels = [["" if np.isnan(v) else f"{v:.1f}" for v in row] for row in values]
    png = heatmap_png(values, labels, [r.label for r in section.recipes], [*language_header(summary), "avg"],
                      f"{section.title}: scores")
    return Figure(f"heatmap_scores_{section.slug}.png", png, f"scores, {section.title}")


def _gain_figure(summary: Summary) -> Figure:
    section = summary.section
    gains = [[row.by_language.get(lang) for lang in section.languages] + [row.average] for row in summary.gains]
    values = np.array([[np.nan if g is None else g.value for g in row] for row in gains])
    # The cell says the value and marks significance; the interval itself is in the table.
    labels = [["" if g is None else f"{g.value:+.1f}{'*' if g.significant else ''}" for g in row] for row in gains]
    title = f"{section.title}: gain over baseline (* = 95% CI excludes 0)"
    png = heatmap_png(values, labels, [row.recipe.label for row in summary.gains],
                      [*language_header(summary), "avg"], title, diverging=True)
    return Figure(f"heatmap_gains_{section.slug}.png", png, f"gains, {section.title}")


def _or_nan(value: float | None) -> float:
    return np.nan if value is None else value
