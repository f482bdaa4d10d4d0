"""SVG bar charts drawn by the project: no script, no external font or CDN.

Each chart is a self-contained ``<svg>`` with a ``<title>`` and ``<desc>`` for screen
readers and a table of the same numbers beside it on the page (the chart is decoration
for the table, which is the accessible, printable form).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

BAR_HEIGHT = 22
GAP = 6
LABEL_WIDTH = 170
CHART_WIDTH = 640
VALUE_WIDTH = 70


def bar_chart(title: str, rows: Sequence[tuple[str, int]], *, chart_id: str) -> str:
    """A horizontal bar chart of (label, count) rows as SVG markup (escaped here)."""
    if not rows:
        return ""
    top = max(count for _, count in rows) or 1
    plot = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = len(rows) * (BAR_HEIGHT + GAP) + GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-t" width="{CHART_WIDTH}" '
        f'height="{height}" viewBox="0 0 {CHART_WIDTH} {height}">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
        f"<desc>{escape('; '.join(f'{label}: {count}' for label, count in rows))}</desc>",
    ]
    for index, (label, count) in enumerate(rows):
        y = GAP + index * (BAR_HEIGHT + GAP)
        width = max(1, round(plot * count / top)) if count else 0
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT * 0.7:.1f}" '
            f'text-anchor="end" class="chart-label">{escape(label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width}" height="{BAR_HEIGHT}" '
            f'class="chart-bar"/>'
            f'<text x="{LABEL_WIDTH + width + 6}" y="{y + BAR_HEIGHT * 0.7:.1f}" '
            f'class="chart-value">{count:,}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
