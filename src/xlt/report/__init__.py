"""The study report: tables, paired-bootstrap gains and heat maps from a study directory's files.

Reads results.csv, units/, and the optional languages.json and provenance.json; never imports torch.
"""

from __future__ import annotations

from pathlib import Path

from xlt.report.document import report_blocks
from xlt.io import atomic_write_bytes
from xlt.report.render import Block, Figure, to_html, to_markdown
from xlt.report.representations import representation_blocks
from xlt.report.stats import UnitsStore, summarise
from xlt.report.study import build_sections, read_optional_json, read_rows

__all__ = ["build_report", "write_document"]


def build_report(study_dir: Path) -> dict[str, Path]:
    """Write report.md, report.html and the heat-map PNGs into `study_dir`.

    Returns their paths: "markdown", "html", and each PNG under its file name (heatmap_*.png).
    """
    study_dir = Path(study_dir)
    title = f"xlt report: {study_dir.resolve().name}"
    units = UnitsStore(study_dir)
    summaries = [summarise(section, units) for section in build_sections(read_rows(study_dir))]
    blocks = report_blocks(
        title,
        summaries,
        read_optional_json(study_dir / "languages.json"),
        read_optional_json(study_dir / "provenance.json"),
    ) + representation_blocks(study_dir)
    return write_document(study_dir, title, blocks)


def write_document(study_dir: Path, title: str, blocks: list[Block]) -> dict[str, Path]:
    """Write `blocks` as report.md and report.html, and their figures, into `study_dir`."""
    # The heat maps first, so that report.md never links a PNG that is not there yet.
    outputs = {block.filename: (block.filename, block.png) for block in blocks if isinstance(block, Figure)}
    outputs["markdown"] = ("report.md", to_markdown(blocks).encode("utf-8"))
    outputs["html"] = ("report.html", to_html(blocks, title).encode("utf-8"))
    for filename, data in outputs.values():
        atomic_write_bytes(study_dir / filename, data)
    return {key: study_dir / filename for key, (filename, _) in outputs.items()}
