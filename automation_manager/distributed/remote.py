"""The scheduler side of a distributed run: admit, send, wait, answer the pool.

:class:`RemoteRuns` stands in for the local executor call of the dispatcher (its
``perform``): the pool still owns order, per-task chains, ``timeout_s`` and the one
record per attempt; the dispatcher's recorder still writes every record here.

- Admission happens here, in the scheduler's state database (one transaction, as for a
  local run), before the run is sent: a skipped run is never sent.
- The message carries the firing's record id (also the Celery task id): a redelivered
  message answers for the same firing, and the worker's claim refuses a second start.
- While waiting, the run's claim is watched: a run whose worker stopped heartbeating is
  closed atomically (:data:`LOST`) and recorded ``interrupted``; a run not yet started
  simply waits (a dead worker's unacknowledged message comes back after the visibility
  timeout and runs elsewhere).
- A broker that cannot be reached for longer than the misfire grace: the firing is
  recorded ``skipped`` ("broker unreachable"), the scheduler keeps scheduling, and one
  notification opens the incident (one more closes it when the broker is back).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..enums import RunStatus
from ..errors import SkipRun
from ..logs.records import RunRecord
from ..tasktypes import REGISTRY
from .settings import RUN_TASK, Keys, broker_url, jsonable, queue_for, redis_client

if TYPE_CHECKING:
    import redis
    from celery import Celery

    from ..config import Workspace
    from ..engine.pool import Ticket
    from ..engine.recorder import Recorder
    from ..engine.runner import Attempt
    from ..engine.state import InflightRun
    from ..logs.records import Usage

log = logging.getLogger("amgr.daemon")

LOST = """
if redis.call('exists', KEYS[1]) == 1 then return 'running' end
if redis.call('exists', KEYS[2]) == 0 then return 'queued' end
redis.call('set', KEYS[3], '1', 'PX', ARGV[1])
return 'lost'
"""
"""KEYS: claim, started, closed. A started run with no live claim is lost: close it."""
CLOSED_TTL_MS = 3 * 86_400_000
POLL_S = 0.02
"""How often a waiting run asks for its result (one GET)."""
CHECK_EVERY_S = 0.5
"""How often a waiting run checks its worker is alive."""
CANCEL_WAIT_S = 30.0
"""After asking a worker to stop a run, how long to wait for its answer."""


class BrokerIncident:
    """The broker's reachability, said once per incident (log and notification)."""

    KEY = "broker"

    def __init__(self, workspace: Callable[[], Workspace], clock: Callable[[], datetime]) -> None:
        self._workspace = workspace
        self._clock = clock
        self._lock = threading.Lock()
        self.down_since: datetime | None = None

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if self.down_since is not None:
                return
            self.down_since = self._clock()
        log.warning("broker unreachable (%s); scheduling goes on, runs wait for it", exc)
        self._tell(opened=True, error=str(exc))

    def ok(self) -> None:
        with self._lock:
            since, self.down_since = self.down_since, None
        if since is not None:
            log.warning("broker reachable again (down since %s)", since.isoformat("T", "seconds"))
            self._tell(opened=False, error="")

    def _tell(self, *, opened: bool, error: str) -> None:
        def send() -> None:
            try:
                from ..notify import Notifier

                ws = self._workspace()
                notifier = Notifier(ws.home, ws.config)
                if opened:
                    notifier.incident(
                        self.KEY,
                        "broker",
                        "amgr: the broker is unreachable",
                        f"The Celery broker cannot be reached ({error}). amgr keeps "
                        "scheduling; firings it cannot send are recorded skipped.",
                        self._clock(),
                    )
                else:
                    notifier.recovered(
                        self.KEY,
                        "amgr: the broker is back",
                        "The Celery broker is reachable again; runs are sent again.",
                        self._clock(),
                    )
            except Exception:
                log.exception("notify: could not tell about the broker")

        threading.Thread(target=send, name="amgr-broker-notice", daemon=True).start()


