"""Records the engine writes itself: timeouts, interruptions, coalesced firings.

Records of runs that executed come from :func:`~.runner.perform_run`; these cover the
attempts that did not finish on their own and the firings that never started.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..config import TaskSpec
from ..enums import RunStatus, Trigger
from ..logs.records import RunRecord, new_record_id, redact
from .state import InflightRun


def _from_inflight(run: InflightRun, now: datetime, status: RunStatus, error: str) -> RunRecord:
    elapsed = max(0, int((now - run.started_at).total_seconds() * 1000))
    return RunRecord(
        id=run.record_id,
        timestamp=run.started_at,
        task_id=run.task_id,
        category=run.category,
        type=run.type,
        trigger=run.trigger,
        attempt=run.attempt,
        scheduled_for=run.scheduled_for,
        status=status,
        success=False,
        params=dict(run.params),
        error=error,
        duration_ms=elapsed,
    )


def interrupted_record(
    run: InflightRun, now: datetime, pid: int, error: str | None = None
) -> RunRecord:
    """The ``interrupted`` record of a run whose daemon stopped before it finished."""
    text = error or f"interrupted: the daemon stopped (pid {pid}) before this run finished"
    return _from_inflight(run, now, RunStatus.INTERRUPTED, text)


def timeout_record(run: InflightRun, now: datetime, timeout_s: float) -> RunRecord:
    """The ``failed`` record of a run that went past its ``timeout_s``."""
    return _from_inflight(
        run,
        now,
        RunStatus.FAILED,
        f"timeout: the run took longer than its timeout_s ({timeout_s:g} s) and was abandoned",
    )


def failed_record(run: InflightRun, now: datetime, error: str) -> RunRecord:
    """A ``failed`` record for an attempt that broke outside the executor."""
    return _from_inflight(run, now, RunStatus.FAILED, error)


def skipped_record(
    spec: TaskSpec,
    *,
    now: datetime,
    trigger: Trigger,
    scheduled_for: datetime | None,
    reason: str,
    secrets: tuple[str, ...] = (),
) -> RunRecord:
    """A ``skipped`` record for a firing that did not start (e.g. coalesced)."""
    return RunRecord(
        id=new_record_id(now),
        timestamp=now,
        task_id=spec.id,
        category=spec.category.value,
        type=spec.type,
        trigger=trigger,
        attempt=1,
        scheduled_for=scheduled_for,
        status=RunStatus.SKIPPED,
        success=False,
        params=redact(spec.task.params(), secrets),
        error=reason,
    )


def inflight_note(
    spec: TaskSpec,
    *,
    record_id: str,
    pid: int,
    trigger: Trigger,
    attempt: int,
    scheduled_for: datetime | None,
    started_at: datetime,
    params: dict[str, Any],
) -> InflightRun:
    """The in-flight note of an attempt about to start (``params`` already redacted)."""
    return InflightRun(
        record_id=record_id,
        pid=pid,
        task_id=spec.id,
        category=spec.category.value,
        type=spec.type,
        trigger=trigger,
        attempt=attempt,
        scheduled_for=scheduled_for,
        started_at=started_at,
        timeout_s=spec.task.timeout_s,
        params=params,
    )
