"""The worker pool: a priority queue of runs and ``max_concurrent_tasks`` workers.

- Higher ``priority`` first, then earlier due time, then arrival.
- A task never runs twice at once: its runs wait in a per-task chain (catch-up under
  ``misfire: all`` queues several, in order); only a chain's head is eligible.
- ``timeout_s``: each attempt runs in its own thread; a worker waits at most the task's
  timeout, then records ``failed`` with a timeout error, sets the run's ``cancel`` event
  (cooperative executors stop) and moves on. A late result is discarded.
- A scheduled run is handed to a worker a moment before its firing instant
  (``Ticket.not_before``, :data:`DISPATCH_LEAD_S` ahead): the worker sleeps until the
  instant on its own timer, so workers woken for the same instant start together instead
  of one after another behind the main thread. An attempt's start is the instant its
  worker took it, never before ``not_before``: the in-flight note and the record both name
  it. Right after taking it the worker yields the interpreter (``sleep(0)``), so the other
  workers of that instant take theirs before any bookkeeping runs.
- Exactly one record per attempt: the run's own, the timeout's or the shutdown's,
  whichever comes first under the attempt's lock, handed to the :class:`RunHost` (whose
  recorder writes it and then drops the in-flight note).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ..config import TaskSpec
from ..enums import Trigger
from ..errors import AmgrError
from ..logs.records import new_record_id
from .outcomes import failed_record, interrupted_record, timeout_record
from .runner import Attempt
from .state import InflightRun

log = logging.getLogger("amgr.daemon")

DISPATCH_LEAD_S = 0.005
"""How long before its firing instant the daemon hands a scheduled run to a worker."""
MAX_LEAD_WAIT_S = 1.0
"""The longest a worker waits for a run's instant (the wall clock may be set back)."""


@dataclass
class Ticket:
    """A run waiting for a worker.

    :param spec: the task as it was when the run was decided.
    :param trigger: scheduled, catch-up or retry.
    :param scheduled_for: the due time it runs for (kept across retries).
    :param attempt: 1 for the run, 2… for its retries.
    """

    spec: TaskSpec
    trigger: Trigger
    scheduled_for: datetime | None
    attempt: int = 1
    not_before: datetime | None = None
    """The firing instant, when the run was handed over ahead of it: the worker waits."""

    @property
    def task_id(self) -> str:
        return self.spec.id

    def retry(self, spec: TaskSpec) -> Ticket:
        """The next attempt of this run."""
        return Ticket(spec, Trigger.RETRY, self.scheduled_for, self.attempt + 1)


@dataclass
class Running:
    """An attempt a worker started."""

    ticket: Ticket
    run: InflightRun
    cancel: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    finished: bool = False


class RunHost(Protocol):
    """What the pool asks of the engine around each attempt (the dispatcher is one).

    The pool owns threads, order and timeouts; the host owns what an attempt means:
    its in-flight note, its admission and execution, and its record.
    """

    def note(self, ticket: Ticket, record_id: str, now: datetime) -> InflightRun:
        """The in-flight note of an attempt about to start (not written yet)."""
        ...

    def begin(self, ticket: Ticket, run: InflightRun) -> None:
        """Write the note (raise :class:`OSError` or an ``AmgrError`` if it cannot be)
        and mark the ticket's due time as run; called just before the attempt starts."""
        ...

    def perform(self, ticket: Ticket, run: InflightRun, cancel: threading.Event) -> Attempt:
        """Admit and execute one attempt (started at ``run.started_at``); its record is
        not written yet."""
        ...

    def finish(self, ticket: Ticket, attempt: Attempt) -> None:
        """Write the attempt's one record (the recorder drops its note), decide its retry."""
        ...

    def settled(self) -> None:
        """The attempt's worker slot and task are free again."""
        ...