class RemoteRuns:
    """Runs the pool's attempts on Celery workers. See the module docstring."""

    def __init__(
        self,
        workspace: Callable[[], Workspace],
        recorder: Recorder,
        clock: Callable[[], datetime],
    ) -> None:
        from .app import build_app

        ws = workspace()
        self._workspace = workspace
        self._recorder = recorder
        self._clock = clock
        self.executor = ws.config.executor
        self.url = broker_url(ws.config)
        self.keys = Keys(self.executor.namespace)
        self.app: Celery = build_app(self.url, self.executor)
        self.redis: redis.Redis = redis_client(self.url)
        self.broker = BrokerIncident(workspace, clock)
        self.grace_s = 2.0
        self.sent = 0
        self.dispatch_s: deque[float] = deque(maxlen=10_000)
        """Send → start on a worker, in seconds, of the latest answered runs."""

    # -- the pool's perform ---------------------------------------------------------------

    def perform(self, ticket: Ticket, record_id: str, cancel: threading.Event) -> Attempt:
        from ..engine.outcomes import inflight_note

        ws = self._workspace()
        spec = ticket.spec
        now = self._clock()
        params = spec.task.params()
        note = inflight_note(
            spec,
            record_id=record_id,
            pid=os.getpid(),
            trigger=ticket.trigger,
            attempt=ticket.attempt,
            scheduled_for=ticket.scheduled_for,
            started_at=now,
            params=params,
        )
        from .reserve import BrokerDown

        deadline = time.monotonic() + self.grace_s
        while True:
            try:
                self._recorder.admission.admit(
                    ws, spec, trigger=ticket.trigger, params=params, record_id=record_id, now=now
                )
            except BrokerDown as exc:  # reservations live in Redis: wait for it a little
                self.broker.failed(exc.cause)
                if time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                return self._ended(note, RunStatus.SKIPPED, exc.reason)
            except SkipRun as exc:
                return self._ended(note, RunStatus.SKIPPED, exc.reason)
            break
        queue = queue_for(spec, self.executor)
        payload: dict[str, Any] = {
            "record_id": record_id,
            "task_id": spec.id,
            "trigger": ticket.trigger.value,
            "attempt": ticket.attempt,
            "scheduled_for": ticket.scheduled_for.isoformat() if ticket.scheduled_for else None,
            "sent_at": time.time(),
            "home": str(ws.home.root),
            "host": socket.gethostname(),
        }
        if REGISTRY.get(spec.category, spec.type).multi_stage:
            from .artifacts import run_files

            payload["runs"] = run_files(ws.home, spec.id)  # paused, resumed, cancelled here
        problem = self._send(payload, queue, spec.task.timeout_s)
        if problem is not None:
            return self._ended(
                note,
                RunStatus.SKIPPED,
                f"broker unreachable: not sent within {self.grace_s:g}s ({problem})",
            )
        return self._wait(note, cancel)

    def _send(self, payload: dict[str, Any], queue: str, timeout_s: float | None) -> str | None:
        """Send the run; None once sent, else why it could not be (after the grace)."""
        deadline = time.monotonic() + self.grace_s
        limits: dict[str, Any] = {}
        if timeout_s is not None:  # the pool records the timeout; Celery stops the run
            limits = {"soft_time_limit": timeout_s, "time_limit": timeout_s + 10}
        while True:
            try:
                self.app.send_task(
                    RUN_TASK,
                    args=[jsonable(payload)],
                    task_id=payload["record_id"],
                    queue=self.keys.queue(queue),
                    routing_key=self.keys.queue(queue),
                    retry=False,
                    **limits,
                )
            except Exception as exc:
                self.broker.failed(exc)
                if time.monotonic() >= deadline:
                    return f"{type(exc).__name__}: {exc}"
                time.sleep(0.2)
                continue
            self.broker.ok()
            self.sent += 1
            return None

    def _wait(self, note: InflightRun, cancel: threading.Event) -> Attempt:
        from ..engine.runner import Attempt

        record_id = note.record_id
        result = self.app.AsyncResult(record_id)
        keys = self.keys
        check_at = time.monotonic() + CHECK_EVERY_S
        cancel_until: float | None = None
        while True:
            try:
                state = result.state
                if state == "SUCCESS":
                    data = result.result
                    result.forget()
                    self.broker.ok()
                    record = RunRecord.from_json(data["record"])
                    if data.get("artifacts"):  # before the record that points to them
                        from .artifacts import unpack

                        try:
                            unpack(self._workspace().home, data["artifacts"], record_id=record_id)
                        except OSError as exc:  # StorageError too: the record still goes in
                            log.error("run %s: its files could not be written: %s", record_id, exc)
                    if data.get("sent_at") and data.get("picked_at"):
                        self.dispatch_s.append(float(data["picked_at"]) - float(data["sent_at"]))
                    return Attempt(
                        record,
                        retryable=bool(data.get("retryable")),
                        retry_after=data.get("retry_after"),
                    )
                if state == "FAILURE":
                    error = result.result
                    result.forget()
                    return self._ended(
                        note, RunStatus.FAILED, f"worker error: {type(error).__name__}: {error}"
                    )
                if cancel.is_set() and cancel_until is None:
                    self.redis.set(keys.cancel(record_id), "1", px=CLOSED_TTL_MS)
                    cancel_until = time.monotonic() + CANCEL_WAIT_S
                if time.monotonic() >= check_at:
                    check_at = time.monotonic() + CHECK_EVERY_S
                    status = self.redis.eval(
                        LOST,
                        3,
                        keys.claim(record_id),
                        keys.started(record_id),
                        keys.closed(record_id),
                        CLOSED_TTL_MS,
                    )
                    self.broker.ok()
                    if status == "lost":
                        return self._ended(
                            note,
                            RunStatus.INTERRUPTED,
                            "interrupted: its worker stopped heartbeating before this run "
                            "finished (killed, or lost its machine)",
                        )
                    if status == "queued" and cancel_until is not None:
                        self.redis.set(keys.closed(record_id), "1", px=CLOSED_TTL_MS)
                        return self._ended(
                            note, RunStatus.INTERRUPTED, "interrupted: cancelled before it started"
                        )
            except Exception as exc:  # the broker went away: wait for it
                self.broker.failed(exc)
                time.sleep(0.5)
            if cancel_until is not None and time.monotonic() >= cancel_until:
                return self._ended(
                    note, RunStatus.INTERRUPTED, "interrupted: its worker did not answer the stop"
                )
            time.sleep(POLL_S)

    def _ended(self, note: InflightRun, status: RunStatus, error: str) -> Attempt:
        from ..engine.outcomes import failed_record, interrupted_record, skipped_for
        from ..engine.runner import Attempt

        now = self._clock()
        if status is RunStatus.INTERRUPTED:
            usage = self._spent(note.record_id)  # what the worker noted before it stopped
            return Attempt(interrupted_record(note, now, note.pid, error, usage=usage))
        if status is RunStatus.SKIPPED:
            return Attempt(skipped_for(note, now, error))
        return Attempt(failed_record(note, now, error))

    def _spent(self, record_id: str) -> Usage | None:
        remote = self._recorder.admission.remote()
        try:
            return remote.spent_by(record_id) if remote is not None else None
        except Exception:
            return None

    def close(self) -> None:
        try:
            self.redis.close()
        except Exception:
            log.debug("broker: could not close the connection")
