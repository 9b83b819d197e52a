"""The executor's side of a multi-stage run: stages, counts and checkpoints.

An executor opens a tracker with :func:`track` (through ``RunContext.multi_stage()``),
declares each stage with its planned count, reports items as they finish, and calls
:meth:`RunTracker.checkpoint` between items; that is where a pause or cancel the user
asked for takes effect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout

from ..errors import RunCancelled, RunPaused, SkipRun
from ..home import Home
from .lock import RunLock
from .models import Control, RunPhase, RunState, StageCount
from .store import RunStore, ended

if TYPE_CHECKING:
    import threading

    from ..config import TaskSpec

REMOTE_CONTROL: Callable[[str], Control | None] | None = None
"""On a Celery worker: takes a pause or cancel asked through Redis for a run id
(:mod:`automation_manager.distributed.control`); None on one machine."""


class RunTracker:
    """One multi-stage run as its executor drives it.

    :param store: where the run file lives.
    :param run_id: the run's id (None: a run with nothing to do, tracked nowhere).
    :param now: the run's clock.
    """

    def __init__(self, store: RunStore, run_id: str | None, now: Callable[[], datetime]) -> None:
        self.store = store
        self.id = run_id
        self.now = now

    def _update(self, change: Callable[[RunState], None]) -> RunState | None:
        if self.id is None:
            return None
        return self.store.update(self.id, change, self.now())

    def stage(self, name: str, planned: int) -> None:
        """Enter stage ``name``; its planned count is kept from the first time it began."""

        def change(state: RunState) -> None:
            state.stage = name
            state.stages.setdefault(name, StageCount(planned=planned))

        self._update(change)

    def advance(self, stage: str, done: int | None = None) -> None:
        """One more item of ``stage`` finished (or exactly ``done`` items are finished)."""

        def change(state: RunState) -> None:
            count = state.stages.setdefault(stage, StageCount())
            count.done = count.done + 1 if done is None else done
            # items that arrived during the run (a pipeline's later stages) grow the plan,
            # so progress never reads "3/0"
            count.planned = max(count.planned, count.done)

        self._update(change)

    def asked(self) -> bool:
        """Whether a pause or cancel waits for the next :meth:`checkpoint`."""
        if self.id is None:
            return False
        self._remote_control()
        return self.store.get(self.id).control is not None

    def _remote_control(self) -> None:
        """A request that came through Redis (a worker) goes into the run file first."""
        if REMOTE_CONTROL is None or self.id is None:
            return
        control = REMOTE_CONTROL(self.id)
        if control is not None:
            now = self.now()

            def change(state: RunState) -> None:
                state.control, state.control_at = control, now

            self._update(change)

    def checkpoint(self) -> None:
        """Between items: raise :class:`RunPaused` / :class:`RunCancelled` when asked to."""
        if self.id is None:
            return
        self._remote_control()
        state = self.store.get(self.id)
        if state.control is None:
            return
        control = state.control

        def change(s: RunState) -> None:
            paused = control is Control.PAUSE
            s.status = RunPhase.PAUSED if paused else RunPhase.CANCELLED
            s.reason = "paused by user" if paused else "cancelled by user"
            s.control = None

        state = self._update(change) or state
        where = state.where()
        self.store.note(
            self.id,
            self.now(),
            f"{'paused' if control is Control.PAUSE else 'cancelled'} at {where}",
        )
        if control is Control.PAUSE:
            raise RunPaused(f"paused by user at {where}: amgr runs resume {self.id}")
        raise RunCancelled(f"cancelled by user at {where} (run {self.id})")

    def finish(self, status: RunPhase, reason: str | None = None) -> None:
        """Record how the run ended (a pending pause or cancel no longer applies)."""

        def change(state: RunState) -> None:
            state.status, state.reason, state.control = status, reason, None

        self._update(change)


def _attach(store: RunStore, task_id: str) -> tuple[RunState, FileLock] | None:
    """The task's latest run when it is ``running`` and nobody works on it, claimed."""
    latest = store.latest_for(task_id)
    if latest is None or latest.status is not RunPhase.RUNNING:
        return None
    live = store.live_lock(latest.id)
    try:
        live.acquire(timeout=1)
    except Timeout:
        return None  # another process is working on it: this run is a new one
    return latest, live


@contextmanager
def track(
    home: Home,
    spec: TaskSpec,
    record_id: str,
    now: Callable[[], datetime],
    cancel: threading.Event,
    *,
    start_new: bool = True,
    exclusive: bool = False,
) -> Iterator[RunTracker]:
    """Continue the task's interrupted or resumed run, or start one named ``record_id``.

    The run ends ``completed`` when the body returns and ``failed`` when it raises; a run
    stopped by a daemon shutdown (``cancel`` set) stays ``running``, so the next run of
    the task continues it.

    :param start_new: False: when there is no run to continue, track nothing (a
        ``publishing pending`` run with nothing to send leaves no run file).
    :param exclusive: take the task's run lock (:class:`~.lock.RunLock`) first; when
        another run holds it, raise :class:`SkipRun` ("run RUN is running|paused") and
        start nothing. The lock is kept while the run is paused or stopped by a shutdown,
        and released when it completes, fails or is cancelled.
    """
    store = RunStore(home)
    found = _attach(store, spec.id)
    locks = RunLock(home)
    if exclusive:
        run_id = found[0].id if found is not None else record_id
        holder = locks.take(spec.id, run_id, now(), lambda other: ended(store, other))
        if holder is not None:
            if found is not None:
                found[1].release()
            other = store.load(holder)
            status = other.status.value if other is not None else "running"
            if other is not None and other.status is RunPhase.RUNNING and not store.is_live(holder):
                status = "running (interrupted; its next run continues it)"
            raise SkipRun(f"run {holder} is {status}: amgr runs show {holder}")
    if found is not None:
        state, live = found
        store.update(state.id, lambda s: s.attempts.append(record_id), now())
    elif start_new:
        live = store.live_lock(record_id)
        live.acquire()
        started = now()
        state = RunState(
            id=record_id,
            task_id=spec.id,
            category=spec.category.value,
            type=spec.type,
            attempts=[record_id],
            started_at=started,
            updated_at=started,
        )
        store.save(state)
    else:
        yield RunTracker(store, None, now)
        return
    tracker = RunTracker(store, state.id, now)
    keep_lock = False
    try:
        yield tracker
    except RunPaused:
        keep_lock = True
        raise
    except RunCancelled:
        raise
    except BaseException as exc:
        if cancel.is_set():
            keep_lock = True  # a shutdown: the run stays running and is continued
        else:
            tracker.finish(RunPhase.FAILED, str(exc) or type(exc).__name__)
        raise
    else:
        tracker.finish(RunPhase.COMPLETED)
    finally:
        if not keep_lock:
            locks.release(spec.id, state.id)
        live.release()
