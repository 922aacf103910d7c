"""Transfer against linguistic distance (the analysis of Lin et al. 2019 and Lauscher et al. 2020): over the
evaluated languages other than the training ones, each recipe's score and each contrast's difference against the
language's distance from the nearest training language (distances.json), with Spearman's rank correlation.

The interval is a percentile bootstrap over languages: it covers which languages were evaluated, not the noise of
each score, and with few languages it is wide and approximate. Resamples in which the distances (or the scores)
are all tied have no rank correlation and are left out; scipy.stats.bootstrap would return NaN for the whole
interval when one such resample occurs, and ties are common (two languages at the same distance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr

from xlt.report.comparisons import ContrastTable
from xlt.report.figures.plots import Line, lines_png, series_style
from xlt.report.render import Block, Figure, Table
from xlt.report.stats import BOOTSTRAP_SEED, Summary

REPLICATES = 10_000
MIN_LANGUAGES = 4  # fewer points give no correlation worth printing
_MAX_CELLS = 2_000_000  # resampled points ranked at once (replicates x points): about 50 MB of counts and ranks


@dataclass(frozen=True)
class Correlation:
    rho: float
    low: float
    high: float


def spearman_interval(x: np.ndarray, y: np.ndarray, replicates: int = REPLICATES) -> Correlation | None:
    """Spearman's rho with its 95% percentile bootstrap interval over the (x, y) pairs; None when x or y is
    constant."""
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    n = len(x)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    idx = rng.integers(0, n, size=(replicates, n))
    replicated = []
    for start in range(0, replicates, max(1, _MAX_CELLS // n)):  # blocks: a study of 1,000 pairs holds 10M draws
        block = idx[start : start + max(1, _MAX_CELLS // n)]
        counts = np.bincount((block + np.arange(0, len(block) * n, n)[:, None]).ravel(), minlength=len(block) * n)
        counts = counts.reshape(len(block), n).astype(float)  # how often each point was drawn
        rx, ry = (_resampled_ranks(values, counts) - (n + 1) / 2 for values in (x, y))  # centred: ranks 1..n
        norms = np.sqrt((counts * rx**2).sum(axis=1) * (counts * ry**2).sum(axis=1))
        defined = norms > 0
        replicated.append((counts * rx * ry).sum(axis=1)[defined] / norms[defined])
    low, high = np.percentile(np.concatenate(replicated), [2.5, 97.5])
    return Correlation(float(spearmanr(x, y).statistic), float(low), float(high))


def _resampled_ranks(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each point's average rank among a resample's draws (as scipy's rankdata on the resampled values gives every
    draw of it), from how often each point was drawn: the draws below its value, plus (draws equal to it + 1) / 2.
    Counting is linear in the points where ranking each resample sorts it; `spearman_interval` weights the ranks by
    the counts, which is Spearman's rho on the resampled pairs."""
    order = np.argsort(values, kind="stable")
    ordered = counts[:, order]
    starts = np.r_[0, np.flatnonzero(np.diff(values[order])) + 1]  # the first point of each run of tied values
    tied = np.add.reduceat(ordered, starts, axis=1)
    below = (np.cumsum(ordered, axis=1) - ordered)[:, starts]
    sizes = np.diff(np.r_[starts, len(values)])
    ranks = np.empty_like(ordered)
    ranks[:, order] = np.repeat(below + (tied + 1) / 2, sizes, axis=1)
    return ranks


def distance_blocks(
    summary: Summary, tables: list[ContrastTable], distances: dict | None, colours: dict[str, str]
) -> list[Block]:
    """The figure (scores and differences against each measure; recipes in their `colours`, contrasts as squares)
    and the table of correlations; none when no measure separates the section's other languages."""
    section = summary.section
    if not distances:
        return []
    others = [lang for lang in section.languages if lang not in section.train_languages]
    measures = {
        measure: found
        for measure in distances.get("measures", {})
        if len(found := _distances(distances, section.train_languages, others, measure)) >= MIN_LANGUAGES
        and len(set(found.values())) > 1
    }
    if not measures:
        return []
    series = [
        (recipe.label, "score", summary.scores[recipe], colours[recipe.label], "o")
        for recipe in section.recipes
        if not recipe.is_reference
    ]
    series += [
        (
            table.comparison.title,
            "a - b",
            {row.language: row.difference for row in table.languages},
            *series_style(i),
        )
        for i, table in enumerate(tables)
    ]
    rows, panels = [], []
    for kind in ("score", "a - b"):
        for measure, found in measures.items():
            lines = []
            for name, what, values, colour, marker in series:
                langs = [lang for lang in found if lang in values and what == kind]
                if len(langs) < MIN_LANGUAGES:
                    continue
                x, y = np.array([found[lang] for lang in langs]), np.array([values[lang] for lang in langs])
                correlation = spearman_interval(x, y)
                rows.append([name, what, measure, str(len(langs)), *_cells(correlation)])
                lines.append(Line(name, x, y, colour, marker=marker))
            if lines:
                panels.append((f"{kind} vs {measure} distance", lines))
    if not panels:
        return []
    png = lines_png(
        panels,
        "distance from the training language",
        f"{section.metric} (points)",
        f"{section.title}: transfer vs distance",
        markers=True,
    )
    caption = (
        "Spearman's rank correlation over the languages other than the training ones; 95% interval: "
        f"percentile bootstrap over those languages ({REPLICATES:,} resamples, numpy seed {BOOTSTRAP_SEED}), "
        "which covers the choice of languages, not score noise; distances: "
        + "; ".join(f"{m}: {distances['measures'][m]}" for m in measures)
    )
    header = ["series", "y", "distance", "languages", "Spearman rho", "95% interval"]
    return [
        Figure(
            f"distance_{section.slug}.png",
            png,
            f"transfer vs distance, {section.title}: each recipe's score and each contrast's difference per language "
            f"against the language's {' and '.join(measures)} distance from the training language",
        ),
        Table(header, rows, caption),
    ]


def _distances(distances: dict, sources: tuple[str, ...], languages: list[str], measure: str) -> dict[str, float]:
    """Each language's distance from its nearest training language, where every training language's is known."""
    found = {}
    for lang in languages:
        values = [((distances["from"].get(src) or {}).get(lang) or {}).get(measure) for src in sources]
        known = [float(v) for v in values if v is not None]
        if known and len(known) == len(values):
            found[lang] = min(known)
    return found


def _cells(correlation: Correlation | None) -> list[str]:
    if correlation is None:
        return ["n/a (constant)", ""]
    return [f"{correlation.rho:+.2f}", f"[{correlation.low:+.2f}, {correlation.high:+.2f}]"]
