"""What ``amgr status`` and ``amgr plan`` report, as typed reports (the CLI only renders them).

Both read the home and the daemon's saved state; the only thing they may write is the
state database's catch-up with the run log (a cache). The future comes from the same
pure functions the daemon uses (:mod:`.planning`). Each model's ``to_json()`` is the
documented ``--json`` document (:mod:`automation_manager.reports`).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..config import TaskSpec, Workspace
from ..enums import MisfirePolicy
from ..procs import is_alive
from ..reports import Report, field
from ..scheduling import format_duration
from ..text import plural, span
from .admission import Admission, DayState
from .lock import lock_is_held
from .planning import catch_up, firings, next_firing, schedulable
from .state import StateStore


class Stamp(Report):
    """One instant as ISO 8601 strings, in UTC and in the configured zone."""

    utc: str
    local: str

    @classmethod
    def at(cls, when: datetime, tz: ZoneInfo) -> Stamp:
        return cls(utc=when.astimezone(UTC).isoformat(), local=when.astimezone(tz).isoformat())


def stamp(when: datetime | None, tz: ZoneInfo) -> Stamp | None:
    """The :class:`Stamp` of ``when`` (None stays None)."""
    return None if when is None else Stamp.at(when, tz)


class DaemonStatus(Report):
    """Whether a daemon holds the home; ``stale_pid`` names one that died holding state."""

    running: bool
    pid: int | None = None
    started_at: str | None = None
    mode: str | None = None
    """``run`` (the daemon) or ``once`` (``amgr run --once``)."""
    stale_pid: int | None = field(default=None, omit_none=True)


class TaskRow(Report):
    """What status and plan show of every task."""

    id: str
    category: str
    type: str
    enabled: bool
    priority: int
    schedule: str | None
    """The schedule in words, or None for an exec-now-only task."""


class TaskStatus(TaskRow):
    """A scheduled task's next due time, its (jittered) start, and its last due time."""

    next_due: Stamp
    fire_at: Stamp
    last_due: Stamp | None
    left_s: float
    """Seconds until ``fire_at`` (the NEXT column of ``amgr status``; LEFT is ``left``)."""
    left: str
    last_run: Stamp | None = None
    """Start of the task's newest run that was not skipped (any trigger); None: never ran."""
    passed_s: float | None = None
    """Seconds since ``last_run`` (PASSED is ``passed``)."""
    passed: str | None = None
    last_result: str | None = None
    """That run's status: ``success``, ``failed`` or ``interrupted``."""
    process_type: str | None = None
    """The task's process type (``content``, ``maintenance``, ``monitoring``, ...)."""


class RunInProgress(Report):
    """A run noted in flight; ``stale`` when the process that noted it is gone."""

    task_id: str
    category: str
    type: str
    trigger: str
    attempt: int
    pid: int
    record_id: str
    started_at: str
    scheduled_for: str | None
    running_s: float
    stale: bool
    waiting_for_resources: str | None = None
    """Why the run has not started its work yet: its ``resources`` do not fit."""


class QuotaUse(Report):
    used: int
    limit: int | None


class QuotaHeld(Report):
    """Quota slots held by runs in progress."""

    content: int
    ebooks: int


class Quota(Report):
    """Today's content and ebook counts against the daily limits."""

    date: str
    content: QuotaUse
    ebooks: QuotaUse
    in_progress: QuotaHeld


class LLMStatus(Report):
    """The provider, and today's spend when a daily budget is set."""

    provider: str | None
    daily_budget_usd: float | None
    spent_today_usd: float | None
    reserved_usd: float | None = field(default=None, omit_none=True)


class StatusReport(Report):
    """Everything ``amgr status`` shows (``--json``: :meth:`to_json`)."""

    home: str
    now: str
    timezone: str
    automation_enabled: bool
    daemon: DaemonStatus
    tasks: list[TaskStatus]
    """Enabled scheduled tasks, soonest start first."""
    unscheduled: list[str]
    in_progress: list[RunInProgress]
    quota: Quota
    llm: LLMStatus


