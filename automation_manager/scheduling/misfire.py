"""Which missed due times to run as catch-up, under a schedule's misfire policy."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..enums import MisfirePolicy
from .model import Schedule
from .zones import as_utc

MAX_CATCH_UP = 1000
"""The most due times ``misfire: all`` replays; the latest ones are kept."""

_MICROSECOND = timedelta(microseconds=1)


def missed_due_times(
    schedule: Schedule, last_due: datetime | None, now: datetime
) -> list[datetime]:
    """Due times in ``(last_due, now]`` to run as catch-up, oldest first, as aware UTC.

    ``last_due`` is the last due time the task was run (or decided) for; None for a task
    never scheduled before, which never catches up. ``skip`` returns nothing, ``once``
    the latest missed time, ``all`` every one (at most :data:`MAX_CATCH_UP`, the latest).
    With a ``grace``, a due time older than ``now - grace`` is dropped.

    :raises ValueError: if ``last_due`` or ``now`` is naive.
    """
    now = as_utc(now, "now")
    if last_due is None or schedule.misfire is MisfirePolicy.SKIP:
        return []
    floor = as_utc(last_due, "last_due")
    oldest = None if schedule.grace is None else now - schedule.grace
    wanted = 1 if schedule.misfire is MisfirePolicy.ONCE else MAX_CATCH_UP
    found: list[datetime] = []
    # Walk back from now: cheap however long ago last_due was.
    due = schedule.previous_due(now + _MICROSECOND)
    while due > floor and (oldest is None or due >= oldest) and len(found) < wanted:
        found.append(due)
        due = schedule.previous_due(due)
    found.reverse()
    return found
