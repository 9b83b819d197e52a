"""The search shared by every trigger that fires at local wall-clock times.

A wall-clock trigger is a set of days (a predicate on local dates) times a sorted list
of times of day, in one zone. Each (day, time) resolves to one UTC instant under the DST
rule of :func:`resolve_wall`. That mapping never goes backwards as wall time moves on,
so the first instant after ``after`` is found by walking matching days from just before
``after``'s local date and bisecting the times of the first day that has a later one.
Away from an offset change (almost always) that reduces to one bisect on wall times.

Triggers that should keep firing through a repeated hour (``hourly``, a cron expression
with ``*`` hours) also walk the second-occurrence mapping and take the earlier answer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .zones import as_utc, resolve_wall

ONE_DAY = timedelta(days=1)
_MAX_SCAN_DAYS = 366 * 50
# No real zone shifts its clock by a day or more, so with no offset change within two
# days of an instant, its neighbourhood is plain UTC-plus-a-constant.
_NEAR = timedelta(days=2)


class WallClockTrigger(ABC):
    """Fires at :attr:`times` on every day :meth:`day_matches` accepts, in :attr:`tz`."""

    tz: ZoneInfo
    times: tuple[time, ...]
    repeat_folds: bool = False

    @abstractmethod
    def day_matches(self, day: date) -> bool:
        """Whether the trigger fires on this local date."""

    @abstractmethod
    def describe(self) -> str:
        """Human text for the trigger, without the zone."""

    def next_matching_day(self, day: date) -> date:
        """The first matching date on or after ``day`` (subclasses may jump faster)."""
        for _ in range(_MAX_SCAN_DAYS):
            if self.day_matches(day):
                return day
            day += ONE_DAY
        raise ValueError(f"no due time within 50 years after {day}")

    def previous_matching_day(self, day: date) -> date:
        """The last matching date on or before ``day`` (subclasses may jump faster)."""
        for _ in range(_MAX_SCAN_DAYS):
            if self.day_matches(day):
                return day
            day -= ONE_DAY
        raise ValueError(f"no due time within 50 years before {day}")

    def next_due(self, after: datetime) -> datetime:
        """The first due instant strictly after ``after``, as aware UTC."""
        after = as_utc(after)
        local = after.astimezone(self.tz)
        wall = local.replace(tzinfo=None)
        if not self._near_transition(after, local):
            day, times = wall.date(), self.times
            if self.day_matches(day):
                index = bisect_right(times, wall.time())
                if index < len(times):
                    return resolve_wall(datetime.combine(day, times[index]), self.tz)
            day = self.next_matching_day(day + ONE_DAY)
            return resolve_wall(datetime.combine(day, times[0]), self.tz)
        # Near a change, a wall time on the previous local date can still resolve later.
        start = wall.date() - ONE_DAY
        found = self._next(after, start, 0)
        if self.repeat_folds:
            found = min(found, self._next(after, start, 1))
        return found

    def previous_due(self, before: datetime) -> datetime:
        """The last due instant strictly before ``before``, as aware UTC."""
        before = as_utc(before, "before")
        local = before.astimezone(self.tz)
        wall = local.replace(tzinfo=None)
        if not self._near_transition(before, local):
            # A repeated wall time's later occurrence is the latest, if it counts at all.
            fold = 1 if self.repeat_folds else 0
            day, times = wall.date(), self.times
            if self.day_matches(day):
                index = bisect_left(times, wall.time())
                if index > 0:
                    return resolve_wall(datetime.combine(day, times[index - 1]), self.tz, fold)
            day = self.previous_matching_day(day - ONE_DAY)
            return resolve_wall(datetime.combine(day, times[-1]), self.tz, fold)
        start = wall.date() + ONE_DAY
        found = self._previous(before, start, 0)
        if self.repeat_folds:
            found = max(found, self._previous(before, start, 1))
        return found

    def _near_transition(self, instant: datetime, local: datetime) -> bool:
        """Whether the zone's offset changes within two days of ``instant``.

        Away from a change, wall time is UTC plus a constant and a plain bisect on the
        times finds the answer; near one, the careful search below runs instead.
        """
        offset = local.utcoffset()
        return (instant - _NEAR).astimezone(self.tz).utcoffset() != offset or (
            instant + _NEAR
        ).astimezone(self.tz).utcoffset() != offset

    def _resolver(self, day: date, fold: int) -> Callable[[int], datetime]:
        tz, times = self.tz, self.times

        def resolve(index: int) -> datetime:
            return resolve_wall(datetime.combine(day, times[index]), tz, fold)

        return resolve

    def _next(self, after: datetime, day: date, fold: int) -> datetime:
        last = len(self.times) - 1
        while True:
            day = self.next_matching_day(day)
            resolve = self._resolver(day, fold)
            if resolve(last) > after:
                lo, hi = 0, last
                while lo < hi:
                    mid = (lo + hi) // 2
                    if resolve(mid) > after:
                        hi = mid
                    else:
                        lo = mid + 1
                return resolve(lo)
            day += ONE_DAY

    def _previous(self, before: datetime, day: date, fold: int) -> datetime:
        while True:
            day = self.previous_matching_day(day)
            resolve = self._resolver(day, fold)
            if resolve(0) < before:
                lo, hi = 0, len(self.times) - 1
                while lo < hi:
                    mid = (lo + hi + 1) // 2
                    if resolve(mid) < before:
                        lo = mid
                    else:
                        hi = mid - 1
                return resolve(lo)
            day -= ONE_DAY
