"""The study report: scores, recipe contrasts with seed-aware intervals, heat maps, from a study's files.

Reads results.csv, tasks.json, units/, and the optional examples/, languages.json, distances.json, provenance.json
(its config's comparisons, multiplicity and published numbers; its stage records) and the stages' loss.json; never
imports torch, the task registry or the config. Writes report.md, report.html, its figures (heatmap_*.png,
curves_*.png, distance_*.png, heatmap_pairs_*.png) and contrasts.csv.
"""

from __future__ import annotations

from pathlib import Path

from xlt.report.comparisons import ContrastTable, Draws, comparisons, contrast_table, csv_rows
from xlt.report.document import report_blocks
from xlt.report.examples import ExamplesStore, degenerate, example_blocks
from xlt.report.exports import WIDE, latex_tables, wide_rows
from xlt.report.pairs import pair_p_values, pair_studies
from xlt.report.render import write_document
from xlt.report.representations import representation_blocks
from xlt.report.stats import UnitsStore, summarise
from xlt.report.study import Section, build_sections, metric_means, read_rows, read_side_files, read_tasks
from xlt.report.tables import published_table
from xlt.results.layout import CONTRASTS
from xlt.results.rows import ContrastRow
from xlt.runtime.io import atomic_write_csv

__all__ = ["build_report"]


def build_report(study_dir: Path, latex: bool = False, csv_wide: bool = False, examples: int = 0) -> dict[str, Path]:
    """Write report.md, report.html, its PNGs and contrasts.csv into `study_dir`; with `latex`, booktabs tables in
    tables/*.tex; with `csv_wide`, results_wide.csv (a row per recipe, a column per language); with `examples`, a
    section of that many test examples per task and language where the recipes disagree.

    Returns their paths: "markdown", "html", "contrasts", "wide", and each PNG and .tex under its file name.
    """
    study_dir = Path(study_dir)
    title = f"xlt report: {study_dir.resolve().name}"
    units = UnitsStore(study_dir)
    rows = read_rows(study_dir)
    side = read_side_files(study_dir)
    provenance = side.provenance
    config = (provenance or {}).get("config") or {}
    sections = build_sections(rows, read_tasks(study_dir))
    contrasts = {section.slug: _contrast_tables(section, units, config, provenance) for section in sections}
    published = published_table(config["published"], metric_means(rows)) if config.get("published") else None
    summaries = [summarise(section, units) for section in sections]
    outputs = ExamplesStore(study_dir)
    flagged = degenerate(sections, outputs)
    shown = example_blocks(sections, outputs, examples) if examples > 0 else []
    pairs = pair_studies(summaries, contrasts, config.get("multiplicity", "holm"))
    blocks = report_blocks(
        title, summaries, contrasts, side, published, representation_blocks(study_dir), flagged, shown, pairs
    )
    p_pairs = pair_p_values(pairs)
    atomic_write_csv(
        study_dir / CONTRASTS,
        ContrastRow.columns(),
        [
            {
                **row,
                "p_pairs": p_pairs.get((row["a"], row["b"], row["task"], row["train_languages"], row["language"]), ""),
            }
            for tables in contrasts.values()
            for table in tables
            for row in csv_rows(table)
        ],
    )
    written = {"contrasts": study_dir / CONTRASTS}
    if csv_wide:
        atomic_write_csv(study_dir / WIDE, *wide_rows(summaries))
        written["wide"] = study_dir / WIDE
    tables = latex_tables(summaries, contrasts, flagged) if latex else {}
    return written | write_document(study_dir, title, blocks, tables)


def _contrast_tables(section: Section, units: UnitsStore, config: dict, provenance: dict | None) -> list[ContrastTable]:
    draws, stages = Draws(section, units), (provenance or {}).get("stages") or {}
    method = config.get("multiplicity", "holm")
    return [contrast_table(c, section, draws, stages, method) for c in comparisons(section, config.get("comparisons"))]
