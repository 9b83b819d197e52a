"""One trigger per schedule form, each a frozen value object.

Every trigger answers :meth:`next_due` (first due instant strictly after a moment) and
:meth:`previous_due` (last one strictly before), both as aware UTC, from its own fields
alone: no clock, no state.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeAlias
from zoneinfo import ZoneInfo

from .cron import CronTrigger
from .durations import format_duration
from .wallclock import ONE_DAY, WallClockTrigger
from .zones import as_utc

__all__ = [
    "CronTrigger",
    "DailyTrigger",
    "HourlyTrigger",
    "IntervalTrigger",
    "MonthlyTrigger",
    "Trigger",
    "WeeklyTrigger",
]

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def format_times(times: tuple[time, ...]) -> str:
    """``"09:00, 18:30"``."""
    return ", ".join(t.strftime("%H:%M") for t in times)


@dataclass(frozen=True)
class HourlyTrigger(WallClockTrigger):
    """Minute 0 of every local hour; an hour that happens twice fires twice."""

    tz: ZoneInfo
    times: tuple[time, ...] = tuple(time(hour) for hour in range(24))
    repeat_folds = True

    def day_matches(self, day: date) -> bool:
        """Every day."""
        return True

    def describe(self) -> str:
        """``"every hour at :00"``."""
        return "every hour at :00"


@dataclass(frozen=True)
class DailyTrigger(WallClockTrigger):
    """Each of :attr:`times`, every day."""

    times: tuple[time, ...]
    tz: ZoneInfo

    def day_matches(self, day: date) -> bool:
        """Every day."""
        return True

    def describe(self) -> str:
        """``"every day at 09:00, 18:30"``."""
        return f"every day at {format_times(self.times)}"


@dataclass(frozen=True)
class WeeklyTrigger(WallClockTrigger):
    """Each of :attr:`times` on :attr:`days` (0 = Monday … 6 = Sunday)."""

    days: tuple[int, ...]
    times: tuple[time, ...]
    tz: ZoneInfo

    def day_matches(self, day: date) -> bool:
        """Whether ``day`` is one of the trigger's weekdays."""
        return day.weekday() in self.days

    def describe(self) -> str:
        """``"every Monday, Thursday at 07:15"``."""
        names = ", ".join(WEEKDAY_NAMES[d] for d in self.days)
        return f"every {names} at {format_times(self.times)}"


def _month_day(year: int, month: int, wanted: int) -> date:
    return date(year, month, min(wanted, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class MonthlyTrigger(WallClockTrigger):
    """Each of :attr:`times` on day :attr:`day` of every month, or its last day if shorter."""

    day: int
    times: tuple[time, ...]
    tz: ZoneInfo

    def day_matches(self, day: date) -> bool:
        """Whether ``day`` is this month's run day."""
        return day == _month_day(day.year, day.month, self.day)

    def next_matching_day(self, day: date) -> date:
        """This month's run day if not yet past, else next month's."""
        target = _month_day(day.year, day.month, self.day)
        if target >= day:
            return target
        first_of_next = target.replace(day=28) + 4 * ONE_DAY
        return _month_day(first_of_next.year, first_of_next.month, self.day)

    def previous_matching_day(self, day: date) -> date:
        """This month's run day if already reached, else last month's."""
        target = _month_day(day.year, day.month, self.day)
        if target <= day:
            return target
        last_of_previous = day.replace(day=1) - ONE_DAY
        return _month_day(last_of_previous.year, last_of_previous.month, self.day)

    def describe(self) -> str:
        """``"every month on day 31 (the last day in shorter months) at 06:00"``."""
        shorter = " (the last day in shorter months)" if self.day > 28 else ""
        return f"every month on day {self.day}{shorter} at {format_times(self.times)}"


@dataclass(frozen=True)
class IntervalTrigger:
    """Every :attr:`every`, on a fixed grid anchored at the Unix epoch (UTC).

    The grid makes the n-th run exactly the first plus n × every, whatever the clock
    did between runs, and makes ``next_due`` a function of its argument alone.
    """

    every: timedelta

    def __post_init__(self) -> None:
        if self.every <= timedelta(0):
            raise ValueError(f"interval must be positive, got {self.every}")

    def next_due(self, after: datetime) -> datetime:
        """The first grid point strictly after ``after``, as aware UTC."""
        step = self.every // _MICROSECOND
        elapsed = (as_utc(after) - EPOCH) // _MICROSECOND
        return EPOCH + (elapsed // step + 1) * step * _MICROSECOND

    def previous_due(self, before: datetime) -> datetime:
        """The last grid point strictly before ``before``, as aware UTC."""
        step = self.every // _MICROSECOND
        elapsed = (as_utc(before, "before") - EPOCH) // _MICROSECOND
        return EPOCH + ((elapsed - 1) // step) * step * _MICROSECOND

    def describe(self) -> str:
        """``"every 15m"``."""
        return f"every {format_duration(self.every)}"


Trigger: TypeAlias = (
    HourlyTrigger | DailyTrigger | WeeklyTrigger | MonthlyTrigger | IntervalTrigger | CronTrigger
)