class WorkerPool:
    """Runs tickets on worker threads. See the module docstring for the rules.

    :param size: how many attempts may run at once.
    :param host: notes, performs and records each attempt.
    :param clock: the current aware time.
    """

    def __init__(
        self,
        *,
        size: int,
        host: RunHost,
        clock: Callable[[], datetime],
    ) -> None:
        self._host = host
        self._clock = clock
        self._cond = threading.Condition()
        self._ready: list[tuple[int, float, int, Ticket]] = []
        self._chains: dict[str, deque[Ticket]] = {}
        self._active: set[str] = set()
        self._running: dict[str, Running] = {}
        self._claimed = 0  # popped by a worker, not yet in _running
        self._seq = itertools.count()
        self._size = size
        self._workers: list[threading.Thread] = []
        self._closed = False

    # -- submitting -----------------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            self._spawn()

    def submit(self, ticket: Ticket) -> bool:
        """Queue ``ticket`` behind any run of the same task. False once shutting down."""
        with self._cond:
            if self._closed:
                return False
            chain = self._chains.setdefault(ticket.task_id, deque())
            chain.append(ticket)
            if len(chain) == 1 and ticket.task_id not in self._active:
                self._push(ticket)
            self._cond.notify()
            return True

    def busy(self, task_id: str) -> bool:
        """Whether the task has a run going or waiting."""
        with self._cond:
            return task_id in self._active or bool(self._chains.get(task_id))

    def idle(self) -> bool:
        """Nothing running and nothing queued."""
        with self._cond:
            return not (self._active or self._ready or self._running or self._claimed)

    def queued(self) -> int:
        """Tickets waiting for a worker (the metrics' queue depth)."""
        with self._cond:
            return len(self._ready) + sum(max(0, len(c) - 1) for c in self._chains.values())

    def running(self) -> list[InflightRun]:
        with self._cond:
            return [r.run for r in self._running.values()]

    def resize(self, size: int) -> None:
        """Change the number of workers (extra workers leave after their current run)."""
        with self._cond:
            self._size = size
            self._spawn()
            self._cond.notify_all()

    def _push(self, ticket: Ticket) -> None:
        due = ticket.scheduled_for.timestamp() if ticket.scheduled_for else time.time()
        heapq.heappush(self._ready, (-ticket.spec.task.priority, due, next(self._seq), ticket))

    def _spawn(self) -> None:
        self._workers = [w for w in self._workers if w.is_alive()]
        while len(self._workers) < self._size and not self._closed:
            worker = threading.Thread(
                target=self._work, name=f"amgr-worker-{len(self._workers)}", daemon=True
            )
            self._workers.append(worker)
            worker.start()

    # -- working --------------------------------------------------------------------------

    def _work(self) -> None:
        me = threading.current_thread()
        while True:
            with self._cond:
                while not self._ready and not self._closed and self._fits(me):
                    self._cond.wait()
                if self._closed or not self._fits(me):
                    if me in self._workers:
                        self._workers.remove(me)
                    return
                ticket = heapq.heappop(self._ready)[3]
                self._chains[ticket.task_id].popleft()
                self._active.add(ticket.task_id)
                self._claimed += 1
            try:
                self._execute(ticket)
            except Exception:  # never lose a worker to a bug
                log.exception("worker: unexpected error running %s", ticket.task_id)
                self._release(ticket.task_id)

    def _fits(self, me: threading.Thread) -> bool:
        alive = [w for w in self._workers if w.is_alive()]
        return me in alive[: self._size]

    def _execute(self, ticket: Ticket) -> None:
        if ticket.not_before is not None:
            self._wait_until(ticket.not_before)
        now = self._clock()  # the attempt's start: the note's and the record's
        time.sleep(0)  # let workers woken for the same instant take theirs (see the module)
        record_id = new_record_id(now)
        try:
            run = self._host.note(ticket, record_id, now)
        except BaseException:
            with self._cond:
                self._claimed -= 1
            raise
        running = Running(ticket, run)
        with self._cond:
            self._claimed -= 1
            self._running[record_id] = running  # from here a shutdown accounts for it
        problem: Exception | None = None
        with running.lock:  # a shutdown that already recorded it: it never starts
            if running.finished:
                return
            try:
                self._host.begin(ticket, run)
            except (OSError, AmgrError) as exc:
                problem = exc
        if problem is not None:  # no durable note, no run: say why in its record
            error = f"not started: cannot write its in-flight note ({problem})"
            self._finalize(running, Attempt(failed_record(run, self._clock(), error)))
            return
        timeout = ticket.spec.task.timeout_s
        if timeout is None:
            self._attempt(running)  # no timeout to enforce: run on this worker
            return
        thread = threading.Thread(
            target=self._attempt, args=(running,), name=f"amgr-run-{ticket.task_id}", daemon=True
        )
        thread.start()
        if not running.done.wait(timeout):
            running.cancel.set()
            record = timeout_record(run, self._clock(), timeout or 0.0)
            if self._finalize(running, Attempt(record, retryable=True)):
                log.warning(
                    "task %s passed its timeout_s %s; its worker is freed and a late "
                    "result will be discarded",
                    ticket.task_id,
                    timeout,
                )

    def _wait_until(self, instant: datetime) -> None:
        """Sleep until the clock reaches ``instant`` (at most :data:`MAX_LEAD_WAIT_S`: a
        wall clock set back meanwhile is the daemon's to re-plan, not a reason to hold a
        worker)."""
        give_up = time.monotonic() + MAX_LEAD_WAIT_S
        while (left := (instant - self._clock()).total_seconds()) > 0:
            if time.monotonic() >= give_up:
                return
            time.sleep(min(left, 0.05))

    def _attempt(self, running: Running) -> None:
        try:
            result = self._host.perform(running.ticket, running.run, running.cancel)
        except BaseException as exc:  # perform_run catches Exception; this is belt and braces
            record = failed_record(
                running.run, self._clock(), f"internal error: {type(exc).__name__}: {exc}"
            )
            result = Attempt(record)
        if not self._finalize(running, result):
            log.info(
                "task %s: a late result after its timeout or shutdown was discarded",
                running.ticket.task_id,
            )
        running.done.set()

    def _finalize(self, running: Running, attempt: Attempt) -> bool:
        """Record the attempt's one record, unless another path already did."""
        with running.lock:
            if running.finished:
                return False
            running.finished = True
        try:  # before the release: a waiter never sees "idle" too early
            self._host.finish(running.ticket, attempt)
        except Exception:
            log.exception("worker: recording failed for %s", running.ticket.task_id)
        with self._cond:
            self._running.pop(running.run.record_id, None)
        self._release(running.ticket.task_id)
        return True

    def _release(self, task_id: str) -> None:
        with self._cond:
            self._active.discard(task_id)
            chain = self._chains.get(task_id)
            if chain:
                if not self._closed:
                    self._push(chain[0])
            else:
                self._chains.pop(task_id, None)
            self._cond.notify_all()
        self._host.settled()

    # -- stopping -------------------------------------------------------------------------

    def shutdown(self, grace_s: float, abort: threading.Event | None = None) -> list[Ticket]:
        """Take no new runs; wait up to ``grace_s`` for running ones; record the rest interrupted.

        :param abort: when set, stop waiting at once (a second Ctrl-C).
        :returns: the tickets that were queued and never started (not recorded: their due
            times were not marked run, so the next start's misfire policy decides).
        """
        with self._cond:
            self._closed = True
            dropped = [t for chain in self._chains.values() for t in chain]
            self._chains.clear()
            self._ready.clear()
            self._cond.notify_all()
        deadline = time.monotonic() + grace_s
        while True:
            with self._cond:
                if not self._running and not self._claimed:
                    break
                left = deadline - time.monotonic()
                if left <= 0 or (abort is not None and abort.is_set()):
                    break
                self._cond.wait(min(left, 0.1))
        with self._cond:
            leftovers = list(self._running.values())
        forced = abort is not None and abort.is_set()
        why = (
            "a second stop signal ended the wait"
            if forced
            else f"still running after shutdown_grace_s {grace_s:g}"
        )
        for running in leftovers:
            running.cancel.set()
            record = interrupted_record(
                running.run,
                self._clock(),
                os.getpid(),
                f"interrupted: the daemon stopped (pid {os.getpid()}) before this run finished "
                f"({why})",
            )
            self._finalize(running, Attempt(record))
        return dropped
