"""Language pairs: a study whose target was trained once per source language (`targets[].sources`) read as a source x
target matrix, per recipe (scores) and per contrast (differences with their seed-aware intervals).

The pair matrix is assembled from the per-source sections (task, one training language, metric): each source's
section already holds every target language's scores and each contrast's per-language rows (`xlt.report.comparisons`),
so a cell here is the row of contrasts.csv with that source as train_languages. What the matrix adds:

- the family: a contrast's transfer pairs (source != target) are one family, adjusted by the study's multiplicity
  method (`p_pairs` in contrasts.csv); the in-language cells (source == target) are shown in brackets, outside it;
- replicability: the number of transfer pairs in which a beats b, and in which b beats a, each a lower bound from
  `xlt.report.contrasts.replicability_bound` at alpha / 2, so that both claims together keep the family-wise error
  at alpha;
- transfer against the distance of source and target (distances.json), over the pairs, with Spearman's rank
  correlation; its interval resamples pairs, which share sources and targets, so it is a rough guide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from xlt.report.comparisons import ContrastTable, Row
from xlt.report.contrasts import ALPHA, MULTIPLICITY, REPLICABILITY, adjust, one_sided, replicability_bound
from xlt.report.figures.distance import MIN_LANGUAGES, spearman_interval
from xlt.report.figures.plots import ANNOTATED_COLUMNS, heatmap_png
from xlt.report.render import Block, Figure, Heading, Paragraph, Table
from xlt.report.stats import Summary
from xlt.report.study import Recipe

MIN_SOURCES = 2  # one source is the ordinary one-row study
# Resamples of the distance correlation over pairs: with hundreds of pairs rho's bootstrap spread is a few
# hundredths, and 2,000 resamples put the percentiles' Monte-Carlo error near 0.002, under the two decimals shown
# (the per-language sections' 10,000 resample tens of points, not a thousand pairs per series).
PAIR_REPLICATES = 2000


@dataclass(frozen=True)
class PairCell:
    source: str
    target: str
    row: Row  # the source's contrast table row for the target
    p_pairs: float | None  # adjusted within the contrast's transfer pairs; None in-language or without interval

    @property
    def transfer(self) -> bool:
        return self.source != self.target

    @property
    def significant(self) -> bool:
        return self.p_pairs is not None and self.p_pairs < ALPHA


@dataclass(frozen=True)
class PairContrast:
    a: Recipe
    b: Recipe
    tables: dict[str, ContrastTable]  # per source
    cells: list[PairCell]
    gains: int  # pairs in which a - b > 0 holds (lower bound, family-wise error alpha / 2)
    losses: int  # pairs in which a - b < 0 holds (the same)
    tested: int  # transfer pairs with an interval

    @property
    def title(self) -> str:
        return f"{self.a.label} vs {self.b.label}"

    def cell(self, source: str, target: str) -> PairCell | None:
        return next((c for c in self.cells if c.source == source and c.target == target), None)


@dataclass(frozen=True)
class PairStudy:
    task: str
    metric: str
    sources: list[str]
    targets: list[str]  # the sources first, then the other languages in results order
    summaries: dict[str, Summary]  # per source
    contrasts: list[PairContrast]
    method: str  # multiplicity adjustment

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]", "-", f"{self.task}_{self.metric}")

    @property
    def recipes(self) -> list[Recipe]:
        return list(dict.fromkeys(r for summary in self.summaries.values() for r in summary.section.recipes))


def pair_studies(summaries: list[Summary], contrasts: dict[str, list[ContrastTable]], method: str) -> list[PairStudy]:
    """One pair study per task and metric trained on at least two single languages (sections' order)."""
    groups: dict[tuple[str, str, str], dict[str, Summary]] = {}
    for summary in summaries:
        section = summary.section
        if len(section.train_languages) == 1:
            key = (section.task, section.split, section.metric)
            groups.setdefault(key, {})[section.train_languages[0]] = summary
    studies = []
    for (task, _, metric), by_source in groups.items():
        if len(by_source) < MIN_SOURCES:
            continue
        sources = list(by_source)
        others = [lang for s in by_source.values() for lang in s.section.languages if lang not in sources]
        targets = sources + list(dict.fromkeys(others))
        tables = {source: contrasts[summary.section.slug] for source, summary in by_source.items()}
        studies.append(PairStudy(task, metric, sources, targets, by_source, _pair_contrasts(tables, method), method))
    return studies


def _pair_contrasts(tables: dict[str, list[ContrastTable]], method: str) -> list[PairContrast]:
    """Each comparison found in any source's tables, in first-seen order, over the sources that ran it."""
    titles = list(dict.fromkeys(t.comparison.title for per_source in tables.values() for t in per_source))
    found = []
    for title in titles:
        per_source = {
            source: table for source, per in tables.items() for table in per if table.comparison.title == title
        }
        found.append(_pair_contrast(per_source, method))
    return found


def _pair_contrast(tables: dict[str, ContrastTable], method: str) -> PairContrast:
    rows = [(source, row) for source, table in tables.items() for row in table.languages]
    family = [i for i, (source, row) in enumerate(rows) if source != row.language and row.contrast is not None]
    contrasts = [c for i in family if (c := rows[i][1].contrast) is not None]
    adjusted = dict(zip(family, adjust([c.p_value for c in contrasts], method).tolist() if family else []))
    cells = [PairCell(source, row.language, row, adjusted.get(i)) for i, (source, row) in enumerate(rows)]
    gains, losses = (
        replicability_bound([one_sided(c, direction) for c in contrasts], ALPHA / 2) for direction in (1, -1)
    )
    first = next(iter(tables.values())).comparison
    return PairContrast(first.a, first.b, tables, cells, gains, losses, len(contrasts))


def pair_p_values(studies: list[PairStudy]) -> dict[tuple[str, str, str, str, str], float]:
    """(a, b, task, source, target) -> the p-value adjusted within the contrast's transfer pairs (contrasts.csv's
    p_pairs)."""
    return {
        (pc.a.label, pc.b.label, study.task, cell.source, cell.target): cell.p_pairs
        for study in studies
        for pc in study.contrasts
        for cell in pc.cells
        if cell.p_pairs is not None
    }


def replicability_sentence(study: PairStudy, pc: PairContrast) -> str:
    """ "a vs b on task: a's gain holds in at least K of N pairs (95%) ..." for the report's summary."""
    if pc.tested == 0:
        return f"{pc.title} on {study.task} ({study.metric}): no pair has an interval (units missing)."
    return (
        f"{pc.title} on {study.task} ({study.metric}), across {len(study.sources)} sources "
        f"({', '.join(study.sources)}): {pc.a.label}'s gain holds in at least {pc.gains} of {pc.tested} "
        f"language pairs (95%), and its loss in at least {pc.losses} of {pc.tested} "
        f"({REPLICABILITY.split(' with ')[0]}, family-wise error 5% over both counts)."
    )


def pair_blocks(studies: list[PairStudy], distances: dict | None) -> list[Block]:
    blocks: list[Block] = []
    for study in studies:
        blocks += [
            Heading(f"Language pairs: {study.task} ({study.metric})"),
            Paragraph(
                f"{len(study.sources)} sources ({', '.join(study.sources)}), each trained on its language alone, "
                f"x {len(study.targets)} evaluated languages. Transfer pairs are source != target; the in-language "
                "cells are shown in brackets."
            ),
            Heading("Scores", 3),
            *(_score_figure(study, recipe) for recipe in study.recipes),
        ]
        if study.contrasts:
            blocks += [Heading("Contrasts across pairs", 3), _replicability_table(study)]
            for pc in study.contrasts:
                blocks += [Heading(pc.title, 4), _contrast_figure(study, pc), _source_table(study, pc)]
        distance = _distance_table(study, distances)
        if distance is not None:
            blocks += [Heading("Transfer vs distance of source and target", 3), distance]
    return blocks


def _matrix(study: PairStudy, value) -> tuple[np.ndarray, list[list[str]]]:
    """Sources x targets of value(source, target) -> (number, label) or None."""
    cells = [[value(source, target) for target in study.targets] for source in study.sources]
    values = np.array([[np.nan if c is None else c[0] for c in row] for row in cells], float)
    labels = [["" if c is None else c[1] for c in row] for row in cells]
    return values, labels


def _bracketed(label: str, source: str, target: str) -> str:
    return f"({label})" if source == target else label


def _score_figure(study: PairStudy, recipe: Recipe) -> Figure:
    def score(source: str, target: str) -> tuple[float, str] | None:
        value = study.summaries[source].scores.get(recipe, {}).get(target)
        return None if value is None else (value, _bracketed(f"{value:.1f}", source, target))

    values, labels = _matrix(study, score)
    slug = re.sub(r"[^A-Za-z0-9_.-]", "-", recipe.label.replace(" + ", "+"))
    title = f"{study.task}: {recipe.label}, source x target ({study.metric})"
    png = heatmap_png(values, labels, study.sources, study.targets, title)
    return Figure(f"heatmap_pairs_{study.slug}_{slug}.png", png, f"pair scores, {recipe.label}")


def _contrast_figure(study: PairStudy, pc: PairContrast) -> Figure:
    def difference(source: str, target: str) -> tuple[float, str] | None:
        cell = pc.cell(source, target)
        if cell is None:
            return None
        label = f"{cell.row.difference:+.1f}{'*' if cell.significant else ''}"
        return cell.row.difference, _bracketed(label, source, target)

    values, labels = _matrix(study, difference)
    slug = re.sub(r"[^A-Za-z0-9_.-]", "-", f"{pc.a.label}_vs_{pc.b.label}".replace(" + ", "+"))
    marks = "; * = significant over the transfer pairs" if len(study.targets) <= ANNOTATED_COLUMNS else ""
    title = f"{study.task}: {pc.title}, a - b, source x target ({study.metric}{marks})"
    png = heatmap_png(values, labels, study.sources, study.targets, title, diverging=True)
    return Figure(f"heatmap_pairs_contrast_{study.slug}_{slug}.png", png, f"pair contrasts, {pc.title}")


def _replicability_table(study: PairStudy) -> Table:
    header = ["contrast", "pairs", "gain holds in at least", "loss holds in at least", "significant cells"]
    rows = [
        [
            pc.title,
            str(pc.tested),
            str(pc.gains),
            str(pc.losses),
            str(sum(cell.significant for cell in pc.cells)),
        ]
        for pc in study.contrasts
    ]
    caption = (
        f"Per contrast over the transfer pairs: {REPLICABILITY}; each count is a lower bound on the pairs in which "
        f"the effect holds in that direction, one-sided p-values, alpha {ALPHA / 2:g} per direction (family-wise "
        f"error {ALPHA:g} over both); significant cells: the pairs' p-values adjusted by "
        f"{MULTIPLICITY[study.method]} over the transfer pairs (p_pairs in contrasts.csv), intervals as in each "
        "source's contrast table (seeds and test examples where there are several seeds)"
    )
    return Table(header, rows, caption)


def _source_table(study: PairStudy, pc: PairContrast) -> Table:
    """Per source: its transfer pairs, the significant ones, and the seen/unseen split with intervals."""
    header = ["source", "pairs", "significant (gain / loss)", "seen", "unseen", "seen - unseen"]
    rows = []
    for source, table in pc.tables.items():
        transfer = [c for c in pc.cells if c.source == source and c.transfer]
        up = sum(c.significant and c.row.difference > 0 for c in transfer)
        down = sum(c.significant and c.row.difference < 0 for c in transfer)
        seen = [c.target for c in transfer if c.row.group == "seen"]
        unseen = [c.target for c in transfer if c.row.group == "unseen"]
        # with one group only, the table has no group rows: its average is that group's
        whole = table.overall if table.averages else None
        rows.append(
            [
                source,
                str(len(transfer)),
                f"{up} / {down}",
                _group(table.group("seen") or (whole if not table.unseen else None), seen),
                _group(table.group("unseen") or (whole if not table.seen else None), unseen),
                _group(table.group_difference, None),
            ]
        )
    caption = (
        f"{pc.title}, a - b in points per source; seen/unseen: the mean over the source's languages that a "
        "training stage of either recipe drew examples in (or not), with its 95% interval (the source's own "
        "language counts as seen); the languages are listed per pair in contrasts.csv (group)"
    )
    return Table(header, rows, caption)


def _group(row: Row | None, members: list[str] | None) -> str:
    if row is None:
        return "–" if members is None else f"– ({len(members)} pairs)"
    interval = "" if row.contrast is None else f" [{row.contrast.low:+.1f}, {row.contrast.high:+.1f}]"
    mark = "*" if row.significant else ""
    return f"{row.difference:+.1f}{mark}{interval}"


def _distance_table(study: PairStudy, distances: dict | None) -> Table | None:
    """Per recipe (score) and contrast (a - b), Spearman's rho over the transfer pairs against each measure."""
    if not distances:
        return None
    series = [
        (
            recipe.label,
            "score",
            {(s, t): v for s in study.sources for t, v in study.summaries[s].scores.get(recipe, {}).items()},
        )
        for recipe in study.recipes
        if not recipe.is_reference
    ]
    series += [
        (pc.title, "a - b", {(c.source, c.target): c.row.difference for c in pc.cells}) for pc in study.contrasts
    ]
    rows = []
    for measure in distances.get("measures", {}):
        for name, what, values in series:
            pairs = [
                (pair, d)
                for pair in values
                if pair[0] != pair[1] and (d := _distance(distances, *pair, measure)) is not None
            ]
            if len(pairs) < MIN_LANGUAGES:
                continue
            x = np.array([d for _, d in pairs])
            y = np.array([values[pair] for pair, _ in pairs])
            correlation = spearman_interval(x, y, PAIR_REPLICATES)
            cells = (
                ["n/a (constant)", ""]
                if correlation is None
                else [
                    f"{correlation.rho:+.2f}",
                    f"[{correlation.low:+.2f}, {correlation.high:+.2f}]",
                ]
            )
            rows.append([name, what, measure, str(len(pairs)), *cells])
    if not rows:
        return None
    caption = (
        "Spearman's rank correlation over the transfer pairs of the distance between source and target and the "
        f"score (or a - b); 95% interval: percentile bootstrap over pairs ({PAIR_REPLICATES:,} resamples), which "
        "share sources and targets, so it "
        "is a rough guide; distances: " + "; ".join(f"{m}: {d}" for m, d in distances["measures"].items())
    )
    return Table(["series", "y", "distance", "pairs", "Spearman rho", "95% interval"], rows, caption)


def _distance(distances: dict, source: str, target: str, measure: str) -> float | None:
    value = (((distances.get("from") or {}).get(source) or {}).get(target) or {}).get(measure)
    return None if value is None else float(value)