def daemon_status(ws: Workspace, state: StateStore) -> DaemonStatus:
    """Whether a daemon holds the home, and its pid and start time."""
    info = state.read_daemon()
    running = lock_is_held(ws.home)
    if info is not None and running:
        return DaemonStatus(
            running=running, pid=info.pid, started_at=info.started_at.isoformat(), mode=info.mode
        )
    return DaemonStatus(running=running, stale_pid=info.pid if info is not None else None)


def _task_fields(spec: TaskSpec) -> dict[str, Any]:
    """The :class:`TaskRow` fields of ``spec``, for a status or plan row."""
    return {
        "id": spec.id,
        "category": spec.category.value,
        "type": spec.type,
        "enabled": spec.enabled,
        "priority": spec.task.priority,
        "schedule": spec.schedule.describe() if spec.schedule else None,
    }


def _llm(ws: Workspace, today: DayState) -> LLMStatus:
    llm = ws.config.llm
    provider: str | None = None
    try:
        from ..llm import describe_provider

        provider = describe_provider(llm)
    except ImportError:
        pass
    budget = llm.daily_budget_usd is not None
    return LLMStatus(
        provider=provider,
        daily_budget_usd=llm.daily_budget_usd,
        spent_today_usd=today.spent_usd if budget else None,
        reserved_usd=today.reserved_usd if budget else None,
    )


def status_report(ws: Workspace, now: datetime) -> StatusReport:
    """Everything ``amgr status`` shows: daemon, next runs, runs in progress, quota, budget."""
    from ..config.operations import process_type_of
    from ..operations.resources import waiting_reason

    tz = ZoneInfo(ws.timezone_name)
    now = now.astimezone(tz)
    state = StateStore(ws.home)
    last_due = state.load()
    daemon = daemon_status(ws, state)
    try:
        admission = Admission(ws.home)
        last_runs = admission.last_runs(now)
    except sqlite3.Error:  # an unwritable state (full disk): count from the log alone
        admission = Admission(ws.home, path=":memory:")
        last_runs = admission.last_runs(now)
    tasks: list[TaskStatus] = []
    unscheduled: list[str] = []
    for spec in ws.tasks:
        if not spec.enabled:
            continue
        if not schedulable(spec):
            unscheduled.append(spec.id)
            continue
        assert spec.schedule is not None
        firing = next_firing(spec.schedule, spec.id, now)
        left = firing.fire_at - now
        result, ran_at = last_runs.get(spec.id, (None, None))
        passed = now - ran_at if ran_at is not None else None
        tasks.append(
            TaskStatus(
                **_task_fields(spec),
                next_due=Stamp.at(firing.due, tz),
                fire_at=Stamp.at(firing.fire_at, tz),
                last_due=stamp(last_due.get(spec.id), tz),
                left_s=round(left.total_seconds(), 1),
                left=span(left),
                last_run=stamp(ran_at, tz),
                passed_s=round(passed.total_seconds(), 1) if passed is not None else None,
                passed=span(passed) if passed is not None else None,
                last_result=result,
                process_type=process_type_of(spec.category, spec.task).value,
            )
        )
    tasks.sort(key=lambda t: t.fire_at.utc)
    in_progress = [
        RunInProgress(
            task_id=run.task_id,
            category=run.category,
            type=run.type,
            trigger=run.trigger.value,
            attempt=run.attempt,
            pid=run.pid,
            record_id=run.record_id,
            started_at=run.started_at.isoformat(),
            scheduled_for=run.scheduled_for.isoformat() if run.scheduled_for else None,
            running_s=round((now - run.started_at).total_seconds(), 1),
            stale=not is_alive(run.pid, run.token),
            waiting_for_resources=waiting_reason(ws.home.root, run.record_id),
        )
        for run in state.inflight()
    ]
    try:
        today = admission.today(now)
    except sqlite3.Error:  # an unwritable state (full disk): count from the log alone
        today = Admission(ws.home, path=":memory:").today(now)
    admission.close()
    return StatusReport(
        home=str(ws.home.root),
        now=now.isoformat(),
        timezone=ws.timezone_name,
        automation_enabled=ws.config.enabled,
        daemon=daemon,
        tasks=tasks,
        unscheduled=unscheduled,
        in_progress=in_progress,
        quota=Quota(
            date=now.date().isoformat(),
            content=QuotaUse(used=today.content, limit=ws.config.max_daily_content),
            ebooks=QuotaUse(used=today.ebooks, limit=ws.config.max_daily_ebooks),
            in_progress=QuotaHeld(content=today.reserved_content, ebooks=today.reserved_ebooks),
        ),
        llm=_llm(ws, today),
    )


