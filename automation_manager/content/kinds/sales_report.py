"""Sales report: totals by product and channel as Markdown tables and JSON.

No model is involved: the numbers come from the sales records (see ``content.sales``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..render import Rendered, md_escape, to_json
from ..sales import SalesReport


def _money(value: float, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def _table(rows: list[dict[str, Any]], key: str) -> list[str]:
    if not rows:
        return ["No sales in this period.", ""]
    out = [f"| {key} | sales | units | gross | refunds | net |", "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        c = r["currency"]
        out.append(
            f"| {md_escape(r[key])} | {r['count']} | {r['units']} | "
            f"{_money(r['gross'], c)} | {_money(r['refunds'], c)} "
            f"({r['refund_count']}) | {_money(r['net'], c)} |"
        )
    return [*out, ""]


def render(report: SalesReport, now: datetime) -> Rendered:
    """report.md and report.json for one period."""
    data = report.as_dict()
    title = f"Sales report: {data['period']}"
    totals = data["totals"]
    md = [
        f"# {title}\n",
        f"Generated {now.isoformat(timespec='seconds')} from "
        f"{', '.join(data['files']) or 'no sales files'} in .mp/sales/.\n",
        "## Totals\n",
        "| currency | sales | units | gross | refunds | net |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for t in totals:
        c = t["currency"]
        md.append(
            f"| {c} | {t['count']} | {t['units']} | {_money(t['gross'], c)} | "
            f"{_money(t['refunds'], c)} ({t['refund_count']}) | {_money(t['net'], c)} |"
        )
    md += [
        "",
        "## By product\n",
        *_table(data["by_product"], "product"),
        "## By channel\n",
        *_table(data["by_channel"], "channel"),
    ]
    if data["skipped_lines"]:
        md += [
            f"## Skipped lines ({data['skipped_lines']})\n",
            *(f"- {p}" for p in data["problems"]),
            "",
        ]
    head = "; ".join(f"{t['count']} sales, {_money(t['net'], t['currency'])} net" for t in totals)
    summary = (
        f"sales report for {data['period']}: {head}, {len(data['by_product'])} "
        f"products, {len(data['by_channel'])} channels"
    )
    if data["skipped_lines"]:
        summary += f" ({data['skipped_lines']} unreadable lines skipped)"
    return Rendered(
        title=title,
        files={"markdown": ("report.md", "\n".join(md)), "json": ("report.json", to_json(data))},
        summary=summary,
        meta={
            "period": data["period"],
            "start": data["start"],
            "end": data["end"],
            "totals": totals,
        },
    )
