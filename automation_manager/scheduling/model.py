"""The Schedule value: a trigger plus the options every schedule may carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ..enums import MisfirePolicy
from .durations import format_duration
from .triggers import IntervalTrigger, Trigger


@dataclass(frozen=True)
class Schedule:
    """When a task is due, parsed and validated. Build with :func:`parse_schedule`.

    Two schedules that fire at the same times with the same options are equal (and hash
    alike) even when written differently (``"daily"`` and ``{"every": "day"}``).

    :param trigger: the form (daily, weekly, cron, ...) with its times and zone.
    :param tz: the zone local times are read in.
    :param timezone_name: its IANA name.
    :param jitter: the most a run may be delayed to spread load; ``timedelta(0)`` for none.
    :param misfire: what to do with due times missed while no daemon ran.
    :param grace: how old a missed due time may be and still be caught up; None = any.
    :param raw: the value it was parsed from, as written.
    """

    trigger: Trigger
    tz: ZoneInfo = field(compare=False)
    timezone_name: str
    jitter: timedelta = timedelta(0)
    misfire: MisfirePolicy = MisfirePolicy.ONCE
    grace: timedelta | None = None
    raw: object = field(default=None, compare=False)

    def next_due(self, after: datetime) -> datetime:
        """The first due instant strictly after ``after``, as aware UTC.

        :param after: any aware datetime, in any zone.
        :raises ValueError: if ``after`` is naive.
        """
        return self.trigger.next_due(after)

    def previous_due(self, before: datetime) -> datetime:
        """The last due instant strictly before ``before``, as aware UTC.

        :raises ValueError: if ``before`` is naive.
        """
        return self.trigger.previous_due(before)

    def describe(self) -> str:
        """Human text, e.g. ``"every day at 09:00, 18:30 (Europe/Berlin)"``."""
        text = self.trigger.describe()
        if not isinstance(self.trigger, IntervalTrigger):
            text += f" ({self.timezone_name})"
        if self.jitter:
            text += f", up to {format_duration(self.jitter)} later"
        if self.misfire is not MisfirePolicy.ONCE or self.grace is not None:
            text += f"; missed runs: {self.misfire.value}"
            if self.grace is not None:
                text += f" within {format_duration(self.grace)}"
        return text

    def __str__(self) -> str:
        return self.describe()
