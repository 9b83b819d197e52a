"""The Recorder: the one writer of the run log.

Every record — a run's own, a timeout's, an interruption's, a skip's, a record made by
the library's ``log_task_result`` — goes through :meth:`Recorder.write`, which

1. masks secrets (key names in ``params``/``result``, every registered secret value),
2. appends the line to its day file and fsyncs it,
3. settles the run's reservation in the admission state,
4. removes the run's in-flight note, and
5. hands the record to the notifier.

A record that cannot be appended (disk full, I/O error) is never torn and never lost:
the line is rolled back, the record waits in memory, the run's in-flight note and
reservation stay, and :meth:`flush_waiting` writes it as soon as the disk allows. If the
process dies first, the note makes the next start record the run as ``interrupted``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from ..enums import Trigger
from ..errors import AmgrError
from ..logs.records import RunRecord, redact
from ..logs.writer import append_record
from ..procs import is_alive, own_token
from ..secrets import REGISTRY
from .admission import Admission
from .outcomes import interrupted_record
from .state import InflightRun, StateStore

if TYPE_CHECKING:
    from ..home import Home

log = logging.getLogger("amgr.daemon")

Notify = Callable[[RunRecord, bool], object]
"""``notify(record, final)``: ``final`` is False when a retry follows the record."""
RECOVER_LOCK = "recover.lock"
RECOVER_WAIT_S = 60.0
"""How long a start waits for another process that is recording dead runs."""
MAX_WAITING = 100_000
"""Records kept in memory while the disk is full; older ones beyond this are left to
their in-flight notes (they are recorded ``interrupted`` at the next start)."""


class RecordNotWritten(AmgrError):
    """A record could not be appended (disk full or I/O error); it waits in memory."""


class Recorder:
    """Writes one home's run records; see the module docstring.

    :param state: where the in-flight notes are (the daemon's store, or a new one).
    :param admission: the admission state whose reservations records settle.
    :param secrets: the secret values to mask (asked at every write: they change on reload).
    :param notify: where finished records go for notifications (None: nowhere).
    :param clock: the current aware time.
    """

    def __init__(
        self,
        home: Home,
        *,
        state: StateStore,
        admission: Admission,
        secrets: Callable[[], tuple[str, ...]],
        clock: Callable[[], datetime],
        notify: Notify | None = None,
    ) -> None:
        self.home = home
        self.state = state
        self.admission = admission
        self._secrets = secrets
        self._clock = clock
        self._notify = notify
        self._lock = threading.Lock()
        self._waiting: list[tuple[RunRecord, bool]] = []
        self._full_since: datetime | None = None
        self._settle_failing = False
        self._recovering = threading.Lock()
        self._flushing = threading.Lock()
        self.last_error = ""
        """Why the last record that could not be written was refused."""
        self.guard: Callable[[], object] | None = None
        """Called before every append; raises (``LeaseLostError``) when this process may no
        longer write the home's log (a distributed scheduler that lost its lease)."""
        self._recorded: dict[str, None] = {}  # ids written by this recorder, oldest first

    # -- in-flight notes ------------------------------------------------------------------

    def begin(self, note: InflightRun) -> None:
        """Write a run's in-flight note (its params masked) before the run starts."""
        note = replace(note, params=redact(note.params, self._secrets()), token=own_token())
        self.state.add_inflight(note)

    # -- records ------------------------------------------------------------------------

    @property
    def waiting(self) -> int:
        """Records not yet written because the disk refused them."""
        with self._lock:
            return len(self._waiting)

    def write(self, record: RunRecord, *, final: bool = True) -> bool:
        """Append ``record`` (masked), settle it, drop its note, notify.

        Returns False when the disk refused it: it waits (see :meth:`flush_waiting`).
        """
        record = self.masked(record)
        if record.id in self._recorded:  # idempotent by firing: one record per record id
            log.info("record %s of %s was already written; not again", record.id, record.task_id)
            return True
        if self.guard is not None:
            try:
                self.guard()
            except AmgrError as exc:
                self.last_error = str(exc)
                log.error("record %s of %s refused: %s", record.id, record.task_id, exc)
                return False
        if self.waiting:
            self.flush_waiting()
        try:
            append_record(self.home, record)
        except (OSError, AmgrError) as exc:
            self._wait(record, final, exc)
            return False
        self._written(record, final)
        return True

    def masked(self, record: RunRecord) -> RunRecord:
        """``record`` with secret-looking keys in ``params``/``result`` and every form of
        every registered secret, anywhere in it, replaced by ``***``."""
        secrets = self._secrets()  # registers the current configuration's secrets
        data = record.to_json()
        data["params"] = redact(data["params"], secrets)
        if data.get("result") is not None:
            data["result"] = redact(data["result"], secrets)
        return RunRecord.from_json(REGISTRY.scrub(data))

    def flush_waiting(self) -> int:
        """Write the records that wait for disk space, oldest first. Returns how many.

        One flush at a time (workers finishing together must not both write the head).
        """
        with self._flushing:
            return self._flush_waiting()

    def _flush_waiting(self) -> int:
        written = 0
        while True:
            with self._lock:
                if not self._waiting:
                    break
                record, final = self._waiting[0]
            try:
                append_record(self.home, record)
            except (OSError, AmgrError):
                break
            with self._lock:
                self._waiting.pop(0)
            self._written(record, final)
            written += 1
        if written:
            with self._lock:
                left, since = len(self._waiting), self._full_since
                if not left:
                    self._full_since = None
            log.warning(
                "disk space is back under %s: wrote %d waiting records%s",
                self.home.mp,
                written,
                f" ({left} still waiting)"
                if left
                else f" (full since {since:%H:%M:%S})"
                if since
                else "",
            )
        return written

    def _wait(self, record: RunRecord, final: bool, exc: Exception) -> None:
        self.last_error = str(exc)
        with self._lock:
            first = not self._waiting
            if len(self._waiting) < MAX_WAITING:
                self._waiting.append((record, final))
            count = len(self._waiting)
            if first:
                self._full_since = self._clock()
        full = getattr(exc, "disk_full", None)
        what = "cannot write records" if full is False else "disk full"
        if first:
            log.error(
                "%s under %s: %d records waiting (%s); amgr keeps running and writes them "
                "as soon as it can",
                what,
                self.home.mp,
                count,
                exc,
            )
        else:
            log.debug("%s under %s: %d records waiting", what, self.home.mp, count)

    def _written(self, record: RunRecord, final: bool) -> None:
        with self._lock:
            self._recorded[record.id] = None
            if len(self._recorded) > MAX_WAITING:
                del self._recorded[next(iter(self._recorded))]
        try:
            self.admission.settle(record, self._clock())
        except sqlite3.Error as exc:  # the log has it: the next catch-up counts it
            if not self._settle_failing:
                log.warning("state: cannot update %s now (%s)", self.home.state_dir, exc)
            self._settle_failing = True
        else:
            self._settle_failing = False
        self.state.remove_inflight(record.id)
        if self._notify is not None:
            try:
                self._notify(record, final)
            except Exception:  # a notification never costs a record
                log.exception("notify: could not hand over run %s", record.id)

    # -- runs that never finished ---------------------------------------------------------

    def recover(self, now: datetime) -> list[RunRecord]:
        """Record, once, every in-flight run whose process is gone, as ``interrupted``.

        Notes of live processes (a running daemon, another ``exec-now``) are left alone.
        Each recovered run's scheduled due time counts as run. Returns the records written.
        """
        from ..fsutil import try_flock

        # One recovering process at a time: a daemon and an exec-now that both find the
        # same dead run record it once between them.
        path = self.home.locks_dir / RECOVER_LOCK
        with self._recovering:
            fd = try_flock(path, RECOVER_WAIT_S)
            if fd is None:
                raise AmgrError(
                    f"cannot lock {path}: another amgr process has been recording dead runs "
                    f"for {RECOVER_WAIT_S:g} s — see `amgr status`, then start again"
                )
            try:
                return self._recover(now)
            finally:
                os.close(fd)  # releases the lock

    def _recover(self, now: datetime) -> list[RunRecord]:
        from .recovery import already_logged

        recorded: list[RunRecord] = []
        for run in self.state.inflight():
            if is_alive(run.pid, run.token):
                continue
            if run.scheduled_for is not None and run.trigger is not Trigger.RETRY:
                self.state.advance(run.task_id, run.scheduled_for)  # it ran (partly)
            if already_logged(self.home, run, now):
                self.state.remove_inflight(run.record_id)
                continue
            who = "amgr exec-now" if run.owner == "exec-now" else "the daemon"
            record = interrupted_record(
                run,
                now,
                run.pid,
                f"interrupted: {who} stopped (pid {run.pid}) before this run finished",
                usage=self.admission.spent_by(run.record_id),
            )
            if self.write(record):
                recorded.append(record)
                log.warning(
                    "%s interrupted: its run that started %s (pid %s) never finished; recorded it",
                    run.task_id,
                    run.started_at.isoformat(timespec="seconds"),
                    run.pid,
                )
        return recorded
