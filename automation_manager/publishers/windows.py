"""Publishing windows: when each queued post may go out on one platform.

Pure functions of their inputs (``now`` is passed in). A platform's :class:`Pace` says
*where in time* posts may land (``immediate``, ``slots`` or ``stagger``), how many per
local day (``daily_limit``) and how far apart (``min_gap``). :func:`plan` gives each
queued item its planned instant; an instant at or before ``now`` means "send now".

Slots hold one post each. A slot that passed while nothing ran (the daemon was down)
is used once, by the first waiting item, as the engine's ``misfire: once`` would; the
items after it take the following slots, so a backlog never goes out as a burst.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..config.platforms import (
    WEEKDAYS,
    AnyPlatform,
    ImmediateWindow,
    SlotsWindow,
    StaggerWindow,
)
from ..scheduling import parse_duration
from ..scheduling.triggers import WeeklyTrigger
from ..scheduling.zones import load_zone, resolve_wall

_TICK = timedelta(microseconds=1)
_MAX_STEPS = 10_000
_MAX_DAYS = 400


def _clock_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: pass an aware time")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Pace:
    """The timing rules of one platform.

    :param window: the platform's window model from config.json.
    :param tz: the zone its local times are in.
    :param daily_limit: at most this many posts per local day (None: no limit).
    :param min_gap: at least this long between two posts.
    """

    window: ImmediateWindow | SlotsWindow | StaggerWindow
    tz: ZoneInfo
    daily_limit: int | None = None
    min_gap: timedelta = timedelta(0)

    @classmethod
    def of(cls, platform: AnyPlatform, default_timezone: str) -> Pace:
        """The pace of a configured platform (its own ``timezone``, else the default)."""
        return cls(
            window=platform.window,
            tz=load_zone(platform.timezone or default_timezone),
            daily_limit=platform.daily_limit,
            min_gap=platform.gap(),
        )

    @property
    def spacing(self) -> timedelta:
        """The smallest distance between two posts: ``min_gap`` or stagger's ``every``."""
        if isinstance(self.window, StaggerWindow):
            return max(self.min_gap, parse_duration(self.window.every))
        return self.min_gap

    def slots(self) -> WeeklyTrigger | None:
        """The slot trigger of a ``slots`` window, else None."""
        if not isinstance(self.window, SlotsWindow):
            return None
        return WeeklyTrigger(
            days=tuple(sorted(WEEKDAYS.index(d) for d in set(self.window.days))),
            times=tuple(_clock_time(t) for t in self.window.times),
            tz=self.tz,
        )


def plan(
    pace: Pace,
    *,
    now: datetime,
    ready: Sequence[datetime],
    posted: Iterable[datetime] = (),
) -> list[datetime]:
    """The planned instant of each queued post, in queue order (aware UTC).

    :param ready: when each queued item became ready to publish (approved), in the
        order the items should go out.
    :param posted: instants of posts already made on this platform, or scheduled to go
        live there; they occupy slots, count toward the daily limit and the gap.
    :returns: one instant per item; at or before ``now`` means it is due now.
    """
    now = _utc(now)
    taken = sorted(_utc(p) for p in posted)
    trigger = pace.slots()
    floor = now
    if trigger is not None:
        floor = trigger.previous_due(now + _TICK)  # the latest slot, usable once if free
    out: list[datetime] = []
    for when in ready:
        planned = _earliest(pace, trigger, max(_utc(when), floor), taken, now)
        out.append(planned)
        insort(taken, max(planned, now))
    return out


def is_due(planned: datetime, now: datetime) -> bool:
    """Whether a post planned at ``planned`` should go out at ``now``."""
    return _utc(planned) <= _utc(now)


def _earliest(
    pace: Pace,
    trigger: WeeklyTrigger | None,
    start: datetime,
    taken: list[datetime],
    now: datetime,
) -> datetime:
    candidate = start
    for _ in range(_MAX_STEPS):
        aligned = _align(pace, trigger, candidate)
        moved = _blocked(pace, trigger, aligned, taken, now)
        if moved is None:
            return aligned
        candidate = max(moved, aligned + _TICK)
    raise ValueError("no publishing time found within the window's limits")


def _align(pace: Pace, trigger: WeeklyTrigger | None, at: datetime) -> datetime:
    """The first instant at or after ``at`` that the window allows."""
    window = pace.window
    if trigger is not None:
        if trigger.previous_due(at + _TICK) == at:
            return at
        return trigger.next_due(at)
    if isinstance(window, StaggerWindow):
        return _align_stagger(window, pace.tz, at)
    return at


def _align_stagger(window: StaggerWindow, tz: ZoneInfo, at: datetime) -> datetime:
    start_t, end_t = _clock_time(window.start), _clock_time(window.end)
    days = {WEEKDAYS.index(d) for d in window.days}
    day = at.astimezone(tz).date() - timedelta(days=1)
    for _ in range(_MAX_DAYS):
        if day.weekday() in days:
            opens = resolve_wall(datetime.combine(day, start_t), tz)
            closes = resolve_wall(datetime.combine(day, end_t), tz)
            if at <= closes:
                return max(at, opens)
        day += timedelta(days=1)
    raise ValueError("stagger window never opens")


def _day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = resolve_wall(datetime.combine(day, time(0)), tz)
    end = resolve_wall(datetime.combine(day + timedelta(days=1), time(0)), tz)
    return start, end


def _count(taken: list[datetime], low: datetime, high: datetime) -> int:
    """How many instants lie in ``[low, high)``."""
    return bisect_left(taken, high) - bisect_left(taken, low)


def _blocked(
    pace: Pace,
    trigger: WeeklyTrigger | None,
    at: datetime,
    taken: list[datetime],
    now: datetime,
) -> datetime | None:
    """None when a post may go at ``at``; else a later instant worth trying next."""
    sent = max(at, now)  # a due post really goes out now, not at its past slot
    if pace.daily_limit is not None:
        day_start, day_end = _day_bounds(sent.astimezone(pace.tz).date(), pace.tz)
        if _count(taken, day_start, day_end) >= pace.daily_limit:
            return day_end
    gap = pace.spacing
    if gap > timedelta(0):
        near = taken[bisect_left(taken, sent - gap + _TICK) : bisect_left(taken, sent + gap)]
        if near:
            return max(near) + gap
    if trigger is not None:
        following = trigger.next_due(at)
        if _count(taken, at, following):
            return following
    return None
