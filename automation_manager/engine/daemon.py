"""The daemon: ``amgr run`` and ``amgr run --once``.

One thread (the caller's) owns the schedule: it sleeps in one ``select()`` until the
next firing, a signal, a finished run or an edit to the three files, and dispatches due
firings to the :class:`~.pool.WorkerPool`. The flow of a start:

1. take the home's daemon lock (a second daemon exits 3, naming the holder's pid);
2. record runs the last daemon left in flight as ``interrupted``;
3. catch up due times missed while down, by each task's misfire policy;
4. register one ``schedule`` job per enabled task (first due time after now);
5. fire on time, reload edits (and on SIGHUP), retry transient failures, follow
   wall-clock jumps, until SIGINT/SIGTERM;
6. stop: no new runs, ``shutdown_grace_s`` for running ones, the rest ``interrupted``.

Time: firings are planned on the wall clock. Each loop turn compares how far the wall
clock moved with how far the monotonic clock did (:class:`~.planning.JumpDetector`).
A backward jump re-plans the interval tasks by the jump (see :mod:`.jobs`), so they do
not stall for its length; a forward jump, a suspend or a SIGSTOP leaves firings late,
and a firing later than :data:`~.planning.MISFIRE_AFTER` follows its task's misfire
policy (``Dispatcher.fire``).

A reload never breaks the daemon: whatever goes wrong (a bad edit, a missing file, a
value that only fails once planned, a bug), the last good configuration keeps running.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .. import __version__
from ..config import TaskSpec, Workspace, load_workspace
from ..errors import AmgrError, ConfigError
from ..home import Home
from .clock import Clock
from .console import clock_jump, configure_logging, forced_stop, reload_failure, short_time
from .dispatch import Dispatcher
from .jobs import TaskJob, TaskScheduler
from .lock import DaemonLock
from .planning import JumpDetector, plan_problems, schedulable
from .pool import DISPATCH_LEAD_S, WorkerPool
from .recovery import recent_due_times
from .signals import StopSignals
from .state import DaemonInfo, StateStore
from .warm import Warmer
from .watch import POLL_S, FileWatcher, Waker, signature

if TYPE_CHECKING:
    import subprocess

    from ..distributed.lease import Lease

log = logging.getLogger("amgr.daemon")

MAX_SLEEP_S = 60.0
"""The longest single sleep: bounds how late a wall-clock jump or a suspend is noticed."""
RELOAD_DEBOUNCE_S = 0.15
"""After a file event, wait this long for the writer to finish before reading."""


SWITCH_INTERVAL_S = 0.0005
"""The daemon's interpreter switch interval (see :meth:`Daemon._serve`)."""
KEEP_AFTER_MIDNIGHT = timedelta(minutes=15)
"""A day's history index is kept this long after its midnight (a run started before
midnight still appends to its start day's file): see :meth:`Daemon._keep_indexes`."""


