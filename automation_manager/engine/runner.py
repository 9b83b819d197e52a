"""One run of one task: admit it, execute it, record it.

Every path ends in exactly one record: ``success``, ``failed``, ``skipped`` or
``interrupted``. :func:`perform_run` admits (see :mod:`.admission`), executes and builds
the record; the caller writes it through the :class:`~.recorder.Recorder` —
:func:`execute_run` for ``exec-now``, the worker pool for the daemon (which decides
under its own lock whether the record still counts: a run abandoned at its timeout or
at shutdown already has its record). The daemon adds timeouts, retries and concurrency.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..config import TaskSpec, Workspace
from ..enums import RunStatus, Trigger
from ..errors import AmgrError, SkipRun
from ..executors import RunContext
from ..executors.base import ProgressFn
from ..logs.records import RunRecord, Usage, new_record_id
from ..operations import resources
from ..tasktypes import REGISTRY
from .admission import Admission
from .clock import Clock, system_clock
from .outcomes import inflight_note, interrupted_record, run_record
from .recorder import Notify, Recorder, RecordNotWritten
from .state import StateStore

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
    ignore_quota: bool = False
    """A person's one manual run past the daily quotas (``exec-now --ignore-quota``)."""
    started_at: datetime | None = None
    """When the attempt started: the instant its in-flight note names (the record's
    ``timestamp``; its duration counts from it). None: the moment :func:`perform_run` runs."""


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


def execute_run(
    ws: Workspace,
    req: RunRequest,
    *,
    recorder: Recorder | None = None,
    clock: Clock | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> RunRecord:
    """Run one attempt in this process (``exec-now``, the library) and record it.

    Like a daemon's run: runs left by processes that are gone are recorded first; an
    in-flight note is written before the run, so a kill -9 is recorded ``interrupted``
    by the next command; SIGINT and SIGTERM record it ``interrupted`` at once (with the
    tokens and cost spent so far) and then propagate as :class:`KeyboardInterrupt`.

    :raises RecordNotWritten: the disk refused the record (the note stays: the next
        command records the run ``interrupted``).
    :raises StorageError: the in-flight note could not be written: the run did not start.
    """
    clock = clock or system_clock(ws.timezone_name)
    recorder = recorder or command_recorder(ws, clock)
    started = clock()
    recorder.recover(started)
    req.record_id = req.record_id or new_record_id(started)
    note = inflight_note(
        req.spec,
        record_id=req.record_id,
        pid=os.getpid(),
        trigger=req.trigger,
        attempt=req.attempt,
        scheduled_for=req.scheduled_for,
        started_at=started,
        params={**req.spec.task.params(), **req.overrides},
        owner="exec-now",
    )
    recorder.begin(note)
    req.started_at = started  # one start instant: the note's is the record's
    try:
        with _terminate_as_interrupt():
            attempt = perform_run(
                ws, req, recorder=recorder, clock=clock, progress=progress, cancel=cancel
            )
    except KeyboardInterrupt as exc:
        name = str(exc) or "SIGINT"
        record = interrupted_record(
            note,
            clock(),
            note.pid,
            f"interrupted: amgr exec-now received {name} (pid {note.pid}) before this run finished",
            usage=recorder.admission.spent_by(note.record_id),
        )
        recorder.write(record)
        raise
    if not recorder.write(attempt.record):
        raise RecordNotWritten(
            f"{recorder.last_error}; the record of this run ({attempt.record.status}) was not "
            "written: the next amgr command records it as interrupted once there is space"
        )
    return attempt.record


def command_recorder(
    ws: Workspace, clock: Clock, notify: Notify | None = None, *, state: str | None = None
) -> Recorder:
    """A recorder for one command's runs (``exec-now``, the library) on ``ws``'s home.

    :param state: another state database (``":memory:"``: decide from the log alone).
    """
    from ..secrets import secret_values

    return Recorder(
        ws.home,
        state=StateStore(ws.home),
        admission=Admission(ws.home, path=state),
        secrets=lambda: secret_values(ws.config),
        clock=clock,
        notify=notify,
    )


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """In the main thread, turn SIGTERM into :class:`KeyboardInterrupt` (named) for a block."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def perform_run(
    ws: Workspace,
    req: RunRequest,
    *,
    recorder: Recorder | None = None,
    clock: Clock | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Attempt:
    """Admit and execute one attempt and build its record, without writing it.

    Admission reserves the run's quota and budget in ``recorder.admission`` (default: a
    throw-away in-memory state, for callers that only want the attempt); writing the
    record through that recorder settles it.
    """
    clock = clock or system_clock(ws.timezone_name)
    if recorder is None:
        recorder = command_recorder(ws, clock, state=":memory:")
    t0 = time.monotonic()
    if req.started_at is None:
        started = clock()
    else:  # the attempt started when its in-flight note says (its bookkeeping included)
        started = req.started_at
        t0 -= max(0.0, (clock() - started).total_seconds())
    record_id = req.record_id or new_record_id(started)
    params = {**req.spec.task.params(), **req.overrides}
    if req.ignore_quota:
        params["quota_ignored"] = True  # the record says a person overrode the quota
    admission = recorder.admission
    ctx = RunContext(
        workspace=ws,
        spec=req.spec,
        params=params,
        clock=clock,
        record_id=record_id,
        progress=progress,
        cancel=cancel or threading.Event(),
        on_usage=lambda usage: _note_usage(admission, record_id, usage),
    )
    status = RunStatus.SUCCESS
    result: dict[str, Any] | None = None
    error: str | None = None
    provider: str | None = None
    retryable = False
    retry_after: float | None = None
    meter = resources.Meter.start(record_id)
    try:
        admission.admit(
            ws,
            req.spec,
            trigger=req.trigger,
            params=params,
            record_id=record_id,
            now=started,
            ignore_quota=req.ignore_quota,
        )
        resources.admit(req.spec, ws.home.root, record_id, cancel=ctx.cancel)
        outcome = REGISTRY.get(req.spec.category, req.spec.type).load_runner()(ctx)
        result = outcome.result
        provider = outcome.provider
    except SkipRun as exc:
        status, error = RunStatus.SKIPPED, exc.reason
    except AmgrError as exc:
        status, error = RunStatus.FAILED, str(exc)
        result = exc.partial_result
        retryable = bool(getattr(exc, "transient", False))
        after = getattr(exc, "retry_after", None)
        retry_after = float(after) if isinstance(after, int | float) else None
    except Exception as exc:  # an executor bug must still leave a record
        status = RunStatus.FAILED
        error = f"internal error: {type(exc).__name__}: {exc}"
        log.error("task %s crashed:\n%s", req.spec.id, traceback.format_exc())
    finally:
        resources.release(record_id)
    if provider is None and ctx._llm is not None:
        provider = ctx._llm.provider
    record = run_record(
        req.spec,
        record_id=record_id,
        started=started,
        trigger=req.trigger,
        attempt=req.attempt,
        scheduled_for=req.scheduled_for,
        status=status,
        params=params,
        result=result,
        error=error,
        duration_ms=int((time.monotonic() - t0) * 1000),
        usage=ctx.usage,
        provider=provider,
        run_id=req.run_id or ctx.run_id,
        resources_used=meter.stop(),
    )
    return Attempt(record, retryable=retryable, retry_after=retry_after)


def _note_usage(admission: Admission, record_id: str, usage: Usage) -> None:
    try:
        admission.progress(record_id, usage)
    except Exception as exc:  # noting progress must never fail the run
        log.debug("could not note the usage of %s: %s", record_id, exc)
