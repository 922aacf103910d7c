"""The report's figures rendered to PNG bytes with matplotlib's Agg canvas: annotated heat maps (recipes x
languages) and line panels (training curves, transfer against distance).

`matplotlib.figure.Figure` is used without pyplot, so no global backend or figure state is touched.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize, to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.typing import LineStyleType

ANNOTATED_COLUMNS = 40


def heatmap_png(
    values: np.ndarray,
    labels: list[list[str]],
    rows: list[str],
    columns: list[str],
    title: str,
    diverging: bool = False,
) -> bytes:
    """`values` (rows x columns, NaN where missing) coloured, each cell annotated with its label.

    Diverging maps are centred at 0 (symmetric limits), so the colour's side says the sign. Beyond
    ANNOTATED_COLUMNS columns (a pair matrix of a 205-language benchmark) cells are narrow and unlabelled, their
    numbers left to the tables and contrasts.csv, and at most ANNOTATED_COLUMNS columns are named.
    """
    cmap = colormaps["RdBu" if diverging else "viridis"].with_extremes(bad="#dddddd")
    norm = _norm(values, diverging)
    annotated = len(columns) <= ANNOTATED_COLUMNS
    width = 0.9 * len(columns) if annotated else 0.14 * len(columns)
    fig = Figure(figsize=(1.5 + width + 0.08 * max(map(len, rows)), 1.2 + 0.45 * len(rows)))
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=norm, aspect="auto")
    fig.colorbar(image, ax=ax)
    if annotated:
        ax.set_xticks(range(len(columns)), columns)
    else:  # every column's label would cost most of the report's time (text layout): every step-th one
        step = -(-len(columns) // ANNOTATED_COLUMNS)
        ax.set_xticks(range(0, len(columns), step), columns[::step])
        ax.tick_params(axis="x", labelsize=6, labelrotation=90)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_title(title, fontsize=10)
    for (i, j), value in np.ndenumerate(values if annotated else np.empty((0, 0))):
        if np.isfinite(value):
            ax.text(j, i, labels[i][j], ha="center", va="center", fontsize=8, color=_text_colour(cmap(norm(value))))
    return _png(fig)


def _norm(values: np.ndarray, diverging: bool) -> Normalize:
    finite = values[np.isfinite(values)]
    if diverging:
        limit = float(np.abs(finite).max()) if finite.size else 0.0
        return Normalize(-limit or -1.0, limit or 1.0)
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return Normalize(low, high if high > low else low + 1.0)


def _text_colour(rgba: tuple[float, float, float, float]) -> str:
    red, green, blue, _ = rgba
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"


PALETTE = "tab10"  # recipes, in report order (cycled past ten)
SERIES_PALETTE = "Dark2"  # other series (contrasts), drawn with square (then other) markers
STYLES: tuple[LineStyleType, ...] = ("-", "--", ":", "-.")  # seeds, in order (cycled)


def recipe_colours(labels: list[str]) -> dict[str, str]:
    """One colour per recipe label, the same in every figure of a report."""
    colours = colormaps[PALETTE].colors  # type: ignore[attr-defined]  # a ListedColormap
    return {label: to_hex(colours[i % len(colours)]) for i, label in enumerate(dict.fromkeys(labels))}


SERIES_MARKERS = ("s", "D", "^", "v")  # past the palette's colours, the next marker


def series_style(index: int) -> tuple[str, str]:
    """The colour and marker of the index-th other series: distinct for the first 32."""
    colours = colormaps[SERIES_PALETTE].colors  # type: ignore[attr-defined]
    return to_hex(colours[index % len(colours)]), SERIES_MARKERS[index // len(colours) % len(SERIES_MARKERS)]


@dataclass(frozen=True)
class Line:
    label: str  # its legend entry (lines sharing a label share the entry)
    x: np.ndarray
    y: np.ndarray
    colour: str
    style: LineStyleType = "-"
    marker: str = "o"  # with `markers`
    mark: tuple[float, float] | None = None  # a point to mark on the line (the selected step)


def lines_png(
    panels: list[tuple[str, list[Line]]],
    xlabel: str,
    ylabel: str,
    title: str,
    markers: bool = False,
    styles: dict[str, LineStyleType] | None = None,
) -> bytes:
    """Panels of (title, lines), two a row, with one legend below them all (never over the lines): an entry per
    label, then one per line style of `styles` (name -> style: seeds); marked points as black rings. With `markers`,
    a scatter per series (points at one x would make a joining line run vertically)."""
    columns = min(2, len(panels))
    rows = -(-len(panels) // columns)
    fig = Figure(figsize=(5.6 * columns + 0.6, 3.6 * rows + 1.2), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    entries: dict[str, Line2D] = {}
    for ax, (panel_title, lines) in zip(axes, panels):
        for line in lines:
            order = np.argsort(line.x, kind="stable")
            (drawn,) = ax.plot(
                line.x[order],
                line.y[order],
                color=line.colour,
                marker=line.marker if markers else None,
                markersize=6,
                linewidth=1.6,
                linestyle="none" if markers else line.style,
                alpha=0.85,
            )
            entries.setdefault(line.label, drawn)
            if line.mark is not None:
                ax.plot(*line.mark, marker="o", markersize=9, markerfacecolor="none", markeredgecolor="black")
        ax.set_title(panel_title, fontsize=11)
        ax.set_xlabel(xlabel, fontsize=10)
        ax.set_ylabel(ylabel, fontsize=10)
        ax.tick_params(labelsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    for name, style in (styles or {}).items():
        entries[name] = Line2D([], [], color="grey", linestyle=style, linewidth=1.6)
    # below the panels: beside them it would run into the figure's title when long
    columns = 3 if len(entries) > 8 else 4
    fig.legend(
        list(entries.values()), list(entries), loc="outside lower center", ncols=columns, fontsize=9, frameon=False
    )
    fig.suptitle(title, fontsize=12)
    return _png(fig)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()
