"""When a task fires: due times plus jitter, and what a start would catch up. Pure.

The daemon, ``amgr status`` and ``amgr plan`` all answer from these functions, so what
the plan shows is what the daemon does. Every instant is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ..config import TaskSpec
from ..errors import Problem
from ..home import SCHEDULES_FILE, TASKS_FILE
from ..scheduling import Schedule, due_times, jitter_offset, missed_due_times
from ..scheduling.triggers import IntervalTrigger

MISFIRE_AFTER = timedelta(seconds=2)
"""A running daemon that finds a firing this late (the process was stopped with
SIGSTOP, the machine slept, the wall clock jumped forward) treats the due times it slept
through as missed, under the task's misfire policy, instead of firing each one in a
burst. Small, as APScheduler's one-second ``misfire_grace_time``: a healthy daemon meets
a due instant within milliseconds, so only a daemon that was not running is this late."""

CLOCK_JUMP_AFTER = timedelta(seconds=1)
"""A wall clock that moves this much more (or less) than the monotonic clock over one
turn of the daemon's loop has jumped (``date -s``, an NTP step, a resume from suspend);
smaller drifts (NTP slewing) are not jumps."""


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


def plan_problems(specs: Iterable[TaskSpec], now: datetime) -> list[Problem]:
    """A problem for each task whose next firings after ``now`` cannot be computed.

    A schedule that validates may still not plan: an interval or jitter so long that a
    due time is past the year 9999. Checking the latest instant the next two firings may
    start (two intervals plus the jitter, from ``now``) before a configuration is used
    turns that into a message instead of a crash in the daemon's loop. O(1) per task:
    10,000 tasks are checked in milliseconds. Local-time forms (daily, cron, ...) are
    due within a few years at most and need no check.
    """
    problems: list[Problem] = []
    for spec in specs:
        schedule = spec.schedule
        if schedule is None:
            continue
        trigger = schedule.trigger
        try:
            reach = schedule.jitter
            if isinstance(trigger, IntervalTrigger):
                reach += 2 * trigger.every
            now + reach  # raises OverflowError past the year 9999
        except OverflowError as exc:
            file, where = TASKS_FILE, f"{spec.category.value}[{spec.index}].schedule"
            if spec.task.schedule is None:  # the category's entry in schedules.json
                file, where = SCHEDULES_FILE, f"{spec.category.value}.{spec.type}"
            problems.append(
                Problem(
                    file,
                    where,
                    f"task {spec.id}: its interval or jitter reaches past the year 9999 "
                    f"from {now:%Y-%m-%d} ({exc})",
                    "use a shorter interval or jitter",
                )
            )
    return problems


def schedulable(spec: TaskSpec) -> bool:
    """Whether the daemon registers ``spec``: enabled and with a schedule."""
    return spec.enabled and spec.schedule is not None


def utc(value: datetime) -> datetime:
    """``value`` as aware UTC (it must be aware)."""
    return value.astimezone(UTC)


@dataclass
class JumpDetector:
    """Notices wall-clock jumps by comparing wall and monotonic time across loop turns.

    The monotonic clock never jumps, so over one turn the two clocks advance alike
    unless the wall clock was set (or, on Linux, the machine was suspended: the
    monotonic clock stops while suspended). Pure: both readings are passed in.
    """

    _last: tuple[datetime, float] | None = field(default=None, repr=False)

    def observe(self, wall: datetime, mono: float) -> timedelta:
        """The jump since the previous observation: wall elapsed minus monotonic elapsed.

        Negative when the wall clock went back, positive when it went forward (or the
        machine slept), ``timedelta(0)`` for the first reading or a drift within
        :data:`CLOCK_JUMP_AFTER`.
        """
        last, self._last = self._last, (wall, mono)
        if last is None:
            return timedelta(0)
        jump = (wall - last[0]) - timedelta(seconds=mono - last[1])
        return jump if abs(jump) > CLOCK_JUMP_AFTER else timedelta(0)
