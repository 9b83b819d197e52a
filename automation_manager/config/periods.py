"""The ``period`` of a sales_report task: the one normaliser, used at validation and at run time.

People write the seed's way (``weekly``, ``monthly``, ``daily``) as often as amgr's
(``week``, ``month``, ``day``); both mean the same rolling window. Validation refuses a
period that names no window, so a bad one is exit 2 before any run, never a failed
record. The windows themselves are :func:`~automation_manager.content.sales.period_window`.
"""

from __future__ import annotations

import re
from datetime import date

ALIASES = {"daily": "day", "weekly": "week", "monthly": "month", "yearly": "year"}
"""The seed's spellings and what they mean."""

NAMES = frozenset(
    {"day", "week", "month", "year", "today", "this_week", "this_month", "this_year"}
    | {"yesterday", "last_week", "last_month", "last_year", "all"}
)

PERIOD_FIX = (
    "use day (or daily), week (weekly), month (monthly), year, today, this_week, "
    "this_month, this_year, yesterday, last_week, last_month, last_year, last_N_days, "
    "YYYY, YYYY-MM, YYYY-MM-DD or all (e.g. -p period=month)"
)


def normalise_period(value: str) -> str:
    """``" Weekly "`` → ``"week"``: lower case, trimmed, the seed's spellings mapped."""
    text = value.strip().lower()
    return ALIASES.get(text, text)


def period_problem(value: object) -> str | None:
    """Why ``value`` is not a reporting period, or ``None`` when it is one."""
    if not isinstance(value, str):
        return f"period {value!r} must be text"
    p = normalise_period(value)
    if p in NAMES:
        return None
    days = re.fullmatch(r"last_(\d{1,4})_days", p)
    if days:
        return None if int(days.group(1)) >= 1 else f"period {value!r} needs at least 1 day"
    for pattern, pad in ((r"\d{4}", "-01-01"), (r"\d{4}-\d{2}", "-01"), (r"\d{4}-\d{2}-\d{2}", "")):
        if re.fullmatch(pattern, p):
            try:
                date.fromisoformat(p + pad)
            except ValueError:
                return f"period {value!r} is not a calendar date"
            return None
    return f"period {value!r} is not a reporting period"