class Firing(Report):
    """One future firing: its due time, its exact (jittered) start and the latest start."""

    due: Stamp
    fire_at: Stamp
    latest: Stamp


class Timing(Report):
    """How a scheduled task's firings are placed (absent from an unscheduled task's row)."""

    timezone: str
    jitter_s: float
    jitter: str | None
    """The jitter in words (``10m``), or None without jitter."""
    misfire: str
    grace_s: float | None
    last_due: Stamp | None


class TaskPlan(TaskRow):
    """One task of ``amgr plan``: its firings in the period and its catch-up at start."""

    timing: Timing | None = field(default=None, flatten=True)
    firings: list[Firing] = field(default_factory=list)
    more: bool = False
    """More firings than the limit fell in the period."""
    catch_up: list[Stamp] = field(default_factory=list)
    catch_up_note: str


class PlanReport(Report):
    """Everything ``amgr plan`` shows (``--json``: :meth:`to_json`)."""

    now: str
    days: float
    timezone: str
    end: str
    tasks: list[TaskPlan]


def _catch_up_note(spec: TaskSpec, last: datetime | None, count: int) -> str:
    assert spec.schedule is not None
    policy = spec.schedule.misfire
    if not spec.enabled:
        return "disabled: nothing is caught up"
    if last is None:
        return "never scheduled here: a start runs nothing for past due times"
    if policy is MisfirePolicy.SKIP:
        return "misfire skip: missed due times are not run"
    if count == 0:
        return "nothing missed"
    return f"misfire {policy.value}: {plural(count, 'catch-up run')}"


def plan_report(
    ws: Workspace,
    now: datetime,
    *,
    days: float = 7,
    task_id: str | None = None,
    limit: int = 1000,
) -> PlanReport:
    """Every firing in the next ``days`` per task, and what a start now would catch up.

    :param task_id: only this task (enabled or not).
    :param limit: at most this many firings per task (``more`` tells if there were more).
    """
    tz = ZoneInfo(ws.timezone_name)
    now = now.astimezone(tz)
    end = now + timedelta(days=days)
    saved = StateStore(ws.home).load()
    rows: list[TaskPlan] = []
    for spec in ws.tasks:
        if task_id is not None and spec.id != task_id:
            continue
        if spec.schedule is None:
            note = "no schedule: runs only with exec-now"
            rows.append(TaskPlan(**_task_fields(spec), catch_up_note=note))
            continue
        sched = spec.schedule
        found = firings(sched, spec.id, now, end, limit=limit + 1)
        last = saved.get(spec.id)
        missed = catch_up(sched, last, now) if spec.enabled else []
        timing = Timing(
            timezone=sched.timezone_name,
            jitter_s=sched.jitter.total_seconds(),
            jitter=format_duration(sched.jitter) if sched.jitter else None,
            misfire=sched.misfire.value,
            grace_s=sched.grace.total_seconds() if sched.grace is not None else None,
            last_due=stamp(last, tz),
        )
        rows.append(
            TaskPlan(
                **_task_fields(spec),
                timing=timing,
                firings=[
                    Firing(
                        due=Stamp.at(f.due, tz),
                        fire_at=Stamp.at(f.fire_at, tz),
                        latest=Stamp.at(f.due + sched.jitter, tz),
                    )
                    for f in found[:limit]
                ],
                more=len(found) > limit,
                catch_up=[Stamp.at(d, tz) for d in missed],
                catch_up_note=_catch_up_note(spec, last, len(missed)),
            )
        )
    return PlanReport(
        now=now.isoformat(), days=days, timezone=ws.timezone_name, end=end.isoformat(), tasks=rows
    )
