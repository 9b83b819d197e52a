"""sales_report: totals by product and channel from .mp/sales/*.jsonl and *.csv."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from automation_manager import AutomationManager
from automation_manager.content.sales import period_window
from automation_manager.errors import ConfigError

NOW = datetime(2025, 3, 31, 12, 0, tzinfo=UTC)


def report(home: Path, period: str | None = None) -> dict[str, Any]:
    mgr = AutomationManager(home, clock=lambda: NOW)
    task: dict[str, Any] = {"type": "sales_report"}
    if period:
        task["period"] = period
    record = mgr.execute_monetization_task(task)
    assert record["status"] == "success", record
    result: dict[str, Any] = record["result"]
    return result


def plant(home: Path) -> None:
    sales = home / ".mp" / "sales"
    sales.mkdir(parents=True)
    lines = [
        {
            "timestamp": "2025-03-10T09:00:00+00:00",
            "product": "Focus ebook",
            "channel": "gumroad",
            "amount": 9.99,
            "currency": "USD",
            "quantity": 1,
            "refund": False,
        },
        {
            "timestamp": "2025-03-12T09:00:00+00:00",
            "product": "Focus ebook",
            "channel": "gumroad",
            "amount": 9.99,
        },
        {
            "timestamp": "2025-03-15T10:00:00+00:00",
            "product": "Focus ebook",
            "channel": "gumroad",
            "amount": 9.99,
            "refund": True,
        },
        {
            "timestamp": "2025-02-01T10:00:00+00:00",
            "product": "Old ebook",
            "channel": "gumroad",
            "amount": 4.99,
        },
        {
            "timestamp": "2025-03-20T10:00:00",
            "product": "Sleep ebook",
            "channel": "site",
            "amount": "not a number",
        },
    ]
    text = "\n".join(json.dumps(line) for line in lines) + '\n{"timestamp": "2025-03-2'
    (sales / "2025-03.jsonl").write_text(text)
    (sales / "shop-export.csv").write_text(
        "timestamp,product,channel,amount,currency,quantity,refund\n"
        "2025-03-20T10:00:00,Sleep ebook,etsy,19.98,usd,2,false\n"
        "2025-03-21T10:00:00,Focus ebook,etsy,9.99,,,\n"
        "2025-03-22T10:00:00,Focus ebook,etsy,-9.99,USD,1,no\n"
    )
    (sales / "notes.txt").write_text("not a sales file")


def test_report_totals_by_product_and_channel_from_jsonl_and_csv(home: Path) -> None:
    plant(home)
    result = report(home, "month")
    assert result["period"] == "last 30 days"
    assert result["totals"] == [
        {
            "currency": "USD",
            "count": 4,
            "units": 5,
            "gross": 49.95,
            "refunds": 9.99,
            "refund_count": 1,
            "net": 39.96,
        }
    ]
    assert result["skipped_lines"] == 3  # bad amount, torn last line, negative sale
    data = json.loads(Path(next(f for f in result["files"] if f.endswith(".json"))).read_text())
    products = {r["product"]: r for r in data["by_product"]}
    assert products["Focus ebook"]["count"] == 3
    assert products["Focus ebook"]["net"] == pytest.approx(19.98)
    assert products["Sleep ebook"]["units"] == 2 and products["Sleep ebook"]["net"] == 19.98
    assert "Old ebook" not in products
    channels = {r["channel"]: r for r in data["by_channel"]}
    assert channels["gumroad"]["gross"] == 19.98 and channels["gumroad"]["refunds"] == 9.99
    assert channels["etsy"]["gross"] == 29.97
    assert any("2025-03.jsonl:6" in p for p in data["problems"])
    md = Path(next(f for f in result["files"] if f.endswith(".md"))).read_text()
    assert "## By product" in md and "## By channel" in md and "Sleep ebook" in md


def test_report_is_a_draft_item_kept_out_of_the_publish_queue(home: Path) -> None:
    result = report(home, "week")
    item = json.loads((home / ".mp" / "content" / result["content_id"] / "item.json").read_text())
    assert item["kind"] == "report" and item["status"] == "draft"


def test_calendar_month_and_all_time_periods(home: Path) -> None:
    plant(home)
    feb = report(home, "2025-02")
    assert feb["totals"][0]["gross"] == 4.99 and feb["products"] == 1
    every = report(home, "all")
    assert every["totals"][0]["count"] == 5


def test_no_sales_gives_zeros_not_an_error(home: Path) -> None:
    result = report(home)
    assert result["totals"] == [
        {
            "currency": "USD",
            "count": 0,
            "units": 0,
            "gross": 0.0,
            "refunds": 0.0,
            "refund_count": 0,
            "net": 0.0,
        }
    ]
    assert result["products"] == 0 and result["skipped_lines"] == 0


def test_an_unknown_period_fails_with_the_choices(home: Path) -> None:
    mgr = AutomationManager(home, clock=lambda: NOW)
    with pytest.raises(ConfigError) as caught:  # refused at validation: no record
        mgr.execute_monetization_task({"type": "sales_report", "period": "fortnight"})
    assert "period 'fortnight' is not a reporting period" in str(caught.value)
    assert "last_month" in str(caught.value)
    assert mgr.get_task_history(days=1) == []


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("week", "2025-03-24T12:00:00", None),
        ("last_7_days", "2025-03-24T12:00:00", None),
        ("today", "2025-03-31T00:00:00", None),
        ("this_month", "2025-03-01T00:00:00", None),
        ("last_month", "2025-02-01T00:00:00", "2025-03-01T00:00:00"),
        ("last_week", "2025-03-24T00:00:00", "2025-03-31T00:00:00"),
        ("2024", "2024-01-01T00:00:00", "2025-01-01T00:00:00"),
        ("2024-12", "2024-12-01T00:00:00", "2025-01-01T00:00:00"),
        ("2025-03-05", "2025-03-05T00:00:00", "2025-03-06T00:00:00"),
    ],
)
def test_period_windows(period: str, start: str, end: str | None) -> None:
    window = period_window(period, NOW)
    assert window.start is not None
    assert window.start.replace(tzinfo=None).isoformat() == start
    if end:
        assert window.end.replace(tzinfo=None).isoformat() == end
    else:
        assert window.end > NOW