class Daemon:
    """The scheduler daemon of one home.

    :param home: the home folder (a :class:`Home`, a path, or None for ``$AMGR_HOME``/cwd).
    :param clock: the current aware time; injected in tests (sleeping still uses real time).
    """

    def __init__(
        self,
        home: Home | str | os.PathLike[str] | None = None,
        *,
        clock: Clock | None = None,
        prepare: Callable[[Workspace], None] | None = None,
    ) -> None:
        self.home = home if isinstance(home, Home) else Home.resolve(home)
        self._clock = clock
        self._prepare = prepare
        """Applied to every configuration read (the library's constructor credentials)."""
        self.state = StateStore(self.home)
        self.scheduler = TaskScheduler(self.now)
        self.ws: Workspace | None = None
        self.dispatch: Dispatcher | None = None
        self.waker = Waker()
        self.watcher: FileWatcher | None = None
        self._files = [self.home.config_path, self.home.tasks_path, self.home.schedules_path]
        self._stop = threading.Event()
        self._force = threading.Event()
        self._signature = signature(self._files)
        self._loaded: tuple[object, Workspace] | None = None
        """What :meth:`load` validated, and the files' signature before it did."""
        self._present: list[Path] = []
        self._tz: ZoneInfo | None = None
        self._once = False
        self._hup = threading.Event()
        self._jumps = JumpDetector()
        self._warmer = Warmer()
        self._keeper: subprocess.Popen[bytes] | None = None
        self._kept_day: date | None = None
        self._lead = timedelta(seconds=DISPATCH_LEAD_S if clock is None else 0.0)
        """Scheduled runs go to a worker this long before their instant (see .pool);
        none with an injected clock, whose time does not pass while a worker sleeps."""

    # -- public API ---------------------------------------------------------------------

    def now(self) -> datetime:
        """The current aware time (local to the configured zone)."""
        if self._clock is not None:
            return self._clock()
        return datetime.now(self._tz) if self._tz else datetime.now().astimezone()

    @property
    def workspace(self) -> Workspace:
        if self.ws is None:
            self._use(load_workspace(self.home))
        assert self.ws is not None
        return self.ws

    def setup(self) -> None:
        """Load the home and register every enabled task (first firing after now).

        Takes no lock and starts nothing: :meth:`run_forever` / :meth:`run_once` serve.
        """
        self._signature = signature(self._files)
        self._use(load_workspace(self.home))
        self.state.load()
        self._register_all(self.now())

    @property
    def pool(self) -> WorkerPool | None:
        return self.dispatch.pool if self.dispatch else None

    def stop(self) -> None:
        """Ask the daemon to stop (thread-safe)."""
        self._stop.set()
        self.waker.wake()

    def run_forever(self) -> int:
        """Serve until SIGINT/SIGTERM or :meth:`stop`; SIGHUP reloads. Returns the exit code (0)."""
        self._once = False
        return self._serve(once=False)

    def run_once(self) -> int:
        """Catch up, run what is due now, wait for it. Exit code 0, or 1 if a run failed."""
        self._once = True
        return self._serve(once=True)

    # -- serving ----------------------------------------------------------------------------

    def _serve(self, *, once: bool) -> int:
        # A worker woken at its run's instant waits for the interpreter while another
        # thread runs Python: at most this long (the default is 5 ms), so a run's start is
        # never held up for milliseconds behind another run's bookkeeping.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        lease = _lease(self.home, self._stop, self.stop)  # executor celery: fenced lease
        lock = DaemonLock(self.home)
        lock.acquire()
        pid = os.getpid()
        if self.waker.closed:
            self.waker = Waker()
        self.watcher = FileWatcher(self._files)
        # Signals are ours from the start: a SIGHUP or SIGTERM during start-up is handled
        # (a stop or a reload once serving), never the default kill.
        signals = StopSignals(self._on_signal, self._on_force, self._on_reload)
        signals.__enter__()
        try:
            info = DaemonInfo(
                pid=pid,
                started_at=datetime.now().astimezone(),
                mode="once" if once else "run",
                version=__version__,
            )
            _write_daemon_info(self.state, info)
            try:
                self._signature = signature(self._files)
                loaded, self._loaded = self._loaded, None
                fresh = loaded is not None and loaded[0] == self._signature
                self._use(loaded[1] if fresh and loaded is not None else self._load())
            except ConfigError:
                self.state.clear_daemon(pid)
                raise
            ws = self.workspace
            configure_logging(ws.config.log_level)
            _prewarm_llm(ws)
            self.state.load()
            dispatch = self.dispatch = Dispatcher(
                self.home,
                self.state,
                workspace=lambda: self.workspace,
                clock=self.now,
                wake=self.waker.wake,
                stopping=self._stop,
            )
            dispatch.recorder.guard = lease.check if lease is not None else None
            dispatch.recorder.recover(self.now())
            for task_id, due in recent_due_times(self.home).items():
                self.state.advance(task_id, due)
            self.state.start_writer()
            dispatch.pool.start()
            try:
                now = self.now()
                caught = dispatch.catch_up(now)
                self._register_all(now)
                self._warmer.run_due(now, wait=True)  # the types due within seconds
                info.ready_at = datetime.now().astimezone()
                _write_daemon_info(self.state, info)
                log.info(
                    "amgr %s: pid %s, %d tasks scheduled, %d catch-up runs%s",
                    "run --once" if once else "run",
                    pid,
                    len(self.scheduler.task_jobs()),
                    caught,
                    "" if once else f", next {self._next_text()}",
                )
                if once:
                    self._drain()
                else:
                    self._loop()
            finally:
                dispatch.shutdown(self.workspace.config.shutdown_grace_s, self._force)
                log.info("stopped")
            if not once:
                return 0
            unrecorded = dispatch.unrecorded()
            return 1 if dispatch.failures or unrecorded else 0
        finally:
            signals.__exit__(None, None, None)
            self._stop_keeper()
            self.state.stop_writer()
            self.state.clear_daemon(pid)
            self.watcher.close()
            self.waker.close()
            lock.release()
            if lease is not None:
                lease.release()

    def load(self, *, once: bool = False) -> Workspace:
        """The home's files validated now, as the daemon's start validates them (the CLI
        reads its metrics address from it). A start that follows uses this result if no
        file changed in between. :raises ConfigError: with every problem."""
        before = signature(self._files)
        ws = self._load(once=once)
        self._loaded = (before, ws)
        return ws

    def _load(self, *, once: bool | None = None) -> Workspace:
        """The files validated: by a child process when serving for good (the daemon then
        never imports pydantic; see :mod:`~automation_manager.config.apart`), here for
        ``--once``, which runs its tasks right away."""
        if self._once if once is None else once:
            return load_workspace(self.home)
        from ..config.apart import load_apart

        return load_apart(self.home)

    def _use(self, ws: Workspace) -> None:
        from ..config.lastgood import remember

        if self._prepare is not None:
            self._prepare(ws)
        tz = ZoneInfo(ws.timezone_name)
        self.ws, self._tz = ws, tz
        remember(ws, self.now())  # what read-only commands show while a file is broken
        # The files this configuration was read from: if one vanishes, keep this one.
        self._present = [path for path in self._files if path.exists()]

    def _fire(self, job: TaskJob) -> None:
        assert self.dispatch is not None, "the daemon is not serving"
        self.dispatch.fire(job)

    def _register_all(self, now: datetime) -> None:
        """Register every schedulable task afresh (ConfigError, no change, if one cannot be)."""
        specs = [spec for spec in self.workspace.tasks if schedulable(spec)]
        _raise_problems(specs, now)
        self.scheduler.clear()
        for spec in specs:
            self.scheduler.add(spec, now, self._fire)
        self._warmer.plan(self.scheduler.task_jobs().values())

    def _loop(self) -> None:
        assert self.watcher is not None and self.dispatch is not None
        reload_at: float | None = None
        next_poll = time.monotonic() + POLL_S
        self._jumps = JumpDetector()
        while not self._stop.is_set():
            now = self.now()
            self._follow_clock(now)
            self.scheduler.run_pending(now + self._lead)
            self._warmer.run_due(now)
            self.dispatch.run_due_retries()
            self._keep_indexes(now)
            if self._hup.is_set():
                self._hup.clear()
                self.reload_if_changed(force=True)
            mono = time.monotonic()
            if self.watcher.polling and mono >= next_poll:
                next_poll, reload_at = mono + POLL_S, mono
            if reload_at is not None and mono >= reload_at:
                reload_at = None
                self.reload_if_changed()
            timeout = self._until_next(self.now())
            if reload_at is not None:
                timeout = min(timeout, reload_at - time.monotonic())
            if self.watcher.polling:
                timeout = min(timeout, next_poll - time.monotonic())
            ready = self.waker.wait(timeout, self.watcher.fileno())
            fd = self.watcher.fileno()
            if fd is not None and fd in ready and self.watcher.drain():
                reload_at = time.monotonic() + RELOAD_DEBOUNCE_S

    def _keep_indexes(self, now: datetime) -> None:
        """At start-up, and once a day :data:`KEEP_AFTER_MIDNIGHT` after midnight, start
        the keeper of the closed days' history indexes when one lacks a current one (see
        :mod:`~automation_manager.logs.kept`: a niced child process, so neither this
        process's memory nor its timing pays for the building)."""
        if self._keeper is not None:
            if self._keeper.poll() is None:
                return  # still at it: looked at again next turn
            self._keeper = None
        day = (now - KEEP_AFTER_MIDNIGHT).date()
        if day == self._kept_day:
            return
        self._kept_day = day
        from ..logs.kept import stale_days, start_keeper

        before = now.date()
        try:
            if stale_days(self.home, before):
                self._keeper = start_keeper(self.home.root, before)
        except OSError as exc:  # a cache: history builds what is missing itself
            log.warning("could not start indexing the run log: %s", exc)

    def _stop_keeper(self) -> None:
        keeper, self._keeper = self._keeper, None
        if keeper is not None and keeper.poll() is None:
            import subprocess

            keeper.terminate()  # its index files are written whole or not at all
            try:
                keeper.wait(5)
            except subprocess.TimeoutExpired:
                keeper.kill()
                keeper.wait()

    def _drain(self) -> None:
        assert self.dispatch is not None
        while not self._stop.is_set():
            self.dispatch.run_due_retries()
            if self.dispatch.idle():
                return
            self.waker.wait(self._until_next(self.now(), schedule=False))

    def _until_next(self, now: datetime, *, schedule: bool = True) -> float:
        candidates = [MAX_SLEEP_S]
        nxt = self.scheduler.next_fire_at() if schedule else None
        if nxt is not None:
            candidates.append((nxt - now - self._lead).total_seconds())
        retry = self.dispatch.next_in() if self.dispatch else None
        if retry is not None:
            candidates.append(retry)
        warm = self._warmer.next_at() if schedule else None
        if warm is not None:
            candidates.append((warm - now).total_seconds())
        return max(min(candidates), 0.0)

    def _on_signal(self, name: str) -> None:
        log.info("received %s: stopping", name)
        self.stop()

    def _on_force(self, name: str) -> None:
        running = len(self.pool.running()) if self.pool is not None else 0
        log.log(logging.WARNING if running else logging.INFO, "%s", forced_stop(name, running))
        self._force.set()
        self.stop()

    def _on_reload(self, name: str) -> None:
        if self._once:
            log.info("received %s: ignored (run --once does not reload)", name)
            return
        log.info("received %s: reloading the configuration", name)
        self._hup.set()
        self.waker.wake()

    def _follow_clock(self, now: datetime) -> None:
        """Re-plan interval tasks after a backward wall-clock jump; log any jump."""
        jump = self._jumps.observe(now, time.monotonic())
        if jump:
            moved = self.scheduler.follow_clock_back(jump) if jump < timedelta(0) else []
            log.warning("%s", clock_jump(jump, len(moved)))

    # -- reloading ------------------------------------------------------------------------

    def reload_if_changed(self, *, force: bool = False) -> bool:
        """Re-read the three files if they changed (always with ``force``: SIGHUP).

        Never raises: a reload that fails for any reason (a bad edit, an unreadable or
        missing file, a value that only fails once planned, a bug in amgr) is logged and
        the last good configuration keeps running. A file the running configuration was
        read from that is now missing (an editor that deletes and recreates, a ``mv``) is
        not read as "no tasks": nothing changes, saved due times included, until it is
        back. Returns whether a new configuration was applied.
        """
        current = signature(self._files)
        if current == self._signature and not force:
            return False
        self._signature = current
        previous, applying = self.ws, False
        try:
            if self.watcher is not None:
                self.watcher.refresh()  # a link may point elsewhere now
            gone = [path for path in self._present if not path.exists()]
            for path in gone:
                log.warning("%s missing: keeping the last good configuration", path.name)
            if gone:
                return False
            ws = self._load()
            applying = True
            self.apply(ws, self.now())
            return True
        except Exception as exc:
            log.error(
                "reload failed; still running the last good configuration:\n%s", reload_failure(exc)
            )
            log.debug("reload failure", exc_info=True)
            # apply's ConfigError comes before any change; anything else may have come
            # halfway through: register the last good configuration again.
            if applying and previous is not None and not isinstance(exc, ConfigError):
                try:
                    self._use(previous)
                    self._register_all(self.now())
                except Exception:
                    log.exception("could not register the last good configuration again")
            return False

    def apply(self, ws: Workspace, now: datetime) -> tuple[int, int, int]:
        """Switch to a new configuration: re-register changed schedules, drop removed tasks.

        A new (or newly enabled) task starts fresh: its first firing is its first due
        time after ``now``. Every new schedule is planned once before anything changes,
        so one that cannot be (an interval past the year 9999) fails here, not later in
        the loop. Returns (added, changed, removed).

        :raises ConfigError: when a schedule cannot be planned (nothing was changed).
        """
        ZoneInfo(ws.timezone_name)  # an unknown zone fails before anything changes
        wanted = [s for s in ws.tasks if schedulable(s)]
        _raise_problems(
            [
                s
                for s in wanted
                if (job := self.scheduler.job(s.id)) is None or job.schedule != s.schedule
            ],
            now,
        )
        synced = self.scheduler.sync(wanted, now, self._fire)
        self._warmer.plan(self.scheduler.task_jobs().values())
        self.state.forget(synced.removed | {s.id for s in ws.tasks if not s.enabled})
        for task_id in synced.fresh:
            self.state.advance(task_id, now)  # starts fresh: nothing before now is owed
        self._use(ws)
        if self.dispatch is not None:
            self.dispatch.pool.resize(ws.config.executor.slots(ws.config.max_concurrent_tasks))
        configure_logging(ws.config.log_level)
        log.info(
            "reloaded: %d tasks scheduled (%d added, %d changed, %d removed)%s",
            len(wanted),
            len(synced.added),
            len(synced.changed),
            len(synced.removed),
            f", next {self._next_text()}" if wanted else "",
        )
        self.waker.wake()
        return len(synced.added), len(synced.changed), len(synced.removed)

    def _next_text(self) -> str:
        jobs = self.scheduler.task_jobs().values()
        if not jobs:
            return "nothing"
        first = min(jobs, key=lambda j: j.fire_at)
        return f"{first.task_id} at {short_time(first.fire_at, self.now())}"


