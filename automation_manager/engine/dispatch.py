"""From firings to runs: catch-up, coalescing, the pool's callbacks, retries, notifications.

The daemon's main thread calls :meth:`Dispatcher.fire` (a ``schedule`` job came due),
:meth:`Dispatcher.catch_up` (at start) and :meth:`Dispatcher.run_due_retries`; the
pool's workers call the dispatcher as their :class:`~.pool.RunHost` (note, begin,
perform, finish), and every record goes through its :class:`~.recorder.Recorder`.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from ..config import Workspace
from ..enums import RunStatus, Trigger
from ..home import Home
from ..logs.records import RunRecord
from ..secrets import secret_values
from .admission import Admission
from .console import describe_finish, describe_start, short_time
from .jobs import TaskJob
from .outcomes import inflight_note, skipped_record
from .planning import MISFIRE_AFTER, catch_up, schedulable
from .pool import Ticket, WorkerPool
from .recorder import Recorder
from .retry import RetryQueue, retry_after_failure
from .runner import Attempt, RunRequest, perform_run
from .state import InflightRun, StateStore

log = logging.getLogger("amgr.daemon")

FLUSH_EVERY_S = 5.0
"""While the disk is full, how often the waiting records are tried again."""
NOTICE_DRAIN_S = 15.0
"""At stop, how long to wait for notifications of the last runs to go out."""


class Notices:
    """Hands finished runs to the notifier on its own thread.

    A failure after its retries, an interrupted run or a budget skip opens an incident
    (one message); the next success closes it. A slow mail server never holds a worker.
    """

    def __init__(self, workspace: Callable[[], Workspace]) -> None:
        self._workspace = workspace
        self._queue: queue.SimpleQueue[tuple[RunRecord, bool] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def tell(self, record: RunRecord, *, final: bool) -> None:
        """Queue ``record`` (``final``: no retry follows it)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="amgr-notify", daemon=True)
                self._thread.start()
        self._queue.put((record, final))

    def close(self, timeout: float = NOTICE_DRAIN_S) -> None:
        """Send what is queued (up to ``timeout``) and stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def _loop(self) -> None:
        while (item := self._queue.get()) is not None:
            record, final = item
            try:
                from ..notify import Notifier

                ws = self._workspace()
                Notifier(ws.home, ws.config).notify_run(record, final=final)
            except Exception:  # a notification must never stop the daemon
                log.exception("notify: could not handle run %s", record.id)


class Dispatcher:
    """Turns due times into queued runs and finished runs into retries.

    :param workspace: the current configuration (it changes on reload).
    :param clock: the current aware time.
    :param wake: wakes the main thread (a run finished, a retry was queued).
    :param stopping: set once the daemon stops taking new runs.
    """

    def __init__(
        self,
        home: Home,
        state: StateStore,
        *,
        workspace: Callable[[], Workspace],
        clock: Callable[[], datetime],
        wake: Callable[[], None],
        stopping: threading.Event,
    ) -> None:
        self.home = home
        self.state = state
        self._workspace = workspace
        self._clock = clock
        self._stopping = stopping
        self._wake = wake
        self._flush_at = 0.0
        self.retries: RetryQueue[Ticket] = RetryQueue()
        self._lock = threading.Lock()
        self.failures = 0
        self.notices = Notices(workspace)
        self.recorder = Recorder(
            home,
            state=state,
            admission=Admission(home),
            secrets=lambda: secret_values(self._workspace().config),
            clock=clock,
            notify=lambda record, final: self.notices.tell(record, final=final),
        )
        config = workspace().config
        self.remote = None  # executor "celery": runs go to workers (automation_manager.distributed)
        if config.executor.distributed:
            from ..distributed.remote import RemoteRuns

            self.remote = RemoteRuns(workspace, self.recorder, clock)
        size = config.executor.slots(config.max_concurrent_tasks)
        self.pool = WorkerPool(size=size, host=self, clock=clock)

    def idle(self) -> bool:
        """Nothing running, queued or waiting to retry."""
        return self.pool.idle() and not len(self.retries)

    # -- deciding what runs (main thread) -------------------------------------------------

    def catch_up(self, now: datetime) -> int:
        """Queue missed due times by misfire policy; returns how many runs were queued.

        Tasks that miss nothing are marked decided up to ``now``; saved due times of tasks
        no longer scheduled are forgotten (if they return, they start fresh).
        """
        ws = self._workspace()
        wanted = {s.id for s in ws.tasks if schedulable(s)}
        if self.home.tasks_path.exists():  # a missing tasks.json is no reason to forget
            self.state.forget(set(self.state.all_last_due()) - wanted)
        count = 0
        for spec in ws.tasks:
            if not schedulable(spec):
                continue
            assert spec.schedule is not None
            missed = catch_up(spec.schedule, self.state.last_due(spec.id), now)
            for due in missed:
                self.pool.submit(Ticket(spec, Trigger.CATCH_UP, due))
            count += len(missed)
            if not missed:
                self.state.advance(spec.id, now)
        return count

    def fire(self, job: TaskJob) -> None:
        """A job's firing instant came: queue its run, or coalesce it."""
        assert job.due is not None
        spec, due, now = job.spec, job.due, self._clock()
        if now - job.fire_at > MISFIRE_AFTER:
            # The daemon slept through due times (suspend, clock jump): misfire policy.
            assert spec.schedule is not None
            missed = catch_up(spec.schedule, due - timedelta(microseconds=1), now)
            job.skip_to(now)
            log.warning(
                "%s: woke %s late; %d missed due times run as catch-up (misfire %s)",
                spec.id,
                now - job.fire_at,
                len(missed),
                spec.schedule.misfire.value,
            )
            for when in missed:
                self.pool.submit(Ticket(spec, Trigger.CATCH_UP, when))
            self.state.advance(spec.id, now)
            return
        if self.pool.busy(spec.id):
            reason = f"coalesced: the previous run of {spec.id} is still in progress"
            record = skipped_record(
                spec, now=now, trigger=Trigger.SCHEDULED, scheduled_for=due, reason=reason
            )
            self.recorder.write(record)
            self.state.advance(spec.id, due)
            log.info("%-8s %s (due %s): %s", "skipped", spec.id, short_time(due), reason)
            return
        self.pool.submit(Ticket(spec, Trigger.SCHEDULED, due, not_before=job.fire_at))

    def next_in(self) -> float | None:
        """Seconds until the main thread has something to do here (a retry, or another
        try at writing records that wait for disk space)."""
        retry = self.retries.next_in()
        if self.recorder.waiting:
            wait = max(0.0, self._flush_at - time.monotonic())
            retry = wait if retry is None else min(retry, wait)
        return retry

    def unrecorded(self) -> int:
        """Records still waiting for disk space after one last try (``run --once`` ends
        with exit 1 on them: their runs are recorded ``interrupted`` at the next start)."""
        self.recorder.flush_waiting()
        left = self.recorder.waiting
        if left:
            log.error(
                "%d run records could not be written (disk full under %s); the next start "
                "records those runs as interrupted",
                left,
                self.home.mp,
            )
        return left

    def run_due_retries(self) -> None:
        """Queue the retries whose backoff is over (unless a newer run took their place),
        and try again to write records that wait for disk space."""
        if self.recorder.waiting and time.monotonic() >= self._flush_at:
            self._flush_at = time.monotonic() + FLUSH_EVERY_S
            self.recorder.flush_waiting()
        for ticket in self.retries.pop_due():
            spec = self._workspace().task(ticket.task_id)
            if spec is None or not spec.enabled:
                log.info("retry of %s dropped: the task is gone or disabled", ticket.task_id)
                self._count_failure()
            elif self.pool.busy(spec.id):
                log.info("retry of %s dropped: a newer run is in progress", ticket.task_id)
                self._count_failure()
            else:
                self.pool.submit(ticket.retry(spec))

    def shutdown(self, grace_s: float, force: threading.Event) -> None:
        """Stop the pool (grace, then interrupted records) and drop pending retries."""
        if not self.pool.idle():
            log.info(
                "stopping: waiting up to %gs for running tasks (Ctrl-C again to stop now)",
                grace_s,
            )
        for ticket in self.pool.shutdown(grace_s, force):
            log.info(
                "%s: queued run (due %s) not started; the next start's misfire policy decides",
                ticket.task_id,
                short_time(ticket.scheduled_for),
            )
        dropped = self.retries.clear()
        if dropped:
            log.info("%d pending retries dropped (their failures are recorded)", dropped)
        self.notices.close()

    # -- running (worker threads): the pool's RunHost ----------------------------------

    def note(self, ticket: Ticket, record_id: str, now: datetime) -> InflightRun:
        return inflight_note(
            ticket.spec,
            record_id=record_id,
            pid=os.getpid(),
            trigger=ticket.trigger,
            attempt=ticket.attempt,
            scheduled_for=ticket.scheduled_for,
            started_at=now,
            params=ticket.spec.task.params(),
        )

    def begin(self, ticket: Ticket, run: InflightRun) -> None:
        self.recorder.begin(run)
        due = ticket.scheduled_for
        if due is not None and ticket.trigger is not Trigger.RETRY:
            self.state.advance(ticket.task_id, due)
        log.info("%s", describe_start(ticket.task_id, ticket.trigger, ticket.attempt, due))

    def perform(self, ticket: Ticket, run: InflightRun, cancel: threading.Event) -> Attempt:
        """One attempt through the runner (admission, executor, record not yet written)."""
        self._recover_others()
        if self.remote is not None:
            return self.remote.perform(ticket, run.record_id, cancel)
        req = RunRequest(
            spec=ticket.spec,
            trigger=ticket.trigger,
            scheduled_for=ticket.scheduled_for,
            attempt=ticket.attempt,
            record_id=run.record_id,
            started_at=run.started_at,
        )
        return perform_run(
            self._workspace(), req, recorder=self.recorder, clock=self._clock, cancel=cancel
        )

    def _recover_others(self) -> None:
        """Record runs of other processes that died (a killed ``exec-now``) before this
        run is admitted: their reservations would hold a quota, a budget or the task
        itself until then. Only looked into when there are more notes than our runs."""
        try:
            notes = len(os.listdir(self.state.inflight_dir))
        except OSError:
            return
        if notes > len(self.pool.running()):
            try:
                self.recorder.recover(self._clock())
            except Exception as exc:  # never costs this run
                log.warning("could not record the runs other processes left: %s", exc)

    def finish(self, ticket: Ticket, attempt: Attempt) -> None:
        """Record the attempt; queue a retry of a transient failure; count final failures."""
        record = attempt.record
        note = ""
        delay: float | None = None
        if record.status == RunStatus.FAILED:
            ws = self._workspace()
            spec = ws.task(ticket.task_id) or ticket.spec
            delay = retry_after_failure(
                ticket.attempt, attempt.retryable, attempt.retry_after, spec, ws.config
            )
            if delay is not None and self._stopping.is_set():
                delay = None
        if not self.recorder.write(record, final=delay is None):
            note = (
                " (record waits: the disk is full)"
                if self.recorder.waiting
                else f" (record not written: {self.recorder.last_error})"
            )
        if delay is not None:
            self.retries.push(ticket, delay)
            note += f"; attempt {ticket.attempt + 1} in {delay:.1f}s"
        elif record.status in (RunStatus.FAILED, RunStatus.INTERRUPTED):
            self._count_failure()
        line = describe_finish(record) + note
        log.log(logging.WARNING if record.status == RunStatus.FAILED else logging.INFO, line)

    def settled(self) -> None:
        self._wake()

    def _count_failure(self) -> None:
        with self._lock:
            self.failures += 1
