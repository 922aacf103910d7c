"""Per-measure line plots (x = layer, one line per recipe, one panel per language) as PNG bytes.

matplotlib's `Figure` without pyplot (no global state), as `xlt.report.figures.plots`; numpy and matplotlib only.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

Series = dict[str, dict[str, list[tuple[int, float]]]]  # line label -> panel -> [(layer, value)]


def layer_plot_png(
    series: Series, baseline: Series | float | None, panels: list[str], title: str, ylabel: str
) -> bytes:
    """One panel per entry of `panels`; `baseline` (the same lines on random pairs, or one chance level)
    is drawn dashed in each line's colour."""
    columns = min(4, len(panels))
    rows = -(-len(panels) // columns)
    fig = Figure(figsize=(3.2 * columns + 2.6, 2.6 * rows + 0.6))
    colours = colormaps["tab10" if len(series) <= 10 else "tab20"]
    axes = fig.subplots(rows, columns, squeeze=False, sharex=True, sharey=True)
    for index, panel in enumerate(panels):
        ax = axes.flat[index]
        for number, (label, by_panel) in enumerate(series.items()):
            colour = colours(number % colours.N)
            _line(ax, by_panel.get(panel), colour, "-", label if index == 0 else None)
            if isinstance(baseline, dict):
                _line(ax, baseline.get(label, {}).get(panel), colour, "--", None)
        if isinstance(baseline, float):
            ax.axhline(baseline, color="grey", linestyle=":", linewidth=1)
        ax.set_title(panel, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("layer (0 = embeddings)")
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    note = "dashed: random pairs" if isinstance(baseline, dict) else "dotted: chance" if baseline else ""
    fig.suptitle(f"{title}{'  (' + note + ')' if note else ''}", fontsize=10)
    fig.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return buffer.getvalue()


def _line(ax, points: list[tuple[int, float]] | None, colour, style: str, label: str | None) -> None:
    if not points:
        return
    layers, values = zip(*sorted(points))
    ax.plot(
        layers,
        np.asarray(values, dtype=float),
        style,
        color=colour,
        marker="o" if style == "-" else None,
        markersize=3,
        linewidth=1.3,
        label=label,
    )
    ax.set_xticks(sorted(set(layers)))
