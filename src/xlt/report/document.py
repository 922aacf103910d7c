"""The report's content, in order: the answer (one sentence per contrast), then per section its scores, language
table, heat maps, training curves, contrast tables and transfer against distance (after the language pairs
when a target was trained per source language, `xlt.report.pairs`), the representation analysis (if
any), the published numbers beside this run's, and provenance."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from xlt.report.comparisons import ContrastTable
from xlt.report.curves import curves_figure
from xlt.report.distance import distance_blocks
from xlt.report.pairs import PairStudy, pair_blocks, replicability_sentence
from xlt.report.plots import heatmap_png
from xlt.report.render import Block, Figure, Heading, Paragraph, Table
from xlt.report.stats import BOOTSTRAP_SEED, Summary
from xlt.report.study import SideFiles
from xlt.report.summary import sentence
from xlt.report.tables import (
    contrast_table,
    language_header,
    language_table,
    provenance_tables,
    score_table,
)


def report_blocks(
    title: str,
    summaries: list[Summary],
    contrasts: dict[str, list[ContrastTable]],
    side: SideFiles,
    published: Table | None,
    representations: list[Block],
    pairs: Sequence[PairStudy] = (),
) -> list[Block]:
    seeds = list(dict.fromkeys(s for summary in summaries for per in summary.section.cells.values() for s in per))
    blocks: list[Block] = [
        Heading(title, 1),
        Paragraph(
            f"{len(summaries)} section(s) of primary-metric scores; seeds in the results: {', '.join(seeds)}. "
            f"Contrasts are recipe a minus recipe b in points; each table's caption says what its intervals cover "
            f"(bootstrap numpy seed {BOOTSTRAP_SEED})."
        ),
    ]
    answers = [sentence(table) for summary in summaries for table in contrasts[summary.section.slug]]
    answers += [replicability_sentence(study, pc) for study in pairs for pc in study.contrasts]
    if answers:
        blocks += [Heading("Summary"), *(Paragraph(text) for text in answers)]
    blocks += pair_blocks(list(pairs), side.distances)
    for summary in summaries:
        blocks += section_blocks(summary, contrasts[summary.section.slug], side)
    blocks += representations  # `xlt analyze`'s section, when the study has been analysed
    if published is not None:
        blocks += [Heading("Published numbers and this run"), published]
    if side.provenance is not None:
        blocks += [Heading("Provenance"), *provenance_tables(side.provenance)]
    return blocks


def section_blocks(summary: Summary, tables: list[ContrastTable], side: SideFiles) -> list[Block]:
    section = summary.section
    blocks: list[Block] = [Heading(section.title), Heading("Scores", 3), score_table(summary)]
    described = language_table(side.languages, section.languages) if side.languages else None
    if described is not None:
        blocks.append(described)
    blocks.append(_score_figure(summary))
    curves = curves_figure(section, side.stages, side.losses)
    if curves is not None:
        blocks += [Heading("Training curves", 3), curves]
    if tables:
        blocks.append(Heading("Contrasts", 3))
        for table in tables:
            blocks += [Heading(table.comparison.title, 4), contrast_table(table)]
        blocks.append(_contrast_figure(summary, tables))
    distance = distance_blocks(summary, tables, side.distances)
    if distance:
        blocks += [Heading("Transfer vs distance", 3), *distance]
    return blocks


def _score_figure(summary: Summary) -> Figure:
    section = summary.section
    values = np.array(
        [
            [summary.scores[r].get(lang, np.nan) for lang in section.languages] + [_or_nan(summary.average[r])]
            for r in section.recipes
        ]
    )
    labels = [["" if np.isnan(v) else f"{v:.1f}" for v in row] for row in values]
    png = heatmap_png(
        values,
        labels,
        [r.label for r in section.recipes],
        [*language_header(summary), "avg"],
        f"{section.title}: scores",
    )
    return Figure(f"heatmap_scores_{section.slug}.png", png, f"scores, {section.title}")


def _contrast_figure(summary: Summary, tables: list[ContrastTable]) -> Figure:
    section = summary.section
    cells = [
        [{row.language: row for row in table.languages}.get(lang) for lang in section.languages]
        + [table.overall if table.averages else None]
        for table in tables
    ]
    values = np.array([[np.nan if row is None else row.difference for row in line] for line in cells])
    # The cell says the difference and marks adjusted significance; the interval is in the table.
    labels = [
        ["" if row is None else f"{row.difference:+.1f}{'*' if row.significant else ''}" for row in line]
        for line in cells
    ]
    title = f"{section.title}: a - b (* = significant after adjustment)"
    png = heatmap_png(
        values,
        labels,
        [table.comparison.title for table in tables],
        [*language_header(summary), "avg"],
        title,
        diverging=True,
    )
    return Figure(f"heatmap_contrasts_{section.slug}.png", png, f"contrasts, {section.title}")


def _or_nan(value: float | None) -> float:
    return np.nan if value is None else value
