"""A report is a list of blocks, rendered once to Markdown and once to self-contained HTML."""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from pathlib import Path

from xlt.results.layout import REPORT_HTML, REPORT_MARKDOWN
from xlt.runtime.io import atomic_write_bytes


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    filename: str  # written beside report.md, which links it; report.html embeds it
    png: bytes
    alt: str


Block = Heading | Paragraph | Table | Figure


def to_markdown(blocks: list[Block]) -> str:
    return "\n\n".join(_markdown(block) for block in blocks) + "\n"


def _markdown(block: Block) -> str:
    if isinstance(block, Heading):
        return f"{'#' * block.level} {block.text}"
    if isinstance(block, Paragraph):
        return block.text
    if isinstance(block, Figure):
        return f"![{block.alt}]({block.filename})"
    lines = [_markdown_row(block.header), "|" + "---|" * len(block.header)]
    lines += [_markdown_row(row) for row in block.rows]
    if block.caption:
        lines += ["", f"_{block.caption}_"]
    return "\n".join(lines)


def _markdown_row(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:80em}"
    "table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #bbb;padding:.25em .6em;text-align:right}"
    "th:first-child,td:first-child,td.text{text-align:left}"
    "caption{caption-side:bottom;font-size:.85em;color:#555;text-align:left;padding-top:.3em}"
    "img{max-width:100%}"
)


def to_html(blocks: list[Block], title: str) -> str:
    """One file with no external assets: figures are embedded as data: URIs."""
    body = "\n".join(_html(block) for block in blocks)
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
        f"<style>{_STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _html(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{html.escape(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        return f"<p>{html.escape(block.text)}</p>"
    if isinstance(block, Figure):
        data = base64.b64encode(block.png).decode("ascii")
        return f'<p><img alt="{html.escape(block.alt)}" src="data:image/png;base64,{data}"></p>'
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in block.header)
    rows = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>\n" for row in block.rows)
    caption = f"<caption>{html.escape(block.caption)}</caption>" if block.caption else ""
    return f"<table>{caption}\n<tr>{head}</tr>\n{rows}</table>"


def _cell(text: str) -> str:
    """Numbers align right, words (names, labels, example text) left."""
    numeric = re.match(r"[-+<\[(]?\d|–?$", text)
    return f"<td>{html.escape(text)}</td>" if numeric else f'<td class="text">{html.escape(text)}</td>'


def write_document(
    study_dir: Path, title: str, blocks: list[Block], files: dict[str, bytes] | None = None
) -> dict[str, Path]:
    """Write `blocks` as report.md and report.html, their figures and any other `files` (name -> bytes), into
    `study_dir`."""
    # The figures first, so that report.md never links a PNG that is not there yet.
    outputs = {block.filename: (block.filename, block.png) for block in blocks if isinstance(block, Figure)}
    outputs |= {name: (name, data) for name, data in (files or {}).items()}
    outputs["markdown"] = (REPORT_MARKDOWN, to_markdown(blocks).encode("utf-8"))
    outputs["html"] = (REPORT_HTML, to_html(blocks, title).encode("utf-8"))
    for filename, data in outputs.values():
        atomic_write_bytes(study_dir / filename, data)
    return {key: study_dir / filename for key, (filename, _) in outputs.items()}
