"""One run of one task: admit it, execute it, record it.

Every path ends in exactly one record: ``success``, ``failed`` or ``skipped``.
:func:`execute_run` appends it (``exec-now``); :func:`perform_run` only builds it, so the
daemon can decide, under its own lock, whether the record still counts (a run abandoned
at its timeout or at shutdown already has its record). The daemon adds timeouts, retries
and concurrency around this.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..config import TaskSpec, Workspace
from ..enums import RunStatus, Trigger
from ..errors import AmgrError, SkipRun
from ..executors import RunContext, executor_for
from ..executors.base import ProgressFn
from ..llm.budget import calls_model
from ..logs.records import RunRecord, new_record_id, redact
from ..logs.writer import append_record
from ..runs import MULTI_STAGE
from ..secrets import mask, secret_values
from .clock import Clock, system_clock
from .quotas import check_quota

log = logging.getLogger(__name__)


@dataclass
class RunRequest:
    """What to run and why."""

    spec: TaskSpec
    trigger: Trigger = Trigger.MANUAL
    scheduled_for: datetime | None = None
    attempt: int = 1
    overrides: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    record_id: str | None = None
    """Use this id for the record (the daemon names it in the in-flight file first)."""


@dataclass
class Attempt:
    """The record of one attempt, and whether its failure is worth retrying.

    :param record: the finished record, not yet appended by :func:`perform_run`.
    :param retryable: the failure was transient (network, 429, 5xx, timeout).
    :param retry_after: seconds the remote side asked us to wait, if it said.
    """

    record: RunRecord
    retryable: bool = False
    retry_after: float | None = None


def latest_status(ws: Workspace, task_id: str, now: datetime) -> str | None:
    """Status of the task's latest finished run, searching back a few days of logs."""
    from ..logs.reader import latest_record_for

    rec = latest_record_for(ws.home, task_id, now)
    return rec.get("status") if rec else None


def check_not_paused(ws: Workspace, task_id: str) -> None:
    """Raise :class:`SkipRun` when the task's latest multi-stage run is paused."""
    from ..runs.models import RunPhase
    from ..runs.store import RunStore

    latest = RunStore(ws.home).latest_for(task_id)
    if latest is not None and latest.status is RunPhase.PAUSED:
        raise SkipRun(f"previous run {latest.id} is paused: amgr runs resume {latest.id}")


def admit(
    ws: Workspace, req: RunRequest, now: datetime, params: dict[str, Any], record_id: str
) -> None:
    """Raise :class:`SkipRun` with the reason when the run must not start."""
    spec = req.spec
    if req.trigger is not Trigger.MANUAL:
        if not ws.config.enabled:
            raise SkipRun("automation is disabled (config.json enabled: false)")
        if not spec.enabled:
            raise SkipRun(f"task {spec.id} is disabled")
    if (spec.category.value, spec.type) in MULTI_STAGE:
        check_not_paused(ws, spec.id)
    check_quota(ws, spec.category, spec.type, now)
    for dep in spec.task.depends_on:
        status = latest_status(ws, dep, now)
        if status != RunStatus.SUCCESS:
            got = "has never run" if status is None else f"last run was {status}"
            raise SkipRun(f"dependency {dep} not met: {got}")
    if calls_model(spec.category, spec.type):
        from .budget_gate import check_llm_budget

        chapters = params.get("chapters") if spec.type == "ebook" else None
        check_llm_budget(
            ws, spec.type, now, chapters if isinstance(chapters, int) else None, record_id
        )


def execute_run(
    ws: Workspace,
    req: RunRequest,
    *,
    clock: Clock | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> RunRecord:
    """Admit, execute and record one attempt. Never raises for a task failure."""
    attempt = perform_run(ws, req, clock=clock, progress=progress, cancel=cancel)
    append_record(ws.home, attempt.record)
    return attempt.record


def perform_run(
    ws: Workspace,
    req: RunRequest,
    *,
    clock: Clock | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Attempt:
    """Admit and execute one attempt and build its record, without appending it."""
    clock = clock or system_clock(ws.timezone_name)
    started = clock()
    t0 = time.monotonic()
    record_id = req.record_id or new_record_id(started)
    params = {**req.spec.task.params(), **req.overrides}
    ctx = RunContext(
        workspace=ws,
        spec=req.spec,
        params=params,
        clock=clock,
        record_id=record_id,
        progress=progress,
        cancel=cancel or threading.Event(),
    )
    status = RunStatus.SUCCESS
    result: dict[str, Any] | None = None
    error: str | None = None
    provider: str | None = None
    retryable = False
    retry_after: float | None = None
    try:
        admit(ws, req, started, params, record_id)
        outcome = executor_for(req.spec.category)(ctx)
        result = outcome.result
        provider = outcome.provider
    except SkipRun as exc:
        status, error = RunStatus.SKIPPED, exc.reason
    except AmgrError as exc:
        status, error = RunStatus.FAILED, str(exc)
        retryable = bool(getattr(exc, "transient", False))
        after = getattr(exc, "retry_after", None)
        retry_after = float(after) if isinstance(after, int | float) else None
    except Exception as exc:  # an executor bug must still leave a record
        status = RunStatus.FAILED
        error = f"internal error: {type(exc).__name__}: {exc}"
        log.error("task %s crashed:\n%s", req.spec.id, traceback.format_exc())
    if provider is None and ctx._llm is not None:
        provider = ctx._llm.provider
    secrets = secret_values(ws.config)
    record = RunRecord(
        id=record_id,
        timestamp=started,
        task_id=req.spec.id,
        category=req.spec.category.value,
        type=req.spec.type,
        trigger=req.trigger,
        attempt=req.attempt,
        scheduled_for=req.scheduled_for,
        status=status,
        success=status is RunStatus.SUCCESS,
        params=redact(params, secrets),
        result=redact(result, secrets) if result is not None else None,
        error=mask(error, secrets) if error else None,
        duration_ms=int((time.monotonic() - t0) * 1000),
        usage=ctx.usage if ctx.usage.calls else None,
        provider=provider,
        run_id=req.run_id or ctx.run_id,
    )
    return Attempt(record, retryable=retryable, retry_after=retry_after)
