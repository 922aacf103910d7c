"""The report's content, in order: the answer to the study's question (with, for a target trained per source
language, how many language pairs its gain holds in) and one table of every contrast, then the language pairs
(`xlt.report.pairs`), then per section its scores, language table, heat maps, training curves, contrast tables and
transfer against distance, the examples (with `--examples`), the representation analysis (if any), the published
numbers beside this run's, and provenance. Degenerate recipes are marked in every table and heat map."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from xlt.report.comparisons import ContrastTable
from xlt.report.examples import DEGENERATE_MARK, NO_MARKS, Degenerate
from xlt.report.figures.curves import curves_figure
from xlt.report.figures.distance import distance_blocks
from xlt.report.figures.plots import heatmap_png, recipe_colours
from xlt.report.pairs import PairStudy, pair_blocks, replicability_sentence
from xlt.report.render import Block, Figure, Heading, Paragraph, Table
from xlt.report.stats import BOOTSTRAP_SEED, Summary
from xlt.report.study import SideFiles
from xlt.report.summary import answer, contrast_summary, question_tables
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
    degenerate: Degenerate = NO_MARKS,
    examples: list[Block] | None = None,
    pairs: Sequence[PairStudy] = (),
) -> list[Block]:
    seeds = list(dict.fromkeys(s for summary in summaries for per in summary.section.cells.values() for s in per))
    tables = [table for summary in summaries for table in contrasts[summary.section.slug]]
    blocks: list[Block] = [Heading(title, 1)]
    replicated = [replicability_sentence(study, contrast) for study in pairs for contrast in study.contrasts]
    if tables:  # the answer first: the question, its answer per method, and every contrast in one table
        said = [*answer(question_tables(tables), degenerate), *replicated]
        blocks += [Heading("Answer"), *(Paragraph(text) for text in said)]
        blocks += [Heading("Contrasts"), contrast_summary(tables, degenerate)]
    blocks.append(
        Paragraph(
            f"{len(summaries)} section(s) of primary-metric scores; seeds in the results: {', '.join(seeds)}. "
            f"Contrasts are recipe a minus recipe b in points; each table's caption says what its intervals cover "
            f"(bootstrap numpy seed {BOOTSTRAP_SEED})."
        )
    )
    blocks += pair_blocks(list(pairs), side.distances)
    colours = recipe_colours([recipe.label for summary in summaries for recipe in summary.section.recipes])
    for summary in summaries:
        blocks += section_blocks(summary, contrasts[summary.section.slug], side, colours, degenerate)
    blocks += examples or []  # `xlt report --examples N`
    blocks += representations  # `xlt analyze`'s section, when the study has been analysed
    if published is not None:
        blocks += [Heading("Published numbers and this run"), published]
    if side.provenance is not None:
        blocks += [Heading("Provenance"), *provenance_tables(side.provenance)]
    return blocks


def section_blocks(
    summary: Summary, tables: list[ContrastTable], side: SideFiles, colours: dict[str, str], degenerate: Degenerate
) -> list[Block]:
    section = summary.section
    blocks: list[Block] = [Heading(section.title), Heading("Scores", 3), score_table(summary, degenerate)]
    described = language_table(side.languages, section.languages) if side.languages else None
    if described is not None:
        blocks.append(described)
    blocks.append(_score_figure(summary, degenerate))
    curves = curves_figure(section, side.stages, side.losses, colours)
    if curves is not None:
        blocks += [Heading("Training curves", 3), curves]
    if tables:
        blocks.append(Heading("Contrasts", 3))
        for table in tables:
            blocks += [Heading(table.comparison.title, 4), contrast_table(table, degenerate)]
        blocks.append(_contrast_figure(summary, tables, degenerate))
    distance = distance_blocks(summary, tables, side.distances, colours)
    if distance:
        blocks += [Heading("Transfer vs distance", 3), *distance]
    return blocks


def _score_figure(summary: Summary, degenerate: Degenerate) -> Figure:
    section = summary.section
    values = np.array(
        [
            [summary.scores[r].get(lang, np.nan) for lang in section.languages] + [_or_nan(summary.average[r])]
            for r in section.recipes
        ]
    )
    labels = [
        [
            "" if np.isnan(v) else f"{v:.1f}{degenerate.mark(section, r, lang)}"
            for v, lang in zip(row, [*section.languages, ""])
        ]
        for r, row in zip(section.recipes, values)
    ]
    title = f"{section.title}: scores" + (f" ({DEGENERATE_MARK} = degenerate)" if degenerate else "")
    png = heatmap_png(values, labels, [r.label for r in section.recipes], [*language_header(summary), "avg"], title)
    alt = (
        f"scores, {section.title}: a heat map of each recipe's mean score (rows) in each language and on average "
        "(columns), the number in each cell"
    )
    return Figure(f"heatmap_scores_{section.slug}.png", png, alt)


def _contrast_figure(summary: Summary, tables: list[ContrastTable], degenerate: Degenerate) -> Figure:
    section = summary.section
    cells = [
        [{row.language: row for row in table.languages}.get(lang) for lang in section.languages]
        + [table.overall if table.averages else None]
        for table in tables
    ]
    values = np.array([[np.nan if row is None else row.difference for row in line] for line in cells])
    # The cell says the difference and marks adjusted significance (and a degenerate recipe); the interval is in
    # the table.
    labels = [
        [
            ""
            if row is None
            else f"{row.difference:+.1f}{'*' if row.significant else ''}{_pair_mark(table, row.language, degenerate)}"
            for row in line
        ]
        for table, line in zip(tables, cells)
    ]
    title = f"{section.title}: a - b (* = significant after adjustment" + (
        f"; {DEGENERATE_MARK} = a or b degenerate)" if degenerate else ")"
    )
    png = heatmap_png(
        values,
        labels,
        [table.comparison.title for table in tables],
        [*language_header(summary), "avg"],
        title,
        diverging=True,
    )
    alt = (
        f"contrasts, {section.title}: a heat map of each contrast's difference a - b (rows) in each language and on "
        "average (columns), red below zero and blue above, the number in each cell"
    )
    return Figure(f"heatmap_contrasts_{section.slug}.png", png, alt)


def _pair_mark(table: ContrastTable, language: str, degenerate: Degenerate) -> str:
    recipes = (table.comparison.a, table.comparison.b)
    return DEGENERATE_MARK if any(degenerate.marked(table.section, recipe, language) for recipe in recipes) else ""


def _or_nan(value: float | None) -> float:
    return np.nan if value is None else value
