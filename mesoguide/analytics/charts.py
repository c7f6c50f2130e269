"""Bar charts as inline SVG, drawn by the server: no script, no font or file from elsewhere.

Each chart scales to its container (``viewBox``, width 100%), so it reads on a phone, carries a
title for screen readers (``role="img"`` with ``<title>``), and the page shows the same numbers
in a table under it. Every label is escaped: topic ids and channel names are data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

#: Distinct on white and for the common colour-vision deficiencies (Okabe–Ito palette).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442")
# Drawn at 480 units wide with 15-unit text: on a 360-pixel phone the text is still about 11 pixels.
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 480, 220, 40, 30, 14
LEGEND_PER_ROW, LEGEND_STEP, LINE = 3, 150, 20


def stacked_by_day(title: str, days: Sequence[dt.date], series: Mapping[str, Sequence[int]]) -> Markup:
    """One bar per day, stacked by series (e.g. channels), with a legend.

    Args:
        title: What the chart shows (also its accessible name).
        days: The x axis.
        series: Label -> one value per day.
    """
    totals = [sum(values[i] for values in series.values()) for i in range(len(days))]
    top = max(totals, default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(days), 1)
    bar_w = max(step * 0.7, 1.0)
    parts = [_axis(top, plot_h)]
    for i, day in enumerate(days):
        x = LEFT + i * step + (step - bar_w) / 2
        y: float = TOP + plot_h
        for colour, values in zip(PALETTE * 4, series.values(), strict=False):
            height = plot_h * values[i] / top
            if height > 0:
                y -= height
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{height:.1f}" fill="{colour}"/>')
        last = i == len(days) - 1
        if len(days) <= 7 or last or (i % max(len(days) // 4, 1) == 0 and i < len(days) - len(days) // 8):
            anchor, tx = ("end", x + bar_w) if last else ("middle", x + bar_w / 2)
            parts.append(f'<text x="{tx:.1f}" y="{HEIGHT - 10}" text-anchor="{anchor}">{day:%d %b}</text>')
    legend = _legend(list(series))
    return _svg(title, "".join(parts), legend)


def horizontal(title: str, items: Sequence[tuple[str, int]]) -> Markup:
    """One horizontal bar per item, largest first as given."""
    row_h = 24
    height = TOP + row_h * max(len(items), 1) + 8
    top = max((value for _, value in items), default=0) or 1
    label_w, plot_w = 170, WIDTH - 170 - 44
    parts = []
    for i, (label, value) in enumerate(items):
        y = TOP + i * row_h
        width = plot_w * value / top
        parts.append(f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{max(width, 1):.1f}" height="{row_h - 8}" fill="{PALETTE[0]}"/>')
        parts.append(f'<text x="{label_w + width + 4:.1f}" y="{y + 17}">{value}</text>')
    if not items:
        parts.append(f'<text x="{LEFT}" y="{TOP + 15}">Nothing in this period.</text>')
    return _svg(title, "".join(parts), "", height=height)


def _axis(top: int, plot_h: float) -> str:
    base = TOP + plot_h
    return (
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - 8}" y2="{base}" stroke="#5a6570"/>'
        f'<text x="{LEFT - 4}" y="{TOP + 10}" text-anchor="end">{top}</text>'
        f'<text x="{LEFT - 4}" y="{base}" text-anchor="end">0</text>'
    )


def _legend(labels: Sequence[str]) -> str:
    items = []
    for i, (colour, label) in enumerate(zip(PALETTE * 4, labels, strict=False)):
        x = LEFT + (i % LEGEND_PER_ROW) * LEGEND_STEP
        y = HEIGHT + 8 + (i // LEGEND_PER_ROW) * LINE
        items.append(f'<rect x="{x}" y="{y}" width="13" height="13" fill="{colour}"/>')
        items.append(f'<text x="{x + 18}" y="{y + 12}">{escape(label)}</text>')
    return "".join(items)


def _svg(title: str, body: str, legend: str, *, height: int | None = None) -> Markup:
    rows = (legend.count("<rect") + LEGEND_PER_ROW - 1) // LEGEND_PER_ROW if legend else 0
    full = (height or HEIGHT) + (rows * LINE + 8 if rows else 0)
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {full}" width="100%" role="img" aria-label="{escape(title)}" '
        f'font-family="system-ui,sans-serif" font-size="15" fill="#1d2733" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{body}{legend}</svg>"
    )
