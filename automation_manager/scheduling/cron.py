"""Cron expressions, matched in local wall-clock time.

croniter parses and validates the five fields; the matching is done here, on local dates
and times, so a cron schedule keeps the same DST rule as every other wall-clock form
(croniter's own iteration runs ``30 2 * * *`` twice on a fall-back day) and costs
microseconds rather than building a croniter object per call.

Semantics: ``minute hour day-of-month month day-of-week``, names (``mon``, ``jan``),
``*``, ``,``, ``-``, ``/``, ``?``, ``L`` (last day of month), ``L5`` (last Friday) and
``5#2`` (second Friday). When both day fields are restricted a day matching either
runs (classic cron). A ``*`` hour field keeps firing through a repeated hour.
"""

from __future__ import annotations

import calendar
import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from .errors import ScheduleSpecError
from .wallclock import ONE_DAY, WallClockTrigger

CRON_FIX = (
    'write 5 fields "minute hour day-of-month month day-of-week", '
    'e.g. "0 9 * * 1-5" (09:00 on weekdays) or "*/15 * * * *"'
)
_ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_HASHED = re.compile(r"^[hr](\(\d+-\d+\))?(/\d+)?$", re.IGNORECASE)
_NEAREST_WEEKDAY = re.compile(r"^(\d+w|w\d+)$", re.IGNORECASE)
_STAR: tuple[object, ...] = ("*",)
_SCAN_DAYS = 366 * 50
MAX_CRON_LENGTH = 200
"""Characters in one expression: five fields fit with room; croniter gets nothing longer."""
_VALIDATION_DAYS = 366 * 30


@lru_cache(maxsize=1024)
def _expand(
    spec: str,
) -> tuple[tuple[tuple[object, ...], ...], tuple[tuple[object, frozenset[object]], ...]]:
    """croniter's parse of ``spec`` (cached: it costs ~80 µs and tasks share expressions)."""
    from croniter import croniter  # imported when a cron expression is first parsed

    expanded, nth = croniter.expand(spec)
    # croniter's stubs are narrower than its values: fields hold ints, "*" and "l".
    fields = tuple(tuple(values) for values in expanded)
    return fields, tuple((day, frozenset(ns)) for day, ns in nth.items())


def _int(value: object) -> int:
    if isinstance(value, int | str):
        return int(value)
    raise TypeError(f"unexpected cron field value {value!r}")


def _values(field: Sequence[object], every: range | tuple[()]) -> list[int]:
    """A field's values, sorted; ``every`` when the field is ``*``."""
    if tuple(field) == _STAR:
        return list(every)
    return sorted({_int(value) for value in field})


