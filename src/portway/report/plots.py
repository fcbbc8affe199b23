"""The report's charts, drawn with matplotlib (Agg, no pyplot state) and returned as inline SVG.

Each function returns an `<svg>` element as a string, with no XML prolog, no metadata and
ids scoped to the chart, so several charts can live in one HTML document. Text stays text
(svg.fonttype "none"): smaller than glyph paths, and the browser draws it with a local font,
so nothing is fetched.
"""

from __future__ import annotations

import io
import re

CANDIDATE_COLOR = "#1f6fb4"
CHAMPION_COLOR = "#e07b00"
# A horizontal bar chart stays readable up to about this many bars.
MAX_BARS = 20

_SVG_STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "portway-report",  # stable ids, so the same inputs give the same report
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
# matplotlib's SVG writer adds Dublin Core metadata with URLs; None removes each entry.
_NO_METADATA = {"Format": None, "Type": None, "Creator": None, "Date": None}
_ID = re.compile(r'\bid="([^"]+)"')


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _to_svg(figure, scope: str) -> str:
    """The figure as an <svg> element whose ids are prefixed with `scope`."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context(_SVG_STYLE):
        figure.savefig(buffer, format="svg", metadata=_NO_METADATA)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    for name in sorted(set(_ID.findall(svg)), key=len, reverse=True):
        scoped = f"{scope}-{name}"
        svg = svg.replace(f'id="{name}"', f'id="{scoped}"')
        svg = svg.replace(f'href="#{name}"', f'href="#{scoped}"').replace(f"url(#{name})", f"url(#{scoped})")
    return svg


def _style_axes(axes, title: str, xlabel: str = "", ylabel: str = "") -> None:
    axes.set_title(title, loc="left", fontsize=10, fontweight="bold")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.25)


def curve_chart(kind: str, candidate: dict, champion: dict | None, candidate_label: str,
                champion_label: str) -> str:
    """ROC (kind "roc") or precision-recall (kind "precision_recall") curves, champion overlaid."""
    x_key, y_key, title, xlabel, ylabel = {
        "roc": ("fpr", "tpr", "ROC curve", "false positive rate", "true positive rate"),
        "precision_recall": ("recall", "precision", "Precision-recall curve", "recall", "precision"),
    }[kind]
    figure = _figure(4.6, 3.9)
    axes = figure.add_subplot()
    if kind == "roc":
        axes.plot([0, 1], [0, 1], color="#999999", linewidth=0.8, linestyle=":", label="chance")
    axes.plot(candidate[x_key], candidate[y_key], color=CANDIDATE_COLOR, linewidth=1.8, label=candidate_label)
    if champion:
        axes.plot(champion[x_key], champion[y_key], color=CHAMPION_COLOR, linewidth=1.5, linestyle="--",
                  label=champion_label)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    _style_axes(axes, title, xlabel, ylabel)
    axes.legend(loc="lower right" if kind == "roc" else "lower left", fontsize=8, frameon=False)
    return _to_svg(figure, kind.replace("_", "-"))


def confusion_heatmap(matrix: list[list[int]], classes: list[str], title: str, scope: str) -> str:
    """The confusion matrix as a heatmap, counts written in each cell."""
    import numpy as np

    values = np.asarray(matrix, dtype=float)
    size = 1.2 + 0.75 * len(classes)
    figure = _figure(max(3.4, size + 0.8), max(3.0, size))
    axes = figure.add_subplot()
    image = axes.imshow(values, cmap="Blues", vmin=0)
    threshold = values.max() / 2 if values.size else 0
    for (i, j), count in np.ndenumerate(values):
        axes.text(j, i, f"{int(count):,}", ha="center", va="center",
                  color="white" if count > threshold else "#111111", fontsize=9)
    axes.set_xticks(range(len(classes)), labels=classes)
    axes.set_yticks(range(len(classes)), labels=classes)
    axes.set_xlabel("predicted")
    axes.set_ylabel("actual")
    axes.set_title(title, loc="left", fontsize=10, fontweight="bold")
    figure.colorbar(image, ax=axes, shrink=0.8)
    return _to_svg(figure, scope)


def bar_chart(values: dict[str, float], title: str, xlabel: str, scope: str, color: str = CANDIDATE_COLOR,
              empty_note: str = "nothing to show") -> str:
    """Horizontal bars, largest at the top; at most MAX_BARS (the caller says which)."""
    items = sorted(values.items(), key=lambda kv: kv[1], reverse=True)[:MAX_BARS]
    figure = _figure(6.4, 0.9 + 0.26 * max(len(items), 3))
    axes = figure.add_subplot()
    if items and any(v for _, v in items):
        names = [name for name, _ in reversed(items)]
        numbers = [value for _, value in reversed(items)]
        axes.barh(names, numbers, color=color)
        for index, value in enumerate(numbers):
            axes.text(value, index, f" {value:,.4g}", va="center", fontsize=8)
        axes.margins(x=0.15)
    else:
        axes.text(0.5, 0.5, empty_note, ha="center", va="center", transform=axes.transAxes, color="#555555")
        axes.set_yticks([])
        axes.set_xticks([])
    _style_axes(axes, title, xlabel)
    axes.grid(axis="y", visible=False)
    return _to_svg(figure, scope)
