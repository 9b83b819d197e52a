"""Tasks as JSON documents: what ``amgr tasks list|show --json`` print and the
dashboard's Tasks pages serve (one home, so the two never disagree)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from ..config import TaskSpec
    from ..manager import AutomationManager

SHOWN_FIRINGS = 3
"""How many next start times ``tasks show`` lists."""


def firings(spec: TaskSpec, now: datetime, count: int) -> list[datetime]:
    """The task's next ``count`` start times (jitter included); none when it never fires."""
    from ..engine.planning import next_firing

    out: list[datetime] = []
    after = now
    while spec.schedule is not None and spec.enabled and len(out) < count:
        firing = next_firing(spec.schedule, spec.id, after)
        out.append(firing.fire_at)
        after = firing.due
    return out


def task_row(spec: TaskSpec, tz_name: str, nexts: list[datetime]) -> dict[str, Any]:
    """One task as ``tasks list --json`` and ``tasks show --json`` print it."""
    tz = ZoneInfo(tz_name)
    nxt = nexts[0] if nexts else None
    return {
        "id": spec.id,
        "category": spec.category.value,
        "index": spec.index,
        "type": spec.type,
        "enabled": spec.enabled,
        "priority": spec.task.priority,
        "topic": spec.task.topic,
        "platform": spec.task.platform,
        "schedule": spec.schedule.describe() if spec.schedule else None,
        "schedule_from": "task" if spec.task.schedule is not None else "schedules.json",
        "next_due": nxt.astimezone(tz).isoformat() if nxt else None,
        "next_due_utc": nxt.astimezone(UTC).isoformat() if nxt else None,
    }


def list_doc(mgr: AutomationManager, category: str | None = None) -> dict[str, Any]:
    """``tasks list --json`` (also the dashboard's Tasks page)."""
    ws = mgr.workspace
    now = mgr.now()
    rows = [
        task_row(spec, ws.timezone_name, firings(spec, now, 1))
        for spec in ws.tasks
        if not category or spec.category.value == category
    ]
    return {"timezone": ws.timezone_name, "tasks": rows}


def show_doc(mgr: AutomationManager, spec: TaskSpec) -> dict[str, Any]:
    """``tasks show ID --json`` (also the dashboard's task page)."""
    ws = mgr.workspace
    tz = ZoneInfo(ws.timezone_name)
    nexts = firings(spec, mgr.now(), SHOWN_FIRINGS)
    view = {
        **task_row(spec, ws.timezone_name, nexts),
        "fields": spec.task.dump(),
        "next_firings": [t.astimezone(tz).isoformat() for t in nexts],
    }
    return {"timezone": ws.timezone_name, "task": view}
