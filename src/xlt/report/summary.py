"""The report's answer, generated from its contrast tables: the study's question and a sentence per method answering
it, a line on what the intervals cover, and one table of every contrast with the question's first.

The question is the study's first comparison (`xlt.report.comparisons`: by default each method's first pair of
intermediate conditions, multilingual against English-only in the studies xlt exists for; else each condition
against none, else each pair of methods; or the first `comparisons:` entry), asked of every method and section
where it was run. Each answer names the average difference with its interval, the languages where the difference
is significant in each direction after the table's adjustment, and whether seen and unseen languages differ (the
interval of the seen-minus-unseen difference); it says when a recipe of the contrast is degenerate.
"""

from __future__ import annotations

from xlt.report.comparisons import FAMILIES, ContrastTable, Row
from xlt.report.contrasts import ALPHA, MULTIPLICITY, TEST_EXAMPLES
from xlt.report.examples import DEGENERATE_MARK, DEGENERATE_NOTE, Degenerate
from xlt.report.render import Table
from xlt.report.study import BASELINE_INTERMEDIATE
from xlt.report.tables import format_p


def question_tables(tables: list[ContrastTable]) -> list[ContrastTable]:
    """The tables that answer the study's question: the first comparison of the first family, and the same
    comparison of the other methods (conditions) or conditions (methods) and sections."""
    if not tables:
        return []
    first = min(tables, key=lambda table: FAMILIES.index(table.comparison.family))  # stable: the first of its family
    return [table for table in tables if _pattern(table) == _pattern(first)]


def _pattern(table: ContrastTable) -> tuple[str, ...]:
    c = table.comparison
    if c.family in ("conditions", "against none"):
        return (c.family, c.a.intermediate, c.b.intermediate)
    if c.family == "methods":
        return (c.family, c.a.method, c.b.method)
    return (c.family, c.a.label, c.b.label)


def question(tables: list[ContrastTable]) -> str:
    """The question the first table's comparison asks, in words."""
    c = tables[0].comparison
    sections = list(
        dict.fromkeys(f"{t.section.task} (trained on {'+'.join(t.section.train_languages)})" for t in tables)
    )
    where = " and ".join(sections)
    if c.family in ("conditions", "against none"):
        return (
            f"Does {_condition(c.a.intermediate)} beat {_condition(c.b.intermediate)} for zero-shot transfer on "
            f"{where}, for each method?"
        )
    if c.family == "methods":
        return f"Does {c.a.method} beat {c.b.method} for zero-shot transfer on {where}?"
    return f"Does {c.a.label} beat {c.b.label} for zero-shot transfer on {where}?"


def _condition(name: str) -> str:
    return "no intermediate training" if name == BASELINE_INTERMEDIATE else f"{name} intermediate training"


def answer(tables: list[ContrastTable], degenerate: Degenerate) -> list[str]:
    """The question, a sentence per table that answers it, and what the intervals cover."""
    if not tables:
        return []
    sections = {table.section.title for table in tables}
    # several sections: each sentence names its task, and its training languages where a task was trained on several
    named = "" if len(sections) == 1 else "task" if len(sections) == len({t.section.task for t in tables}) else "both"
    sentences = [_answer(table, degenerate, named) for table in tables]
    return [question(tables), " ".join(sentences), coverage(tables)]


def _answer(table: ContrastTable, degenerate: Degenerate, named: str) -> str:
    c = table.comparison
    subject = {"conditions": c.a.method, "against none": c.a.method}.get(c.family, f"{c.a.label} minus {c.b.label}")
    if c.family == "methods":
        subject = f"{c.a.method} minus {c.b.method} ({_condition(c.a.intermediate)})"
    if named:
        subject += f" on {table.section.task}"
    if named == "both":
        subject += f" (trained on {'+'.join(table.section.train_languages)})"
    if not table.averages:
        return f"{subject}: no average (a language lacks a recipe)."
    overall = table.overall
    interval = "" if overall.contrast is None else f", 95% interval{_short(overall)}"
    parts = [f"{subject}: {_points(overall.difference)} points on average{interval}", _held(table)]
    parts.append(_groups(table))
    return "; ".join(part for part in parts if part) + "." + _caveat(table, degenerate)


def _held(table: ContrastTable) -> str:
    tested = [row for row in table.languages if row.contrast is not None]
    if not tested:
        return ""
    better = [row.language for row in tested if row.significant and row.difference > 0]
    worse = [row.language for row in tested if row.significant and row.difference < 0]
    unit = "language" if len(tested) == 1 else "languages"
    if not better and not worse:
        return f"significant in none of the {len(tested)} {unit}"
    return f"significantly better in {_named(better)} and worse in {_named(worse)} of {len(tested)} {unit}"


def _named(languages: list[str]) -> str:
    return f"{len(languages)} ({', '.join(languages)})" if languages else "none"


