"""When a task fires: due times plus jitter, and what a start would catch up. Pure.

The daemon, ``amgr status`` and ``amgr plan`` all answer from these functions, so what
the plan shows is what the daemon does. Every instant is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..config import TaskSpec
from ..scheduling import Schedule, due_times, jitter_offset, missed_due_times

MISFIRE_AFTER = timedelta(seconds=30)
"""A running daemon that finds a firing this late (the machine slept, the clock jumped)
treats the due times it slept through as missed, under the task's misfire policy,
instead of firing each one in a burst."""


@dataclass(frozen=True)
class Firing:
    """One firing of a task.

    :param task_id: the task.
    :param due: the due time on the schedule's grid (aware UTC); the record's ``scheduled_for``.
    :param fire_at: when the run starts: ``due`` plus the task's deterministic jitter.
    """

    task_id: str
    due: datetime
    fire_at: datetime


def fire_time(schedule: Schedule, task_id: str, due: datetime) -> datetime:
    """``due`` plus the jitter this task gets for it (the same in every process)."""
    return due + jitter_offset(schedule, task_id, due)


def next_firing(schedule: Schedule, task_id: str, after: datetime) -> Firing:
    """The first firing whose due time is strictly after ``after``."""
    due = schedule.next_due(after)
    return Firing(task_id, due, fire_time(schedule, task_id, due))


def firings(
    schedule: Schedule, task_id: str, start: datetime, end: datetime, *, limit: int = 100_000
) -> list[Firing]:
    """Every firing due in ``(start, end]``, in order, at most ``limit``."""
    return [
        Firing(task_id, due, fire_time(schedule, task_id, due))
        for due in due_times(schedule, start, end, limit=limit)
    ]


def catch_up(schedule: Schedule, last_due: datetime | None, now: datetime) -> list[datetime]:
    """Due times a daemon starting at ``now`` runs as catch-up (oldest first).

    ``last_due`` is the saved instant up to which the task's due times were run or
    decided; None (a task the daemon has never seen) catches up nothing.
    """
    return missed_due_times(schedule, last_due, now)


def schedulable(spec: TaskSpec) -> bool:
    """Whether the daemon registers ``spec``: enabled and with a schedule."""
    return spec.enabled and spec.schedule is not None


def utc(value: datetime) -> datetime:
    """``value`` as aware UTC (it must be aware)."""
    return value.astimezone(UTC)
