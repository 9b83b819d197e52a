"""Open incidents, remembered durably so that each one sends one message, not one per run.

The state lives in ``.mp/state/incidents.json`` (written atomically, mode 0600) and is
changed only under ``.mp/locks/incidents.lock``, so the daemon's workers and a concurrent
``amgr exec-now`` agree on what is already open. Only open incidents are kept: closing one
removes it. Kinds that never see a recovery (an interruption, a day's budget) are dropped
after :data:`ONE_SHOT_RETENTION`, when their key can no longer recur.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from filelock import FileLock
from pydantic import BaseModel, Field, ValidationError

from ..fsutil import atomic_write_json, ensure_dir
from ..home import Home
from ..secrets import REGISTRY

log = logging.getLogger(__name__)

T = TypeVar("T")

INCIDENTS_FILE = "incidents.json"
LOCK_FILE = "incidents.lock"
LOCK_TIMEOUT_S = 10.0
ONE_SHOT_RETENTION = timedelta(days=30)
"""How long an ``interrupted`` or ``budget`` incident is remembered (they never recover)."""

_thread_lock = threading.Lock()


class IncidentKind(StrEnum):
    """What went wrong. The value is the webhook's ``event`` and is stored in the state."""

    TASK_FAILED = "task_failed"
    INTERRUPTED = "interrupted"
    BUDGET = "budget"
    CREDENTIALS = "credentials"
    BROKER = "broker"


ONE_SHOT_KINDS = frozenset({IncidentKind.INTERRUPTED, IncidentKind.BUDGET})


def task_key(task_id: str) -> str:
    """Key of "this task fails after its retries"; closed by the task's next success."""
    return f"task:{task_id}"


def interrupted_key(record_id: str) -> str:
    """Key of "this run was interrupted" (one per interrupted record)."""
    return f"interrupted:{record_id}"


def budget_key(day: date) -> str:
    """Key of "the daily model budget is reached" for one local day."""
    return f"budget:{day.isoformat()}"


def platform_key(name: str) -> str:
    """Key of "this platform's credentials fail"; closed when a check passes again."""
    return f"platform:{name}"


class Incident(BaseModel):
    """One open incident.

    :param undelivered: channels whose opening message failed; a repeat of the incident
        retries them, so a mail server that was down once does not hide the incident.
    :param sending: channels with a send in flight. A repeat leaves them alone; after a
        crash mid-send they stay here and are not retried, since the message may have
        gone out (a missing message is better than a duplicate one).
    """

    kind: IncidentKind
    subject: str
    opened_at: datetime
    last_seen: datetime
    occurrences: int = 1
    message_id: str
    delivery_id: str
    undelivered: list[str] = Field(default_factory=list)
    sending: list[str] = Field(default_factory=list)


class IncidentsFile(BaseModel):
    """``.mp/state/incidents.json``."""

    version: int = 1
    open: dict[str, Incident] = Field(default_factory=dict)


class IncidentStore:
    """Reads and changes the open incidents of one home, one locked transaction at a time."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self.path = home.state_dir / INCIDENTS_FILE

    def load(self) -> IncidentsFile:
        """The current state; an unreadable file is reported and read as empty."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return IncidentsFile()
        try:
            return IncidentsFile.model_validate(json.loads(raw))
        except (ValueError, ValidationError) as exc:
            log.warning(
                "%s is unreadable (%s); starting with no open incidents",
                self.path,
                type(exc).__name__,
            )
            return IncidentsFile()

    def open_incidents(self) -> dict[str, Incident]:
        """Every open incident by key (a snapshot, for ``status`` and tests)."""
        return dict(self.load().open)

    def update(self, change: Callable[[IncidentsFile], T], now: datetime) -> T:
        """Apply ``change`` to the state under the lock and save it if it changed.

        Expired one-shot incidents are pruned first. Returns what ``change`` returns.
        """
        with self._locked():
            state = self.load()
            before = state.model_dump(mode="json")
            prune(state, now)
            result = change(state)
            if state.model_dump(mode="json") != before:
                data = REGISTRY.scrub(state.model_dump(mode="json"))
                atomic_write_json(self.path, data, private=True)
            return result

    @contextmanager
    def _locked(self) -> Iterator[None]:
        ensure_dir(self.home.locks_dir)
        with _thread_lock, FileLock(str(self.home.locks_dir / LOCK_FILE), timeout=LOCK_TIMEOUT_S):
            yield


def prune(state: IncidentsFile, now: datetime) -> None:
    """Drop one-shot incidents older than :data:`ONE_SHOT_RETENTION` (pure, in place)."""
    for key, incident in list(state.open.items()):
        if incident.kind in ONE_SHOT_KINDS:
            try:
                expired = now - incident.last_seen > ONE_SHOT_RETENTION
            except TypeError:  # a naive and an aware time: keep it rather than guess
                expired = False
            if expired:
                del state.open[key]
