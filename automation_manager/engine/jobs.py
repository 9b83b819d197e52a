"""The ``schedule`` library's jobs, driven by our triggers instead of its own arithmetic.

One :class:`TaskJob` per enabled task. ``schedule.Job.run()`` calls the job function and
then ``_schedule_next_run()``, which here asks the task's :class:`Schedule` for the
next due time *after the previous due time* (not after "now", as ``schedule`` does), so
due times stay on their grid however long a run takes. The due instant is kept aware
(UTC); ``next_run`` is mirrored as the naive local time ``schedule`` expects, for its
sorting and reprs. :class:`TaskScheduler` keeps the jobs in a heap so the daemon finds
the next firing among thousands without scanning them.

Wall-clock jumps: every job is planned on the wall clock, and a backward jump is handled
by re-planning (not by keeping a second, monotonic schedule):
:meth:`TaskScheduler.follow_clock_back` moves each interval job's next due time back by
the jump, so an interval task keeps its spacing in elapsed time instead of stalling for
the length of the jump. Tasks on local times (daily, weekly, cron, ...) keep their
planned instant: "09:00" means the wall clock's 09:00, and re-running one the clock
passed twice would double it.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import schedule

from ..config import TaskSpec
from ..scheduling import Schedule
from ..scheduling.triggers import IntervalTrigger
from .planning import fire_time

Clock = Callable[[], datetime]
_MICROSECOND = timedelta(microseconds=1)


class TaskJob(schedule.Job):
    """A ``schedule`` job whose next run comes from a task's :class:`Schedule`.

    :param spec: the task (its ``schedule`` must not be None).
    :param anchor: the first due time is the first one strictly after this instant.
    """

    def __init__(self, scheduler: TaskScheduler, spec: TaskSpec, anchor: datetime) -> None:
        super().__init__(1, scheduler)
        assert spec.schedule is not None
        self.unit = "seconds"  # unused by our _schedule_next_run; keeps schedule's repr happy
        self.spec = spec
        self.schedule: Schedule = spec.schedule
        self.due: datetime | None = None
        self.fire_at: datetime = anchor
        self.floor: datetime = anchor
        self.cancelled = False
        self.tag(spec.id)

    @property
    def task_id(self) -> str:
        return self.spec.id

    def skip_to(self, instant: datetime) -> None:
        """Make the next due time the first one strictly after ``instant`` (not after ``due``)."""
        self.floor = max(self.floor, instant)

    def replan(self, after: datetime) -> None:
        """Make the next due time the first one strictly after ``after``, even if earlier.

        Unlike :meth:`skip_to`, this may move the job back (a wall clock set back).
        """
        self.due = None
        self.floor = after
        self._schedule_next_run()

    def _schedule_next_run(self) -> None:
        after = self.floor if self.due is None or self.floor > self.due else self.due
        self.due = self.schedule.next_due(after)
        self.floor = self.due
        self.fire_at = fire_time(self.schedule, self.spec.id, self.due)
        self.next_run = self.fire_at.astimezone().replace(tzinfo=None)

    @property
    def should_run(self) -> bool:
        clock = self.scheduler.clock if isinstance(self.scheduler, TaskScheduler) else None
        now = clock() if clock else datetime.now().astimezone()
        return bool(now >= self.fire_at)

    def __lt__(self, other: object) -> bool:
        if isinstance(other, TaskJob):
            return bool(self.fire_at < other.fire_at)
        return NotImplemented

    def __repr__(self) -> str:
        return f"TaskJob({self.spec.id!r}, due={self.due}, fire_at={self.fire_at})"


@dataclass
class SyncResult:
    """What :meth:`TaskScheduler.sync` changed, by task id."""

    added: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)
    """Tasks whose definition changed: schedule, topic, priority or any other field (the
    count a reload reports; a topic edit is a change a person wants to see confirmed)."""
    removed: set[str] = field(default_factory=set)
    rescheduled: set[str] = field(default_factory=set)
    """The changed tasks whose schedule changed (registered afresh)."""

    @property
    def fresh(self) -> set[str]:
        """Tasks registered afresh (added or rescheduled): their first firing is after now.

        A task edited without touching its schedule keeps its next firing, so is not fresh.
        """
        return self.added | self.rescheduled


class TaskScheduler(schedule.Scheduler):
    """A ``schedule.Scheduler`` of :class:`TaskJob`, with aware time and a heap of firings.

    :param clock: the current aware time (injected in tests).
    """

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock
        self._heap: list[tuple[datetime, int, TaskJob]] = []
        self._seq = itertools.count()
        self._by_id: dict[str, TaskJob] = {}

    def add(self, spec: TaskSpec, anchor: datetime, fire: Callable[[TaskJob], object]) -> TaskJob:
        """Register ``spec``: its first firing is its first due time after ``anchor``."""
        old = self._by_id.get(spec.id)
        if old is not None:
            self.remove([spec.id])
        job = TaskJob(self, spec, anchor)
        job.do(fire, job)  # computes the first due time and appends to self.jobs
        self._by_id[spec.id] = job
        self._push(job)
        return job

    def remove(self, task_ids: Iterable[str]) -> None:
        """Unregister these tasks (their pending firings are dropped)."""
        gone = {tid for tid in task_ids if tid in self._by_id}
        if not gone:
            return
        for tid in gone:
            self._by_id.pop(tid).cancelled = True
        self.jobs[:] = [job for job in self.jobs if not getattr(job, "cancelled", False)]

    def cancel_job(self, job: schedule.Job) -> None:
        if isinstance(job, TaskJob):
            self.remove([job.task_id])
        else:
            super().cancel_job(job)

    def clear(self, tag: object = None) -> None:
        if tag is None:
            for job in self._by_id.values():
                job.cancelled = True
            self._by_id.clear()
            self._heap.clear()
            del self.jobs[:]
        else:
            self.remove([str(tag)])

    def sync(
        self, specs: Iterable[TaskSpec], now: datetime, fire: Callable[[TaskJob], object]
    ) -> SyncResult:
        """Make the jobs match ``specs`` (the schedulable tasks of a new configuration).

        A task whose schedule is unchanged keeps its job and next firing (its spec is
        updated: priority, fields); a new or changed one is registered afresh, its first
        firing after ``now``; a task no longer listed is unregistered.
        """
        wanted = {spec.id: spec for spec in specs}
        result = SyncResult(removed=set(self._by_id) - set(wanted))
        self.remove(result.removed)
        for task_id, spec in wanted.items():
            job = self._by_id.get(task_id)
            if job is not None and job.schedule == spec.schedule:
                if job.spec.task != spec.task:
                    result.changed.add(task_id)
                job.spec = spec
                continue
            if job is not None:
                result.changed.add(task_id)
                result.rescheduled.add(task_id)
            else:
                result.added.add(task_id)
            self.add(spec, now, fire)
        return result

    def follow_clock_back(self, jump: timedelta) -> list[str]:
        """Move interval jobs' next firings by ``jump`` (negative: the wall clock went back).

        The next due time becomes the first grid point at or after the old one plus
        ``jump``: the same moment in elapsed time, rounded up to the grid. Returns the
        re-planned task ids. Jobs on local times are left as planned (see the module).
        """
        moved: list[str] = []
        for job in self._by_id.values():
            if job.due is None or not isinstance(job.schedule.trigger, IntervalTrigger):
                continue
            before = job.fire_at
            job.replan(job.due + jump - _MICROSECOND)
            if job.fire_at != before:
                self._push(job)
                moved.append(job.task_id)
        return moved

    def job(self, task_id: str) -> TaskJob | None:
        return self._by_id.get(task_id)

    def task_jobs(self) -> dict[str, TaskJob]:
        return dict(self._by_id)

    def _push(self, job: TaskJob) -> None:
        heapq.heappush(self._heap, (job.fire_at, next(self._seq), job))

    def _prune(self) -> None:
        heap = self._heap
        while heap and (heap[0][2].cancelled or heap[0][0] != heap[0][2].fire_at):
            heapq.heappop(heap)

    def next_fire_at(self) -> datetime | None:
        """The earliest pending firing instant, or None with no jobs."""
        self._prune()
        return self._heap[0][0] if self._heap else None

    @property
    def idle_seconds(self) -> float | None:
        """Seconds until the next firing (negative when one is overdue), by the aware clock."""
        nxt = self.next_fire_at()
        return None if nxt is None else (nxt - self.clock()).total_seconds()

    def run_pending(self, now: datetime | None = None) -> None:
        """Run every job whose firing instant is at or before ``now`` (default: the clock).

        Each job runs through ``schedule.Job.run`` (job function, then next due time).
        """
        now = now if now is not None else self.clock()
        while True:
            self._prune()
            if not self._heap or self._heap[0][0] > now:
                return
            _, _, job = heapq.heappop(self._heap)
            ret: object = job.run()  # type: ignore[no-untyped-call]
            if isinstance(ret, schedule.CancelJob) or ret is schedule.CancelJob:
                self.remove([job.task_id])
            elif not job.cancelled:
                self._push(job)