def _groups(table: ContrastTable) -> str:
    seen, unseen, difference = table.group("seen"), table.group("unseen"), table.group_difference
    if not table.unseen:
        return "every evaluated language was seen in training"
    if seen is None or unseen is None or difference is None:
        return ""
    verdict = "they differ" if difference.significant else "not significantly different"
    return (
        f"seen languages {_points(seen.difference)}, unseen {_points(unseen.difference)} ({verdict}: "
        f"{_points(difference.difference)}{_short(difference)})"
    )


NO_TRANSFER = "no transfer is measured there"


def _caveat(table: ContrastTable, degenerate: Degenerate) -> str:
    languages = table.section.languages
    found = {r.label: degenerate.languages(table.section, r) for r in (table.comparison.a, table.comparison.b)}
    counts = {label: len(marked) for label, marked in found.items() if marked}
    if not counts:
        return ""

    def where(count: int) -> str:
        return "every language" if count == len(languages) else f"{count} of {len(languages)} languages"

    if len(set(counts.values())) == 1:  # one statement for both
        flagged = f"{' and '.join(counts)} {'is' if len(counts) == 1 else 'are'} degenerate"
        places = where(next(iter(counts.values())))
        return f" Caution: {flagged} (one label, or the majority's predictions) in {places}: {NO_TRANSFER}."
    each = ", ".join(f"{label} in {where(count)}" for label, count in counts.items())
    return f" Caution: degenerate (one label, or the majority's predictions): {each}; {NO_TRANSFER}."


def coverage(tables: list[ContrastTable]) -> str:
    """One line: what the intervals cover, and the adjustment behind "significantly"."""
    first = next((row.contrast for table in tables for row in table.averages if row.contrast), None)
    method = MULTIPLICITY[tables[0].method]
    if first is None:
        covers = "Differences are in points (a minus b); no intervals: units missing"
    elif first.covers == TEST_EXAMPLES:
        covers = (
            "Differences in points (a minus b) with 95% intervals over test examples only (one seed: training "
            "randomness is not covered)"
        )
    else:
        seeds = f"{first.seeds[0]} paired seeds" if first.paired else f"{first.seeds[0]}+{first.seeds[1]} seeds"
        covers = f"Differences in points (a minus b) with 95% intervals over {seeds} and test examples"
    return f"{covers}; significant = adjusted p < {ALPHA:g} by {method} over each contrast's languages."


def contrast_summary(tables: list[ContrastTable], degenerate: Degenerate) -> Table:
    """A row per contrast, the question's first: its average difference, interval, adjusted p, the languages
    significant either way, and the seen and unseen averages."""
    asked = question_tables(tables)
    ordered = asked + [table for table in tables if table not in asked]
    header = ["a", "b", "task", "a - b", "95% interval", "p adjusted", "languages +/-", "seen", "unseen"]
    rows = [_summary_row(table, degenerate) for table in ordered]
    caption = (
        "every contrast, the study's question first; a - b: average over languages (points), with its interval "
        "and adjusted p (the average rows' family); languages +/-: significantly better / worse of those tested; "
        "seen, unseen: averages over the languages a training stage did or did not see; per language below"
    )
    if any(_flags(table, degenerate) for table in ordered):
        caption += f"; {DEGENERATE_NOTE}"
    return Table(header, rows, caption)


def _summary_row(table: ContrastTable, degenerate: Degenerate) -> list[str]:
    a, b = table.comparison.a, table.comparison.b
    flags = _flags(table, degenerate)
    labels = [recipe.label + (f" {DEGENERATE_MARK}" if recipe in flags else "") for recipe in (a, b)]
    section = table.section
    task = section.task + ("" if len(section.train_languages) == 1 else f" ({'+'.join(section.train_languages)})")
    if not table.averages:
        return [*labels, task, "n/a", "", "", "", "", ""]
    overall, tested = table.overall, [row for row in table.languages if row.contrast is not None]
    better = sum(row.significant and row.difference > 0 for row in tested)
    worse = sum(row.significant and row.difference < 0 for row in tested)
    return [
        *labels,
        task,
        f"{overall.difference:+.2f}{' *' if overall.significant else ''}",
        _interval(overall),
        format_p(overall.p_adjusted),
        f"{better} / {worse} of {len(tested)}" if tested else "",
        _group(table.group("seen")),
        _group(table.group("unseen")),
    ]


def _flags(table: ContrastTable, degenerate: Degenerate) -> set:
    return {
        recipe for recipe in (table.comparison.a, table.comparison.b) if degenerate.languages(table.section, recipe)
    }


def _group(row: Row | None) -> str:
    return "" if row is None else f"{row.difference:+.2f}"


def _interval(row: Row) -> str:
    return "n/a" if row.contrast is None else f"[{row.contrast.low:+.2f}, {row.contrast.high:+.2f}]"


def _short(row: Row) -> str:
    return "" if row.contrast is None else f" [{row.contrast.low:+.1f}, {row.contrast.high:+.1f}]"


def _points(value: float) -> str:
    return f"{value:+.1f}"
