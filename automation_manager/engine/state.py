"""The daemon's durable state under ``.mp/state/``, every file written atomically.

- ``daemon.json``: the pid and start time of the daemon holding this home.
- ``schedule.json``: per task id, ``last_due``: the instant up to which the task's due
  times were run or decided. A restart catches up only due times after it.
- ``inflight/<record id>.json``: one file per run in progress, written before the run
  starts and removed after its record is appended. A file left behind names a run the
  last daemon never finished: the next start records it once as ``interrupted``.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from ..enums import Trigger
from ..errors import AmgrError
from ..fsutil import atomic_write_json, atomic_write_text, ensure_dir, storage_error, write_all
from ..home import Home
from ..logs.records import dump_json

log = logging.getLogger("amgr.daemon")
_T = TypeVar("_T")

STATE_VERSION = 1
WRITE_EVERY_S = 0.5
"""The background writer writes ``schedule.json`` at most this often. A crash inside the
window loses nothing: the next start also reads due times back from the run log's tail
(:func:`~.recovery.recent_due_times`) and from in-flight files."""


@dataclass(kw_only=True)
class DaemonInfo:
    """Who holds the home: written right after the daemon lock is taken."""

    pid: int
    started_at: datetime
    mode: str = "run"
    version: str = ""
    ready_at: datetime | None = None
    """When start-up (recovery, catch-up, registration) was done."""


@dataclass(kw_only=True)
class InflightRun:
    """A run that started and has no record yet. Its params are already redacted."""

    record_id: str
    pid: int
    task_id: str
    category: str
    type: str
    trigger: Trigger
    attempt: int = 1
    scheduled_for: datetime | None = None
    started_at: datetime
    timeout_s: float | None = None
    params: dict[str, Any] = field(default_factory=dict)
    token: str | None = None
    """The writer's process identity (:func:`~automation_manager.procs.own_token`)."""
    owner: str = "daemon"
    """``daemon`` or ``exec-now``: who said it started (named in its interrupted record)."""


