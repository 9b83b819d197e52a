"""Building run records: the one place a :class:`RunRecord` is put together.

:func:`run_record` is the record of an attempt that executed; the others cover attempts
that did not finish on their own (timeouts, interruptions, crashes outside the
executor), firings that never started (skips), and records the library is handed
(``log_task_result``). Nothing here writes or masks: the
:class:`~.recorder.Recorder` does both, for every record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..config import TaskSpec
from ..enums import RunStatus, Trigger
from ..logs.records import RunRecord, Usage, new_record_id
from .state import InflightRun


def run_record(
    spec: TaskSpec,
    *,
    record_id: str,
    started: datetime,
    trigger: Trigger,
    attempt: int,
    scheduled_for: datetime | None,
    status: RunStatus,
    params: dict[str, Any],
    result: dict[str, Any] | None,
    error: str | None,
    duration_ms: int,
    usage: Usage | None,
    provider: str | None,
    run_id: str | None,
    resources_used: dict[str, float] | None = None,
) -> RunRecord:
    """The record of one attempt that went through admission (and maybe its executor)."""
    from ..config.operations import process_type_of

    return RunRecord(
        id=record_id,
        timestamp=started,
        task_id=spec.id,
        category=spec.category.value,
        type=spec.type,
        trigger=trigger,
        attempt=attempt,
        scheduled_for=scheduled_for,
        status=status,
        success=status is RunStatus.SUCCESS,
        params=params,
        result=result,
        error=error,
        duration_ms=duration_ms,
        usage=usage if usage is not None and usage.calls else None,
        provider=provider,
        run_id=run_id,
        process_type=process_type_of(spec.category, spec.task).value,
        resources_used=resources_used,
    )


def _from_inflight(
    run: InflightRun, now: datetime, status: RunStatus, error: str, usage: Usage | None = None
) -> RunRecord:
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
        usage=usage if usage is not None and usage.calls else None,
    )


def interrupted_record(
    run: InflightRun,
    now: datetime,
    pid: int,
    error: str | None = None,
    *,
    usage: Usage | None = None,
) -> RunRecord:
    """The ``interrupted`` record of a run whose process stopped before it finished.

    :param usage: what the run had spent on the model by then (it counts toward the budget).
    """
    text = error or f"interrupted: the daemon stopped (pid {pid}) before this run finished"
    return _from_inflight(run, now, RunStatus.INTERRUPTED, text, usage)


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
        params=spec.task.params(),
        error=reason,
    )


def handed_record(
    *,
    now: datetime,
    task_id: str,
    category: str,
    type_: str,
    task: dict[str, Any],
    result: dict[str, Any],
) -> RunRecord:
    """The record of a run made outside the engine (the seed's ``log_task_result``)."""
    ok = bool(result.get("success", "error" not in result))
    return RunRecord(
        id=new_record_id(now),
        timestamp=now,
        task_id=task_id,
        category=category,
        type=type_,
        trigger=Trigger.MANUAL,
        status=RunStatus.SUCCESS if ok else RunStatus.FAILED,
        success=ok,
        params=dict(task),
        result=result,
        error=None if ok else str(result.get("error", "failed")),
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
    owner: str = "daemon",
) -> InflightRun:
    """The in-flight note of an attempt about to start (the recorder masks its params)."""
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
        owner=owner,
    )
