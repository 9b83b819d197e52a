"""What ``amgr status`` and ``amgr plan`` report, as plain data (the CLI only renders it).

Both read the home and the daemon's saved state; the only thing they may write is the
state database's catch-up with the run log (a cache). The future comes from the same
pure functions the daemon uses (:mod:`.planning`).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..config import TaskSpec, Workspace
from ..enums import MisfirePolicy
from ..procs import is_alive
from ..scheduling import format_duration
from .admission import Admission, DayState
from .lock import lock_is_held
from .planning import catch_up, firings, next_firing, schedulable
from .state import StateStore


def stamp(when: datetime | None, tz: ZoneInfo) -> dict[str, str] | None:
    """``{"utc": ..., "local": ...}`` ISO 8601 strings of one instant."""
    if when is None:
        return None
    return {"utc": when.astimezone(UTC).isoformat(), "local": when.astimezone(tz).isoformat()}


def daemon_status(ws: Workspace, state: StateStore) -> dict[str, Any]:
    """Whether a daemon holds the home, and its pid and start time."""
    info = state.read_daemon()
    running = lock_is_held(ws.home)
    out: dict[str, Any] = {"running": running, "pid": None, "started_at": None, "mode": None}
    if info is not None and running:
        out.update(pid=info.pid, started_at=info.started_at.isoformat(), mode=info.mode)
    elif info is not None:
        out["stale_pid"] = info.pid
    return out


def _task_row(spec: TaskSpec) -> dict[str, Any]:
    return {
        "id": spec.id,
        "category": spec.category.value,
        "type": spec.type,
        "enabled": spec.enabled,
        "priority": spec.task.priority,
        "schedule": spec.schedule.describe() if spec.schedule else None,
    }


def _llm(ws: Workspace, today: DayState) -> dict[str, Any]:
    llm = ws.config.llm
    out: dict[str, Any] = {
        "provider": None,
        "daily_budget_usd": llm.daily_budget_usd,
        "spent_today_usd": None,
    }
    try:
        from ..llm import describe_provider

        out["provider"] = describe_provider(llm)
    except ImportError:
        pass
    if llm.daily_budget_usd is not None:
        out["spent_today_usd"] = today.spent_usd
        out["reserved_usd"] = today.reserved_usd
    return out


def status_report(ws: Workspace, now: datetime) -> dict[str, Any]:
    """Everything ``amgr status`` shows: daemon, next runs, runs in progress, quota, budget."""
    tz = ZoneInfo(ws.timezone_name)
    now = now.astimezone(tz)
    state = StateStore(ws.home)
    last_due = state.load()
    daemon = daemon_status(ws, state)
    tasks: list[dict[str, Any]] = []
    unscheduled: list[str] = []
    for spec in ws.tasks:
        if not spec.enabled:
            continue
        if not schedulable(spec):
            unscheduled.append(spec.id)
            continue
        assert spec.schedule is not None
        firing = next_firing(spec.schedule, spec.id, now)
        row = _task_row(spec)
        row.update(
            next_due=stamp(firing.due, tz),
            fire_at=stamp(firing.fire_at, tz),
            last_due=stamp(last_due.get(spec.id), tz),
        )
        tasks.append(row)
    tasks.sort(key=lambda r: r["fire_at"]["utc"])
    in_progress = []
    for run in state.inflight():
        in_progress.append(
            {
                "task_id": run.task_id,
                "category": run.category,
                "type": run.type,
                "trigger": run.trigger.value,
                "attempt": run.attempt,
                "pid": run.pid,
                "record_id": run.record_id,
                "started_at": run.started_at.isoformat(),
                "scheduled_for": run.scheduled_for.isoformat() if run.scheduled_for else None,
                "running_s": round((now - run.started_at).total_seconds(), 1),
                "stale": not is_alive(run.pid, run.token),
            }
        )
    try:
        today = Admission(ws.home).today(now)
    except sqlite3.Error:  # an unwritable state (full disk): count from the log alone
        today = Admission(ws.home, path=":memory:").today(now)
    return {
        "home": str(ws.home.root),
        "now": now.isoformat(),
        "timezone": ws.timezone_name,
        "automation_enabled": ws.config.enabled,
        "daemon": daemon,
        "tasks": tasks,
        "unscheduled": unscheduled,
        "in_progress": in_progress,
        "quota": {
            "date": now.date().isoformat(),
            "content": {"used": today.content, "limit": ws.config.max_daily_content},
            "ebooks": {"used": today.ebooks, "limit": ws.config.max_daily_ebooks},
            "in_progress": {"content": today.reserved_content, "ebooks": today.reserved_ebooks},
        },
        "llm": _llm(ws, today),
    }


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
    return f"misfire {policy.value}: {count} catch-up run{'s' if count != 1 else ''}"


def plan_report(
    ws: Workspace,
    now: datetime,
    *,
    days: float = 7,
    task_id: str | None = None,
    limit: int = 1000,
) -> dict[str, Any]:
    """Every firing in the next ``days`` per task, and what a start now would catch up.

    :param task_id: only this task (enabled or not).
    :param limit: at most this many firings per task (``more`` tells if there were more).
    """
    tz = ZoneInfo(ws.timezone_name)
    now = now.astimezone(tz)
    end = now + timedelta(days=days)
    saved = StateStore(ws.home).load()
    rows: list[dict[str, Any]] = []
    for spec in ws.tasks:
        if task_id is not None and spec.id != task_id:
            continue
        row = _task_row(spec)
        if spec.schedule is None:
            row.update(
                firings=[],
                more=False,
                catch_up=[],
                catch_up_note="no schedule: runs only with exec-now",
            )
            rows.append(row)
            continue
        sched = spec.schedule
        found = firings(sched, spec.id, now, end, limit=limit + 1)
        last = saved.get(spec.id)
        missed = catch_up(sched, last, now) if spec.enabled else []
        row.update(
            timezone=sched.timezone_name,
            jitter_s=sched.jitter.total_seconds(),
            jitter=format_duration(sched.jitter) if sched.jitter else None,
            misfire=sched.misfire.value,
            grace_s=sched.grace.total_seconds() if sched.grace is not None else None,
            last_due=stamp(last, tz),
            firings=[
                {
                    "due": stamp(f.due, tz),
                    "fire_at": stamp(f.fire_at, tz),
                    "latest": stamp(f.due + sched.jitter, tz),
                }
                for f in found[:limit]
            ],
            more=len(found) > limit,
            catch_up=[stamp(d, tz) for d in missed],
            catch_up_note=_catch_up_note(spec, last, len(missed)),
        )
        rows.append(row)
    return {
        "now": now.isoformat(),
        "days": days,
        "timezone": ws.timezone_name,
        "end": end.isoformat(),
        "tasks": rows,
    }
