"""The report's plots: matplotlib figures drawn on the Agg canvas, returned as ``<img>`` tags.

No pyplot and no global backend switch: each figure has its own canvas, so
drawing a report changes nothing for a notebook or program around it. Each
plot is a base64 PNG written without a software tag, so the same figures
give the same bytes. :func:`histogram` draws the distribution of an
assignment's scores (:class:`~autograder.outputs.statistics.AssignmentStatistics`),
:func:`pass_rate_plot` pass rates worst first, :func:`bars` any counts.
"""

from __future__ import annotations

import base64
import html
import io
import textwrap
from collections.abc import Sequence

from .statistics import AssignmentStatistics

__all__ = ["histogram", "bars", "pass_rate_plot"]

_GOOD, _FAIR, _POOR = "#4c9a6a", "#d9a441", "#c8553d"  # pass rate >= 80 %, >= 50 %, below
_INK, _MUTED, _ACCENT = "#2b2d42", "#8d99ae", "#3d6a9e"
_PLOT_STYLE = {
    "font.size": 10,
    "font.family": "DejaVu Sans",
    "axes.edgecolor": _MUTED,
    "axes.labelcolor": _INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": _INK,
    "ytick.color": _INK,
    "svg.hashsalt": "report",
}


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure, alt: str) -> str:
    """The figure as an ``<img>`` with a base64 PNG (no software tag, so the bytes are reproducible)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None}, facecolor="white")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img class="plot" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def histogram(stats: AssignmentStatistics) -> str:
    """The scores of the graded submissions, with their mean and median (those of ``stats``)."""
    import matplotlib
    import numpy as np

    scores = stats.scores
    top = max([stats.max_points, *scores, 1.0])
    if top <= 60:
        edges = np.arange(-0.5, np.floor(top) + 1.0, 1.0)
    else:
        edges = np.linspace(0.0, top, 31)
    with matplotlib.rc_context(_PLOT_STYLE):
        figure = _figure(9.0, 3.2)
        axes = figure.add_subplot()
        if scores:
            axes.hist(scores, bins=edges, color=_ACCENT, label="graded", edgecolor="white", linewidth=0.6)
            mean, median = stats.mean_score, stats.median_score
            axes.axvline(mean, color=_INK, linestyle="--", linewidth=1.2, label=f"mean {mean:.1f}")
            axes.axvline(median, color=_POOR, linestyle="-", linewidth=1.6, zorder=3, label=f"median {median:g}")
        axes.set_xlim(edges[0], edges[-1])
        axes.set_xlabel(f"points (out of {stats.max_points:g})")
        axes.set_ylabel("submissions")
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.xaxis.get_major_locator().set_params(integer=True)
        if scores:  # nothing to label when no submission could be graded
            axes.legend(frameon=False, loc="upper left")
        return _png(figure, f"{stats.name}: histogram of scores")


def _rate_color(rate: float) -> str:
    return _GOOD if rate >= 0.8 else _FAIR if rate >= 0.5 else _POOR


def bars(items: Sequence[tuple[str, float, str]], *, xlabel: str, alt: str, percent: bool, wrap: int = 60, title: str = "") -> str:
    """Horizontal bars, first item at the top: (label, value, annotation)."""
    import matplotlib

    labels = ["\n".join(textwrap.wrap(label, wrap)) or " " for label, _, _ in items]
    lines_per_bar = max((label.count("\n") + 1 for label in labels), default=1)
    with matplotlib.rc_context(_PLOT_STYLE):
        figure = _figure(9.0, 0.7 + (0.16 + 0.17 * lines_per_bar) * len(items))
        axes = figure.add_subplot()
        positions = list(range(len(items)))[::-1]
        values = [value for _, value, _ in items]
        colors = [_rate_color(value) for value in values] if percent else [_ACCENT] * len(items)
        axes.barh(positions, values, color=colors, height=0.68)
        axes.set_yticks(positions, labels)
        axes.tick_params(axis="y", length=0)
        limit = 1.0 if percent else max(values, default=1) * 1.0
        axes.set_xlim(0, limit * 1.16)
        for position, (_, value, note) in zip(positions, items):
            axes.text(value + limit * 0.01, position, note, va="center", fontsize=9, color=_INK)
        if percent:
            axes.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0 %", "25 %", "50 %", "75 %", "100 %"])
        else:
            axes.xaxis.get_major_locator().set_params(integer=True)
        axes.set_xlabel(xlabel)
        if title:
            axes.set_title(title, loc="left", fontsize=10, color=_INK)
        return _png(figure, alt)


def pass_rate_plot(rates: list[tuple[str, float, int]], *, alt: str, title: str) -> str:
    ordered = sorted(rates, key=lambda item: item[1])  # stable: rubric order among equal rates
    items = [(label, rate, f"{rate:.0%} of {count}") for label, rate, count in ordered]
    return bars(items, xlabel="share of graded submissions that passed", alt=alt, percent=True, title=title)