class StateStore:
    """Reads and writes one home's daemon state. Thread-safe.

    ``last_due`` changes are kept in memory and written by :meth:`flush` (the daemon
    calls it from a background writer, so a firing never waits for a disk write).
    """

    def __init__(self, home: Home) -> None:
        self.home = home
        self.root = home.state_dir
        self.daemon_path = self.root / "daemon.json"
        self.schedule_path = self.root / "schedule.json"
        self.inflight_dir = self.root / "inflight"
        self._lock = threading.Lock()
        self._last_due: dict[str, datetime] = {}
        self._dirty = False
        self._write_failing = False
        self._changed = threading.Condition(self._lock)
        self._writer: threading.Thread | None = None
        self._stopping = False
        self._stop_event = threading.Event()
        self._inflight_ready = False
        self._sync_queue: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._syncer: threading.Thread | None = None

    # -- daemon.json ----------------------------------------------------------------------

    def read_daemon(self) -> DaemonInfo | None:
        """The last daemon's info, or None when there is none (or it is unreadable)."""
        try:
            return _read(self.daemon_path.read_bytes(), DaemonInfo)
        except (OSError, msgspec.DecodeError):
            return None

    def write_daemon(self, info: DaemonInfo) -> None:
        atomic_write_json(self.daemon_path, msgspec.to_builtins(info), private=True)

    def clear_daemon(self, pid: int) -> None:
        """Remove daemon.json if it still names ``pid``."""
        info = self.read_daemon()
        if info is not None and info.pid == pid:
            self.daemon_path.unlink(missing_ok=True)

    # -- last due times ---------------------------------------------------------------

    def load(self) -> dict[str, datetime]:
        """Read ``schedule.json`` into memory (an unreadable file is logged, taken as empty)."""
        data: dict[str, datetime] = {}
        try:
            raw = json.loads(self.schedule_path.read_text(encoding="utf-8"))
            for task_id, entry in (raw.get("tasks") or {}).items():
                value = entry.get("last_due") if isinstance(entry, dict) else None
                if isinstance(value, str):
                    parsed = datetime.fromisoformat(value)
                    if parsed.tzinfo is not None:
                        data[str(task_id)] = parsed
        except FileNotFoundError:
            pass
        except (OSError, ValueError, AttributeError) as exc:
            log.warning(
                "state: %s is unreadable (%s); starting without saved due times",
                self.schedule_path,
                exc,
            )
        with self._lock:
            self._last_due = data
            self._dirty = False
        return dict(data)

    def last_due(self, task_id: str) -> datetime | None:
        with self._lock:
            return self._last_due.get(task_id)

    def all_last_due(self) -> dict[str, datetime]:
        with self._lock:
            return dict(self._last_due)

    def advance(self, task_id: str, when: datetime) -> None:
        """Move the task's ``last_due`` forward to ``when`` (never backward)."""
        with self._lock:
            current = self._last_due.get(task_id)
            if current is None or when > current:
                self._last_due[task_id] = when
                self._dirty = True
                self._changed.notify()

    def forget(self, task_ids: set[str]) -> None:
        """Drop saved due times (a removed or disabled task starts fresh if it returns)."""
        with self._lock:
            for task_id in task_ids:
                if self._last_due.pop(task_id, None) is not None:
                    self._dirty = True
            if self._dirty:
                self._changed.notify()

    def flush(self) -> None:
        """Write ``schedule.json`` now if anything changed."""
        with self._lock:
            if not self._dirty:
                return
            snapshot = {k: {"last_due": v.isoformat()} for k, v in sorted(self._last_due.items())}
            self._dirty = False
        try:
            text = json.dumps({"version": STATE_VERSION, "tasks": snapshot}, indent=1)
            atomic_write_text(self.schedule_path, text + "\n")
        except (OSError, AmgrError) as exc:
            with self._lock:
                self._dirty = True
                first, self._write_failing = not self._write_failing, True
            if first:  # once, not at every change while the disk stays full
                log.error("state: cannot write %s: %s", self.schedule_path, exc)
        else:
            if self._write_failing:
                self._write_failing = False
                log.info("state: %s is written again", self.schedule_path)

    def start_writer(self) -> None:
        """Write changes in the background, as soon as they happen (coalesced)."""
        if self._writer is not None:
            return
        self._stopping = False
        self._stop_event.clear()
        self._writer = threading.Thread(target=self._write_loop, name="amgr-state", daemon=True)
        self._writer.start()
        self._syncer = threading.Thread(target=self._sync_loop, name="amgr-sync", daemon=True)
        self._syncer.start()

    def stop_writer(self) -> None:
        """Stop the background writer and flush what is left."""
        with self._lock:
            self._stopping = True
            self._stop_event.set()
            self._changed.notify()
        if self._writer is not None:
            self._writer.join(timeout=5)
            self._writer = None
        if self._syncer is not None:
            self._sync_queue.put(None)
            self._syncer.join(timeout=5)
            self._syncer = None
        self.flush()

    def _sync_loop(self) -> None:
        while (fd := self._sync_queue.get()) is not None:
            _datasync_and_close(fd)

    def _write_loop(self) -> None:
        while True:
            with self._lock:
                while not self._dirty and not self._stopping:
                    self._changed.wait()
                if self._stopping:
                    return
            self.flush()
            if self._stop_event.wait(WRITE_EVERY_S):
                return

    # -- runs in flight -----------------------------------------------------------------

    def inflight_path(self, record_id: str) -> Path:
        return self.inflight_dir / f"{record_id}.json"

    def add_inflight(self, run: InflightRun) -> None:
        """Note that ``run`` starts, before it does.

        The name is new (the record id), so no temp-and-rename is needed: one small
        ``write``, which a killed process cannot undo. While the background writer runs,
        the ``fdatasync`` that makes it survive a power cut too is done on that thread,
        a moment after the run starts, instead of between the due instant and the
        start. A file torn by a power cut is reported and dropped at the next start
        (:meth:`inflight`).
        """
        if not self._inflight_ready:
            ensure_dir(self.inflight_dir)
            self._inflight_ready = True
        data = dump_json(run)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        path = self.inflight_path(run.record_id)
        try:
            fd = os.open(path, flags, 0o600)
        except OSError as exc:
            raise storage_error("write the in-flight note", path, exc) from None
        try:
            write_all(fd, data)
        except OSError as exc:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise storage_error("write the in-flight note", path, exc) from None
        except BaseException:
            os.close(fd)
            raise
        if self._syncer is not None:
            self._sync_queue.put(fd)
        else:
            _datasync_and_close(fd)

    def remove_inflight(self, record_id: str) -> None:
        """Forget a run whose record is appended (a lost unlink is harmless: the next
        start finds the record by id and records nothing twice)."""
        self.inflight_path(record_id).unlink(missing_ok=True)

    def inflight(self) -> list[InflightRun]:
        """Every run noted in flight, oldest first; an unreadable file is logged and skipped."""
        runs: list[InflightRun] = []
        try:
            names = sorted(os.listdir(self.inflight_dir))
        except FileNotFoundError:
            return runs
        for name in names:
            if not name.endswith(".json") or name.startswith("."):
                continue
            path = self.inflight_dir / name
            try:
                runs.append(_read(path.read_bytes(), InflightRun))
            except FileNotFoundError:
                continue
            except (OSError, msgspec.DecodeError) as exc:
                log.warning("state: dropping unreadable in-flight file %s (%s)", path, exc)
                path.unlink(missing_ok=True)
        runs.sort(key=lambda r: r.started_at)
        return runs


def _read(data: bytes, kind: type[_T]) -> _T:
    """``data`` (JSON) as a ``kind``: ISO strings become datetimes, strings enums and
    numbers (pydantic's coercions); unknown keys are ignored.

    :raises msgspec.DecodeError: no JSON, or (its ``ValidationError``) not a ``kind``.
    """
    return msgspec.json.decode(data, type=kind, strict=False)


def _datasync_and_close(fd: int) -> None:
    try:
        getattr(os, "fdatasync", os.fsync)(fd)
    except OSError as exc:
        log.error("state: cannot sync an in-flight note: %s", exc)
    finally:
        os.close(fd)
