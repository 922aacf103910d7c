"""The study report: scores, recipe contrasts with seed-aware intervals, heat maps, from a study's files.

Reads results.csv, tasks.json, units/, and the optional languages.json and provenance.json (its config's
comparisons, multiplicity and published numbers; its stage records); never imports torch, the task
registry or the config. Writes report.md, report.html, heatmap_*.png and contrasts.csv.
"""

from __future__ import annotations

from pathlib import Path

from xlt.io import atomic_write_bytes, atomic_write_csv
from xlt.report.comparisons import ContrastTable, Draws, comparisons, contrast_table, csv_rows
from xlt.report.document import report_blocks
from xlt.report.render import Figure, to_html, to_markdown
from xlt.report.stats import UnitsStore, summarise
from xlt.report.study import Section, build_sections, metric_means, read_optional_json, read_rows, read_tasks
from xlt.report.tables import published_table
from xlt.results import LANGUAGES, PROVENANCE

CONTRASTS = "contrasts.csv"
CONTRAST_COLUMNS = ("a", "b", "task", "train_languages", "language", "group", "difference", "low", "high",
                    "p_value", "p_adjusted", "seeds", "examples")

__all__ = ["build_report"]


def build_report(study_dir: Path) -> dict[str, Path]:
    """Write report.md, report.html, the heat-map PNGs and contrasts.csv into `study_dir`.

    Returns their paths: "markdown", "html", "contrasts", and each PNG under its file name (heatmap_*.png).
    """
    study_dir = Path(study_dir)
    title = f"xlt report: {study_dir.resolve().name}"
    units = UnitsStore(study_dir)
    rows = read_rows(study_dir)
    provenance = read_optional_json(study_dir / PROVENANCE)
    config = (provenance or {}).get("config") or {}
    sections = build_sections(rows, read_tasks(study_dir))
    contrasts = {section.slug: _contrast_tables(section, units, config, provenance) for section in sections}
    published = published_table(config["published"], metric_means(rows)) if config.get("published") else None
    blocks = report_blocks(title, [summarise(section, units) for section in sections], contrasts,
                           read_optional_json(study_dir / LANGUAGES), provenance, published)
    atomic_write_csv(study_dir / CONTRASTS, CONTRAST_COLUMNS,
                     [row for tables in contrasts.values() for table in tables for row in csv_rows(table)])
    # The heat maps first, so that report.md never links a PNG that is not there yet.
    outputs = {block.filename: (block.filename, block.png) for block in blocks if isinstance(block, Figure)}
    outputs["markdown"] = ("report.md", to_markdown(blocks).encode("utf-8"))
    outputs["html"] = ("report.html", to_html(blocks, title).encode("utf-8"))
    for filename, data in outputs.values():
        atomic_write_bytes(study_dir / filename, data)
    return {"contrasts": study_dir / CONTRASTS} | {key: study_dir / filename for key, (filename, _) in outputs.items()}


def _contrast_tables(section: Section, units: UnitsStore, config: dict, provenance: dict | None) -> list[ContrastTable]:
    draws, stages = Draws(section, units), (provenance or {}).get("stages") or {}
    method = config.get("multiplicity", "holm")
    return [contrast_table(c, section, draws, stages, method) for c in comparisons(section, config.get("comparisons"))]
