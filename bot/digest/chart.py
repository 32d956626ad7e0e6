"""The weekly chart as inline SVG, drawn here on the server: no script, no CDN.

One stacked bar per ISO week, one segment per tier (strictest at the bottom).
Every segment carries ``data-week``, ``data-tier`` and ``data-count`` and a
``<title>`` tooltip, so a person hovering and a test reading the DOM see the
same numbers the bars are drawn from.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.digest.model import TIER_ORDER, WeekCount

TIER_COLOURS = {
    "bidirectional": "#b3261e",
    "forward": "#e8a317",
    "best-effort": "#2f6db5",
    "unknown": "#8a8f98",
}
WIDTH = 720
HEIGHT = 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 36, 12, 24, 48


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def chart_svg(weeks: Sequence[WeekCount]) -> str:
    plot_w = WIDTH - _LEFT - _RIGHT
    plot_h = HEIGHT - _TOP - _BOTTOM
    top = max((w.total for w in weeks), default=0)
    scale = plot_h / top if top else 0.0
    slot = plot_w / max(1, len(weeks))
    bar_w = min(48.0, slot * 0.6)
    base_y = _TOP + plot_h
    label = "Migration-affecting changes per week, by tier: " + "; ".join(
        f"{w.label} {w.total}" for w in weeks
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="weekly-chart" class="chart" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{_attr(label)}" data-max="{top}">',
        f"<title>{escape(label)}</title>",
        f'<line class="axis" x1="{_LEFT}" y1="{base_y}" x2="{WIDTH - _RIGHT}" y2="{base_y}" '
        'stroke="#555" stroke-width="1"/>',
        f'<text class="axis-label" x="{_LEFT - 6}" y="{_TOP + 4}" text-anchor="end" '
        f'font-size="11" fill="#555">{top}</text>',
        f'<text class="axis-label" x="{_LEFT - 6}" y="{base_y}" text-anchor="end" '
        'font-size="11" fill="#555">0</text>',
    ]
    for i, week in enumerate(weeks):
        x = _LEFT + slot * i + (slot - bar_w) / 2
        y = float(base_y)
        for tier in TIER_ORDER:
            n = week.count(tier)
            if not n:
                continue
            h = n * scale
            y -= h
            out.append(
                f'<rect class="bar" data-week="{_attr(week.label)}" data-tier="{_attr(tier)}" '
                f'data-count="{n}" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{TIER_COLOURS[tier]}"><title>{escape(week.label)}: {n} {escape(tier)}'
                "</title></rect>"
            )
        centre = x + bar_w / 2
        out.append(
            f'<text class="total" data-week="{_attr(week.label)}" data-total="{week.total}" '
            f'x="{centre:.1f}" y="{y - 4:.1f}" text-anchor="middle" font-size="12" '
            f'fill="#222">{week.total}</text>'
        )
        out.append(
            f'<text class="week" x="{centre:.1f}" y="{base_y + 16}" text-anchor="middle" '
            f'font-size="11" fill="#333">{escape(week.label[-3:])}</text>'
        )
    legend_x = float(_LEFT)
    shown = [t for t in TIER_ORDER if t != "unknown" or any(w.count(t) for w in weeks)]
    for tier in shown:
        out.append(
            f'<rect class="legend" x="{legend_x:.0f}" y="{HEIGHT - 18}" width="10" height="10" '
            f'fill="{TIER_COLOURS[tier]}"/>'
            f'<text x="{legend_x + 14:.0f}" y="{HEIGHT - 9}" font-size="11" fill="#333">'
            f"{escape(tier)}</text>"
        )
        legend_x += 40 + 7 * len(tier)
    out.append("</svg>")
    return "\n".join(out)
