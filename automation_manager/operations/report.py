"""The ``report`` action: a weekly or monthly activity report, as Markdown and JSON.

Written to ``.mp/reports/report-PERIOD-YYYY-MM-DD.{md,json}`` (atomically): runs,
success rate, items made by kind, items published per platform (from the publish
ledger), spend, and the most frequent errors.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..fsutil import atomic_write_json, atomic_write_text
from ..home import Home
from .stats import execution_stats, read_records

if TYPE_CHECKING:
    from ..executors.base import RunContext

DAYS = {"week": 7, "weekly": 7, "month": 30, "monthly": 30}


def _published(home: Home, platforms: list[str], since: datetime) -> dict[str, int]:
    from ..publishers.ledger import Ledger

    ledger = Ledger(home)
    return {name: sum(1 for t in ledger.posted_times(name) if t >= since) for name in platforms}


def _made(home: Home, since: datetime) -> dict[str, int]:
    from ..content import ContentStore

    return dict(Counter(i.kind for i in ContentStore(home).items() if i.created_at >= since))


def build_report(home: Home, platforms: list[str], period: str, now: datetime) -> dict[str, Any]:
    """The report's JSON document."""
    days = DAYS[period]
    since = now - timedelta(days=days)
    records = read_records(home, days, now)
    stats = execution_stats(records, days=days, now=now)
    ran = sum(n for s, n in stats.by_status.items() if s != "skipped")
    errors = Counter(
        str(r.get("error"))[:160]
        for r in records
        if r.get("status") in ("failed", "interrupted") and r.get("error")
    )
    return {
        "period": "month" if days == 30 else "week",
        "from": since.isoformat(),
        "to": now.isoformat(),
        "runs": stats.total,
        "by_status": stats.by_status,
        "success_rate": round(stats.by_status.get("success", 0) / ran, 4) if ran else None,
        "items_made": _made(home, since),
        "published": _published(home, platforms, since),
        "spend_usd": stats.cost_usd,
        "top_errors": [{"error": e, "count": n} for e, n in errors.most_common(5)],
    }


def to_markdown(doc: dict[str, Any]) -> str:
    """The report for people."""
    statuses = ", ".join(f"{n} {s}" for s, n in doc["by_status"].items())
    rate = "-" if doc["success_rate"] is None else f"{doc['success_rate'] * 100:.1f}%"
    lines = [
        f"# amgr {doc['period']}ly report",
        "",
        f"{doc['from'][:10]} to {doc['to'][:10]}",
        "",
        f"- runs: {doc['runs']} ({statuses or 'none'})",
        f"- success rate: {rate}",
        f"- spend: ${doc['spend_usd']:.4f}",
        "",
        "## Items made",
        "",
    ]
    lines += [f"- {k}: {n}" for k, n in sorted(doc["items_made"].items())] or ["- none"]
    lines += ["", "## Published per platform", ""]
    lines += [f"- {k}: {n}" for k, n in sorted(doc["published"].items())] or ["- none"]
    lines += ["", "## Top errors", ""]
    lines += [f"- {e['count']}× {e['error']}" for e in doc["top_errors"]] or ["- none"]
    return "\n".join(lines) + "\n"


def report_action(ctx: RunContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``report`` action: build, then write both files."""
    home: Home = ctx.home
    now = ctx.now()
    doc = build_report(home, list(ctx.config.platforms), str(params.get("period", "week")), now)
    stem = home.mp / "reports" / f"report-{doc['period']}-{now.date().isoformat()}"
    md, js = stem.with_suffix(".md"), stem.with_suffix(".json")
    atomic_write_json(js, doc)
    atomic_write_text(md, to_markdown(doc))
    return {
        "summary": f"{doc['period']}ly report: {doc['runs']} runs, spend ${doc['spend_usd']:.4f}",
        "files": [str(md), str(js)],
        "runs": doc["runs"],
    }