def _last_day(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _first_of_next_month(day: date) -> date:
    return (day.replace(day=28) + 4 * ONE_DAY).replace(day=1)


@dataclass(frozen=True)
class CronTrigger(WallClockTrigger):
    """A five-field cron expression in a zone. Build with :meth:`parse`."""

    expression: str = dataclasses.field(compare=False)
    tz: ZoneInfo
    times: tuple[time, ...]
    months: frozenset[int]
    doms: frozenset[int]
    dom_last: bool
    dom_any: bool
    dows: frozenset[int]
    """Cron weekday numbers: 0 = Sunday … 6 = Saturday."""
    nth_dows: frozenset[tuple[int, int]]
    """(weekday, n): the n-th such weekday of the month; n = -1 for the last."""
    dow_any: bool
    repeat_folds: bool = False

    @classmethod
    def parse(cls, expression: object, tz: ZoneInfo, field: str = "cron") -> CronTrigger:
        """Validate ``expression`` and build the trigger.

        :raises ScheduleSpecError: if it is not a supported five-field cron expression
            or can never match (``"0 0 31 4 *"``).
        """
        if not isinstance(expression, str):
            raise ScheduleSpecError(
                field,
                f"a cron expression must be a string, got {type(expression).__name__}",
                CRON_FIX,
            )
        if len(expression) > MAX_CRON_LENGTH:
            raise ScheduleSpecError(
                field,
                f"the expression is {len(expression)} characters long, more than the limit "
                f"of {MAX_CRON_LENGTH}",
                CRON_FIX,
            )
        text = " ".join(expression.split())
        spec = _ALIASES.get(text.lower(), text)
        parts = spec.split(" ")
        if len(parts) != 5:
            raise ScheduleSpecError(
                field, f"{expression!r} has {len(text.split())} fields, a cron needs 5", CRON_FIX
            )
        for index, part in enumerate(parts):
            for item in part.split(","):
                if _HASHED.match(item):
                    raise ScheduleSpecError(
                        field,
                        f"{expression!r}: hashed/random values (H, R) are not supported",
                        CRON_FIX,
                    )
                if index == 2 and _NEAREST_WEEKDAY.match(item):
                    raise ScheduleSpecError(
                        field, f"{expression!r}: nearest-weekday (W) is not supported", CRON_FIX
                    )
        from croniter import CroniterError

        try:
            fields, nth = _expand(spec)
        except (CroniterError, ValueError, TypeError, KeyError) as exc:
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
            raise ScheduleSpecError(
                field, f"{expression!r} is not a valid cron expression ({reason})", CRON_FIX
            ) from None
        minutes = _values(fields[0], range(60))
        hours = _values(fields[1], range(24))
        trigger = cls(
            expression=text,
            tz=tz,
            times=tuple(time(h, m) for h in hours for m in minutes),
            months=frozenset(_values(fields[3], range(1, 13))),
            doms=frozenset(_values([v for v in fields[2] if v != "l"], ())),
            dom_last="l" in fields[2],
            dom_any=fields[2] == _STAR,
            dows=frozenset(_values([v for v in fields[4] if v not in dict(nth)], ())),
            nth_dows=frozenset(
                (_int(day), -1 if n == "l" else _int(n)) for day, ns in nth for n in ns
            ),
            dow_any=fields[4] == _STAR,
            repeat_folds=len(hours) == 24,
        )
        if trigger._scan_forward(date(2001, 1, 1), _VALIDATION_DAYS) is None:
            raise ScheduleSpecError(field, f"{expression!r} never matches a real date", CRON_FIX)
        return trigger

    def day_matches(self, day: date) -> bool:
        """Whether ``day`` matches the month and day fields."""
        if day.month not in self.months:
            return False
        if self.dom_any and self.dow_any:
            return True
        dom_ok = not self.dom_any and (
            day.day in self.doms or (self.dom_last and day.day == _last_day(day))
        )
        if dom_ok or self.dow_any:
            return dom_ok
        weekday = (day.weekday() + 1) % 7
        if weekday in self.dows:
            return True
        for wanted, n in self.nth_dows:
            if wanted != weekday:
                continue
            if n == -1 and day.day + 7 > _last_day(day):
                return True
            if n == (day.day - 1) // 7 + 1:
                return True
        return False

    def next_matching_day(self, day: date) -> date:
        """The first matching date on or after ``day``, skipping months that cannot match."""
        found = self._scan_forward(day, _SCAN_DAYS)
        if found is None:
            raise ValueError(f"cron {self.expression!r} has no due time within 50 years")
        return found

    def previous_matching_day(self, day: date) -> date:
        """The last matching date on or before ``day``, skipping months that cannot match."""
        for _ in range(_SCAN_DAYS):
            if day.month not in self.months:
                day = day.replace(day=1) - ONE_DAY
            elif self.day_matches(day):
                return day
            else:
                day -= ONE_DAY
        raise ValueError(f"cron {self.expression!r} has no due time within 50 years")

    def _scan_forward(self, day: date, limit: int) -> date | None:
        for _ in range(limit):
            if day.month not in self.months:
                day = _first_of_next_month(day)
            elif self.day_matches(day):
                return day
            else:
                day += ONE_DAY
        return None

    def describe(self) -> str:
        """``"cron '0 9 * * 1-5'"``."""
        return f"cron {self.expression!r}"
