"""Tables for the paper: the report's score and contrast tables as booktabs LaTeX (`xlt report --latex`), and the
scores as one wide CSV, a row per recipe and a column per language (`xlt report --csv-wide`).

The LaTeX cells are the report's own cell strings, so every number is printed to the digit report.md prints.
"""

from __future__ import annotations

import re

from xlt.report.comparisons import ContrastTable
from xlt.report.examples import NO_MARKS, Degenerate
from xlt.report.render import Table
from xlt.report.stats import Summary
from xlt.report.tables import contrast_table, score_table

TABLES = "tables"  # the folder of the .tex files
WIDE = "results_wide.csv"
# LaTeX's special characters in text, escaped by hand: pandas' Styler.to_latex escapes cells but not captions
_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "†": r"\textdagger{}",  # the degenerate-recipe mark
}
_SPECIALS = re.compile("|".join(re.escape(char) for char in _SPECIAL))


def latex_tables(
    summaries: list[Summary], contrasts: dict[str, list[ContrastTable]], degenerate: Degenerate = NO_MARKS
) -> dict[str, bytes]:
    """tables/{name}.tex -> its text: each section's scores, and each of its contrasts (degenerate recipes marked
    as in report.md)."""
    files = {}
    for summary in summaries:
        slug = summary.section.slug
        files[f"scores_{slug}"] = booktabs(score_table(summary, degenerate), f"tab:scores-{slug}")
        for table in contrasts[slug]:
            name = f"contrast_{slug}_{_slug(table.comparison.title)}"
            files[name] = booktabs(contrast_table(table, degenerate), f"tab:{name}")
    return {f"{TABLES}/{name}.tex": text.encode("utf-8") for name, text in files.items()}


def booktabs(table: Table, label: str) -> str:
    """A table float with \\toprule, \\midrule, \\bottomrule (needs \\usepackage{booktabs}); a cell's trailing " *"
    (significant after adjustment) becomes a superscript star."""
    columns = "l" + "r" * (len(table.header) - 1)
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{escape(table.caption)}}}",
        rf"\label{{{label}}}",
        rf"\begin{{tabular}}{{{columns}}}",
        r"\toprule",
        _row(table.header),
        r"\midrule",
        *(_row(row) for row in table.rows),
        r"\bottomrule",
        r"\end{tabular}",
        r"\end{table}",
    ]
    return "\n".join(lines) + "\n"


def escape(text: str) -> str:
    return _SPECIALS.sub(lambda match: _SPECIAL[match.group()], text)


def _row(cells: list[str]) -> str:
    return " & ".join(_cell(cell) for cell in cells) + r" \\"


def _cell(cell: str) -> str:
    if cell.endswith(" *"):
        return escape(cell[:-2]) + r"$^{*}$"
    return escape(cell)


def wide_rows(summaries: list[Summary]) -> tuple[list[str], list[dict]]:
    """Columns and rows of the wide CSV: task, train languages, split, metric, recipe, seeds, one column per language
    (the union over sections, empty where a section has no such language) and avg, at full precision."""
    languages = list(dict.fromkeys(lang for summary in summaries for lang in summary.section.languages))
    columns = ["task", "train_languages", "split", "metric", "recipe", "seeds", *languages, "avg"]
    rows = []
    for summary in summaries:
        section = summary.section
        for recipe in section.recipes:
            rows.append(
                {
                    "task": section.task,
                    "train_languages": "+".join(section.train_languages),
                    "split": section.split,
                    "metric": section.metric,
                    "recipe": recipe.label,
                    "seeds": len(section.seeds(recipe)),
                    **summary.scores[recipe],
                    "avg": "" if summary.average[recipe] is None else summary.average[recipe],
                }
            )
    return columns, rows


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")
