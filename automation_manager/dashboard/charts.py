"""The Overview's 30-day charts, drawn on the server as inline SVG (no client library).

A chart is bars per day, stacked by series; colours come from CSS classes
(``static/style.css``), so the markup holds no inline style and passes the CSP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

if TYPE_CHECKING:
    from ..manager import AutomationManager

DAYS = 30
WIDTH, HEIGHT, PAD = 600, 160, 28


@dataclass(frozen=True)
class Series:
    label: str
    css: str
    values: list[float]


def bar_chart(title: str, days: list[date], series: list[Series], unit: str = "") -> Markup:
    """Stacked bars, one per day, with the maximum on the axis and a title per bar."""
    totals = [sum(s.values[i] for s in series) for i in range(len(days))]
    top = max(totals, default=0) or 1
    step = (WIDTH - PAD) / max(len(days), 1)
    scale = (HEIGHT - PAD) / top
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line class="axis" x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH}" y2="{HEIGHT - PAD}"/>',
        f'<text class="tick" x="2" y="12">{_fmt(top, unit)}</text>',
        f'<text class="tick" x="2" y="{HEIGHT - PAD}">0</text>',
    ]
    for i, day in enumerate(days):
        x = PAD + i * step + 1
        y = float(HEIGHT - PAD)
        for s in series:
            h = s.values[i] * scale
            if h <= 0:
                continue
            y -= h
            parts.append(
                f'<rect class="{s.css}" x="{x:.1f}" y="{y:.1f}" width="{step - 2:.1f}" '
                f'height="{h:.1f}"><title>{day.isoformat()} {escape(s.label)}: '
                f"{_fmt(s.values[i], unit)}</title></rect>"
            )
        if i % 7 == 0 or (i == len(days) - 1 and i % 7 >= 4):
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{HEIGHT - 8}">{day.strftime("%m-%d")}</text>'
            )
    legend_x = PAD
    for s in series:
        parts.append(
            f'<rect class="{s.css}" x="{legend_x}" y="2" width="10" height="10"/>'
            f'<text class="tick" x="{legend_x + 14}" y="11">{escape(s.label)}</text>'
        )
        legend_x += 24 + 7 * len(s.label)
    parts.append("</svg>")
    return Markup("".join(parts))


def _fmt(value: float, unit: str) -> str:
    if unit == "$":
        return f"${value:.4f}" if value < 1 else f"${value:.2f}"
    return f"{value:g}"


def overview_charts(mgr: AutomationManager) -> dict[str, Markup]:
    """Runs per day by outcome, spend per day, and posts per day per platform."""
    from ..logs.history import HistoryQuery, HistoryScan
    from ..publishers.ledger import Ledger

    now = mgr.now().astimezone()
    today = now.date()
    days = [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    scan = HistoryScan(mgr.home, HistoryQuery(days=DAYS), now)
    for _ in scan:
        pass
    per_day: dict[str, Any] = scan.summary().per_day
    runs = [per_day[d.isoformat()].runs if d.isoformat() in per_day else 0 for d in days]
    failed = [per_day[d.isoformat()].failed if d.isoformat() in per_day else 0 for d in days]
    cost = [per_day[d.isoformat()].cost_usd if d.isoformat() in per_day else 0.0 for d in days]
    ledger = Ledger(mgr.home)
    index = {d: i for i, d in enumerate(days)}
    posts: list[Series] = []
    for n, name in enumerate(sorted(mgr.workspace.config.platforms)):
        values = [0.0] * DAYS
        for when in ledger.posted_times(name):
            i = index.get(when.astimezone(now.tzinfo).date())
            if i is not None and when <= now:
                values[i] += 1
        posts.append(Series(name, f"s{n % 6}", values))
    return {
        "runs": bar_chart(
            "runs per day",
            days,
            [
                Series("ok", "ok", [float(r - f) for r, f in zip(runs, failed, strict=True)]),
                Series("failed", "bad", [float(f) for f in failed]),
            ],
        ),
        "spend": bar_chart("model spend per day", days, [Series("spend", "s1", cost)], "$"),
        "posts": bar_chart(
            "posts per day per platform", days, posts or [Series("no platform", "s0", [0.0] * DAYS)]
        ),
    }
