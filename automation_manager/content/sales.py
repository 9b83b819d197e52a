"""Sales records and the totals a sales report shows.

Records live in ``.mp/sales/``: ``*.jsonl`` files with one JSON object per line, and
``*.csv`` files (a header row, the same column names), for example exported from a shop::

    {"timestamp": "2025-03-31T14:02:00+00:00", "product": "Focus ebook",
     "channel": "gumroad", "amount": 9.99, "currency": "USD", "quantity": 1, "refund": false}

``amount`` is what the line charged in total (not a unit price); a refund is a line with
``refund: true`` and the refunded amount (its sign is ignored). ``currency`` defaults to
USD, ``quantity`` to 1, ``channel`` to ``direct``. A timestamp without an offset is
local time in the home's time zone. Lines that do not parse (a torn last line, a typo)
are skipped and counted, never fatal.

Periods (``period`` of a sales_report task):

- ``day``, ``week``, ``month``, ``year``: the rolling window ending now — 24 hours, 7,
  30 and 365 days — so a weekly report run every Monday covers the week since the last
  one, not the few hours of the new week. ``last_7_days`` and ``last_30_days`` are the
  same as ``week`` and ``month``; ``last_N_days`` works for any N.
- ``today``, ``this_week`` (since Monday), ``this_month``, ``this_year``: the calendar
  period so far; ``yesterday``, ``last_week``, ``last_month``, ``last_year``: the previous
  complete calendar period (handy for a report on the 1st of the month).
- ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``: that calendar year, month or day.
- ``all``: every record.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..config.periods import PERIOD_FIX, normalise_period
from ..errors import TaskError


class Sale(BaseModel):
    """One sales line (the format of ``.mp/sales/*.jsonl`` and ``*.csv``)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    timestamp: datetime
    product: Annotated[str, Field(min_length=1)]
    channel: Annotated[str, Field(min_length=1)] = "direct"
    amount: Decimal
    currency: Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")] = "USD"
    quantity: Annotated[int, Field(ge=0)] = 1
    refund: bool = False

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("amount")
    @classmethod
    def _finite(cls, value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("amount must be a number")
        return value


@dataclass(frozen=True)
class Window:
    """A reporting period: ``start <= t < end``; ``start`` None means since the beginning."""

    label: str
    start: datetime | None
    end: datetime

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` falls inside the window."""
        return (self.start is None or moment >= self.start) and moment < self.end


def _midnight(day: date, tz: tzinfo | None) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def _month_start(year: int, month: int) -> date:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year, month, 1)


def period_window(period: str, now: datetime) -> Window:
    """The window ``period`` names, relative to ``now`` (an aware local time)."""
    p = normalise_period(period)
    tz = now.tzinfo
    today = now.date()
    end = now + timedelta(microseconds=1)
    rolling = {"day": 1, "week": 7, "month": 30, "year": 365}
    if p in rolling or re.fullmatch(r"last_\d{1,4}_days", p):
        days = rolling.get(p) or int(p.split("_")[1])
        if days < 1:
            raise TaskError(f"period={period!r} needs at least 1 day: {PERIOD_FIX}")
        return Window(
            f"last {days} days" if days > 1 else "last 24 hours", now - timedelta(days=days), end
        )
    monday = today - timedelta(days=today.weekday())
    calendar: dict[str, tuple[date, date | None]] = {
        "today": (today, None),
        "this_week": (monday, None),
        "this_month": (today.replace(day=1), None),
        "this_year": (date(today.year, 1, 1), None),
        "yesterday": (today - timedelta(days=1), today),
        "last_week": (monday - timedelta(days=7), monday),
        "last_month": (_month_start(today.year, today.month - 1), today.replace(day=1)),
        "last_year": (date(today.year - 1, 1, 1), date(today.year, 1, 1)),
    }
    if p in calendar:
        first, after = calendar[p]
        stop = _midnight(after, tz) if after else end
        last = after - timedelta(days=1) if after else today
        span = first.isoformat() + (f" to {last.isoformat()}" if last != first else "")
        return Window(f"{p.replace('_', ' ')} ({span})", _midnight(first, tz), stop)
    if p == "all":
        return Window("all time", None, end)
    try:
        if re.fullmatch(r"\d{4}", p):
            y = int(p)
            return Window(p, _midnight(date(y, 1, 1), tz), _midnight(date(y + 1, 1, 1), tz))
        if re.fullmatch(r"\d{4}-\d{2}", p):
            y, m = map(int, p.split("-"))
            first = date(y, m, 1)
            return Window(p, _midnight(first, tz), _midnight(_month_start(y, m + 1), tz))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", p):
            d = date.fromisoformat(p)
            return Window(p, _midnight(d, tz), _midnight(d + timedelta(days=1), tz))
    except ValueError:
        pass
    raise TaskError(f"period={period!r} is not a reporting period: {PERIOD_FIX}")


@dataclass
class Loaded:
    """Every readable sale, and what could not be read."""

    sales: list[Sale] = field(default_factory=list)
    skipped: int = 0
    problems: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def skip(self, where: str, why: str) -> None:
        """Count one unreadable line; keep the first 20 reasons for the report."""
        self.skipped += 1
        if len(self.problems) < 20:
            self.problems.append(f"{where}: {why}")


def _why(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "line"
    return f"{loc}: {err['msg']}"


def _accept(raw: Any, where: str, tz: tzinfo | None, out: Loaded) -> None:
    if not isinstance(raw, dict):
        out.skip(where, "not a JSON object")
        return
    data = {k: v for k, v in raw.items() if v is not None and v != ""}
    try:
        sale = Sale.model_validate(data)
    except ValidationError as exc:
        out.skip(where, _why(exc))
        return
    if sale.amount < 0 and not sale.refund:
        out.skip(where, "amount is negative: record refunds with refund=true")
        return
    if sale.timestamp.tzinfo is None:
        sale.timestamp = sale.timestamp.replace(tzinfo=tz)
    out.sales.append(sale)


def load_sales(folder: Path, tz: tzinfo | None) -> Loaded:
    """Read every ``*.jsonl`` and ``*.csv`` in ``folder`` (a missing folder is no sales)."""
    out = Loaded()
    if not folder.is_dir():
        return out
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".jsonl", ".csv") or not path.is_file():
            continue
        out.files.append(path.name)
        with open(path, encoding="utf-8", errors="replace", newline="") as fh:
            if path.suffix == ".jsonl":
                for n, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        raw = json.loads(line)
                    except ValueError:
                        out.skip(f"{path.name}:{n}", "not valid JSON (torn or edited line)")
                        continue
                    _accept(raw, f"{path.name}:{n}", tz, out)
            else:
                reader = csv.DictReader(fh)
                for row in reader:
                    where = f"{path.name}:{reader.line_num}"
                    if None in row:
                        out.skip(where, "more cells than header columns")
                        continue
                    _accept({k.strip(): v for k, v in row.items() if k}, where, tz, out)
    return out


@dataclass
class Totals:
    """Totals of one group (a product, a channel or everything) in one currency."""

    currency: str
    count: int = 0
    units: int = 0
    gross: Decimal = Decimal(0)
    refunds: Decimal = Decimal(0)
    refund_count: int = 0

    @property
    def net(self) -> Decimal:
        """Gross less refunds."""
        return self.gross - self.refunds

    def add(self, sale: Sale) -> None:
        """Count one sale or refund."""
        if sale.refund:
            self.refund_count += 1
            self.refunds += abs(sale.amount)
        else:
            self.count += 1
            self.units += sale.quantity
            self.gross += sale.amount

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready totals, money rounded to cents."""

        def money(value: Decimal) -> float:
            return float(value.quantize(Decimal("0.01")))

        return {
            "currency": self.currency,
            "count": self.count,
            "units": self.units,
            "gross": money(self.gross),
            "refunds": money(self.refunds),
            "refund_count": self.refund_count,
            "net": money(self.net),
        }


@dataclass
class SalesReport:
    """Totals for one window: overall, by product and by channel (per currency)."""

    window: Window
    total: dict[str, Totals]
    by_product: dict[tuple[str, str], Totals]
    by_channel: dict[tuple[str, str], Totals]
    loaded: Loaded

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON (also the ``report.json`` file); groups by net, largest first."""

        def rows(groups: dict[tuple[str, str], Totals], key: str) -> list[dict[str, Any]]:
            ordered = sorted(groups.items(), key=lambda kv: (-kv[1].net, kv[0]))
            return [{key: name, **t.as_dict()} for (name, _), t in ordered]

        w = self.window
        return {
            "period": w.label,
            "start": w.start.isoformat() if w.start else None,
            "end": w.end.isoformat(),
            "totals": [t.as_dict() for _, t in sorted(self.total.items())],
            "by_product": rows(self.by_product, "product"),
            "by_channel": rows(self.by_channel, "channel"),
            "records": sum(t.count + t.refund_count for t in self.total.values()),
            "files": self.loaded.files,
            "skipped_lines": self.loaded.skipped,
            "problems": self.loaded.problems,
        }


def build_report(loaded: Loaded, window: Window) -> SalesReport:
    """Group the sales inside ``window``; with none, every total is zero (USD)."""
    total: dict[str, Totals] = {}
    by_product: dict[tuple[str, str], Totals] = defaultdict(lambda: Totals(""))
    by_channel: dict[tuple[str, str], Totals] = defaultdict(lambda: Totals(""))
    for sale in loaded.sales:
        if not window.contains(sale.timestamp):
            continue
        cur = sale.currency
        total.setdefault(cur, Totals(cur)).add(sale)
        for groups, name in ((by_product, sale.product), (by_channel, sale.channel)):
            group = groups[(name, cur)]
            group.currency = cur
            group.add(sale)
    if not total:
        total["USD"] = Totals("USD")
    return SalesReport(window, total, dict(by_product), dict(by_channel), loaded)
