"""The report's figures rendered to PNG bytes with matplotlib's Agg canvas: annotated heat maps (recipes x
languages) and line panels (training curves, transfer against distance).

`matplotlib.figure.Figure` is used without pyplot, so no global backend or figure state is touched.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

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


@dataclass(frozen=True)
class Line:
    label: str
    x: np.ndarray
    y: np.ndarray
    mark: tuple[float, float] | None = None  # a point to mark on the line (the selected step)


def lines_png(
    panels: list[tuple[str, list[Line]]], xlabel: str, ylabel: str, title: str, markers: bool = False
) -> bytes:
    """One panel per (title, lines), side by side; marked points as black rings. With `markers`, a scatter per
    series (points at one x would make a joining line run vertically), its legend below the panel."""
    fig = Figure(figsize=(0.6 + 4.2 * len(panels), 3.2))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (panel_title, lines) in zip(axes, panels):
        for line in lines:
            order = np.argsort(line.x, kind="stable")
            ax.plot(
                line.x[order],
                line.y[order],
                marker="o" if markers else None,
                markersize=4,
                linewidth=1,
                linestyle="none" if markers else "-",
                alpha=0.8 if markers else 1.0,
                label=line.label,
            )
            if line.mark is not None:
                ax.plot(*line.mark, marker="o", markersize=7, markerfacecolor="none", markeredgecolor="black")
        ax.set_title(panel_title, fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(labelsize=7)
        if markers:
            ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.16))
        else:
            ax.legend(fontsize=6, loc="best")
    axes[0].set_ylabel(ylabel, fontsize=8)
    fig.suptitle(title, fontsize=10)
    return _png(fig)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()
