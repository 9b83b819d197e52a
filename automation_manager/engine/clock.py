"""Clocks are passed in so time logic can be tested without sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def system_clock(tz_name: str) -> Clock:
    """Now, aware, in ``tz_name``."""
    tz = ZoneInfo(tz_name)

    def now() -> datetime:
        return datetime.now(tz)

    return now
