"""The plan coverage chart: server-rendered SVG, no script, no external font or CDN.

One group of three horizontal bars per target (inspected, drawn, projected, as shares of
the target's denominator) with a vertical mark at the target's ratio, so a short target is
seen at a glance. It decorates the report's table, which carries the same numbers; the
``<title>`` and ``<desc>`` say them for screen readers. Pure: no database, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

__all__ = ["coverage_chart"]

WIDTH = 640
LABEL = 150
VALUE = 80
BAR = 14
GAP = 4
GROUP_GAP = 14
TOP = 24

#: The three measures, each with its CSS class and words.
MEASURES = (
    ("inspected_rate", "chart-inspected", "已检查", "inspected"),
    ("drawn_rate", "chart-drawn", "已抽取", "drawn"),
    ("projected_rate", "chart-projected", "预计", "projected"),
)


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def coverage_chart(targets: Sequence[Mapping[str, Any]], *, chart_id: str) -> str:
    """The SVG markup (escaped here) of a plan report's targets; empty without targets."""
    if not targets:
        return ""
    top = max(
        [float(t["ratio"]) for t in targets] + [float(t[m[0]]) for t in targets for m in MEASURES]
    )
    top = min(1.0, max(top * 1.15, 0.01))
    plot = WIDTH - LABEL - VALUE
    group = len(MEASURES) * (BAR + GAP) + GROUP_GAP
    height = TOP + len(targets) * group
    cid = escape(chart_id)
    desc = "; ".join(
        f"{t['id']}: 目标 target {_pct(float(t['ratio']))}, "
        + ", ".join(f"{zh} {en} {_pct(float(t[key]))}" for key, _, zh, en in MEASURES)
        for t in targets
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart plan-chart" id="{cid}" '
        f'role="img" aria-labelledby="{cid}-t" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}">',
        f'<title id="{cid}-t">覆盖率 / coverage</title>',
        f"<desc>{escape(desc)}</desc>",
    ]
    x = LABEL
    for _key, css, zh, en in MEASURES:  # the legend
        parts.append(
            f'<rect x="{x}" y="4" width="10" height="10" class="{css}"/>'
            f'<text x="{x + 14}" y="13" class="chart-label">{zh} {en}</text>'
        )
        x += 130
    for index, t in enumerate(targets):
        y0 = TOP + index * group
        status = escape(str(t.get("status", "")))
        parts.append(f'<g class="chart-target" data-target="{escape(str(t["id"]))}" '
                     f'data-status="{status}">')  # fmt: skip
        parts.append(
            f'<text x="{LABEL - 8}" y="{y0 + BAR * 1.6:.1f}" text-anchor="end" '
            f'class="chart-label">{escape(str(t["id"]))}</text>'
        )
        for row, (key, css, _, _) in enumerate(MEASURES):
            y = y0 + row * (BAR + GAP)
            value = float(t[key])
            width = round(plot * min(value, top) / top, 1)
            parts.append(
                f'<rect x="{LABEL}" y="{y}" width="{width}" height="{BAR}" class="{css}"/>'
                f'<text x="{LABEL + width + 4:.1f}" y="{y + BAR * 0.85:.1f}" '
                f'class="chart-value">{_pct(value)}</text>'
            )
        mark = round(LABEL + plot * float(t["ratio"]) / top, 1)
        bottom = y0 + len(MEASURES) * (BAR + GAP)
        parts.append(
            f'<line x1="{mark}" y1="{y0 - 2}" x2="{mark}" y2="{bottom}" class="chart-goal"/>'
            f'<text x="{mark + 2}" y="{bottom + 9}" class="chart-value">'
            f"目标 {_pct(float(t['ratio']))}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)