def _raise_problems(specs: list[TaskSpec], now: datetime) -> None:
    """Plan ``specs`` once (:func:`~.planning.plan_problems`); ConfigError if one cannot be."""
    problems = plan_problems(specs, now)
    if problems:
        raise ConfigError(problems)


def _prewarm_llm(ws: Workspace) -> None:
    """Import ``openai`` on a side thread at start, so the first runs do not wait on it."""
    from ..llm import prewarm

    def warm() -> None:
        try:
            prewarm(ws.config.llm)
        except Exception as exc:  # a provider problem shows up in the runs themselves
            log.debug("LLM prewarm failed: %s", exc)

    threading.Thread(target=warm, name="amgr-llm-prewarm", daemon=True).start()


def _write_daemon_info(state: StateStore, info: DaemonInfo) -> None:
    """Say who holds the home; a full disk is logged, not fatal (the lock still holds)."""
    try:
        state.write_daemon(info)
    except (OSError, AmgrError) as exc:
        log.error(
            "cannot write %s (%s): the disk under %s may be full; running anyway",
            state.daemon_path,
            getattr(exc, "strerror", None) or exc,
            state.root,
        )


def _lease(home: Home, stopping: threading.Event, on_lost: Callable[[], object]) -> Lease | None:
    """The distributed scheduler lease (None with the local executor); waits as a standby."""
    from ..distributed.lease import standby  # imports no celery, no redis for "local"

    return standby(home, stopping, on_lost)
