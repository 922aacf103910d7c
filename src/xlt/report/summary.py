"""The report's plain-language answer: one sentence per contrast, generated from its table's numbers.

Each sentence names the average difference with its interval and what the interval covers, the languages
where the difference is significant after the table's adjustment, and whether seen and unseen languages
differ (the interval of the seen-minus-unseen difference).
"""

from __future__ import annotations

from xlt.report.comparisons import ContrastTable, Row
from xlt.report.contrasts import MULTIPLICITY, TEST_EXAMPLES


def sentence(table: ContrastTable) -> str:
    section, comparison = table.section, table.comparison
    subject = (f"{comparison.a.label} vs {comparison.b.label} on {section.task} (trained on "
               f"{'+'.join(section.train_languages)}, {section.metric})")
    parts = [f"{subject}: {_overall(table.overall) if table.averages else 'no average (a language lacks a recipe)'}",
             _significant(table), _groups(table)]
    return "; ".join(part for part in parts if part) + "."


def _overall(row: Row) -> str:
    return f"{_points(row.difference)} on average{_interval(row)}"


def _interval(row: Row) -> str:
    c = row.contrast
    if c is None:
        return " (no interval: units missing)"
    seeds = f"{c.seeds[0]} paired seeds" if c.paired else f"{c.seeds[0]}+{c.seeds[1]} unpaired seeds"
    covers = "test-set sampling only, one seed" if c.covers == TEST_EXAMPLES else f"{seeds} and test examples"
    return f", 95% interval [{c.low:+.1f}, {c.high:+.1f}] ({covers})"


def _significant(table: ContrastTable) -> str:
    tested = [row for row in table.languages if row.contrast is not None]
    if not tested:
        return ""
    method = MULTIPLICITY[table.method].split(" (")[0]
    hits = [row for row in tested if row.significant]
    if not hits:
        return f"significant in no language after {method}"
    named = ", ".join(f"{row.language} ({_points(row.difference)})" for row in hits)
    return f"significant after {method} in {named} ({len(hits)} of {len(tested)} languages)"


def _groups(table: ContrastTable) -> str:
    seen, unseen, difference = table.group("seen"), table.group("unseen"), table.group_difference
    if not table.unseen:
        return "every evaluated language was seen in training"
    if not table.seen or seen is None or unseen is None or difference is None:
        return ""
    verdict = ("seen and unseen languages differ" if difference.significant else
               "seen and unseen languages do not differ significantly")
    return (f"seen languages ({', '.join(table.seen)}) {_points(seen.difference)}, unseen ({', '.join(table.unseen)}) "
            f"{_points(unseen.difference)}: {verdict} ({_points(difference.difference)}{_short(difference)})")


def _short(row: Row) -> str:
    return "" if row.contrast is None else f" [{row.contrast.low:+.1f}, {row.contrast.high:+.1f}]"


def _points(value: float) -> str:
    return f"{value:+.1f} points"
