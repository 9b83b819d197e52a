"""The publish ledger: what was sent where, so nothing is ever sent twice.

``.mp/publish/ledger.jsonl`` is append-only, one flushed JSON line per event, keyed by
(content item, platform):

- ``intent``  written *before* a request leaves;
- ``part``    one piece of a multi-request publish finished (a thread's status, an
              uploaded image), so a resumed publish continues instead of repeating it;
- ``done``    the platform confirmed: remote id and URL;
- ``failed``  the request was refused or never left (``final``: do not retry);
- ``reset``   ``amgr content retry`` cleared a final failure for a fresh attempt.

A pair whose last word is an ``intent`` has an unknown outcome (timeout, crash after
the request left): it must be reconciled with the platform before anything is resent.
A ``done`` pair is never sent again, whatever follows it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from filelock import FileLock, Timeout

from ..fsutil import append_line, ensure_dir
from ..home import Home
from ..secrets import REGISTRY

if TYPE_CHECKING:
    from ..distributed.pairs import RedisPairs

log = logging.getLogger(__name__)

LEDGER_FILE = "ledger.jsonl"
_BUCKETS = 64
REMOTE: Callable[[Home], RedisPairs | None] | None = None
"""On a Celery worker: the ledger's Redis side (:mod:`automation_manager.distributed.pairs`);
elsewhere it is looked up from the home's config.json (executor celery)."""


class PairState(StrEnum):
    """Where one (item, platform) pair stands."""

    NEW = "new"
    """Never sent, or the last attempt certainly did not reach the platform."""
    UNCERTAIN = "uncertain"
    """A request may have reached the platform: reconcile before any resend."""
    DONE = "done"
    FAILED = "failed"
    """Refused for good; only ``amgr content retry`` (a ``reset``) opens it again."""


def pair_key(item_id: str, platform: str) -> str:
    """The ledger key of a pair (item ids and platform names never contain ``@``)."""
    return f"{item_id}@{platform}"


def stable_id(*parts: str) -> str:
    """A hex id that is the same for the same parts on every run and machine."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


@dataclass
class Pair:
    """Everything the ledger knows about one pair."""

    key: str
    state: PairState = PairState.NEW
    intent_at: datetime | None = None
    remote_id: str | None = None
    url: str | None = None
    status: str | None = None
    live_at: datetime | None = None
    """When a post scheduled on the platform itself goes live."""
    error: str | None = None
    done_at: datetime | None = None
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Finished pieces since the last reset: part name → {"remote_id", "url"}."""

    def apply(self, event: dict[str, Any]) -> None:
        """Fold one ledger event into the state (a ``done`` is final)."""
        kind = event.get("event")
        if self.state is PairState.DONE:
            return
        at = _parse_time(event.get("at"))
        if kind == "intent":
            self.state, self.intent_at, self.error = PairState.UNCERTAIN, at, None
        elif kind == "part":
            self.parts[str(event.get("part"))] = {
                "remote_id": event.get("remote_id"),
                "url": event.get("url"),
            }
        elif kind == "done":
            self.state, self.done_at = PairState.DONE, at
            self.remote_id, self.url = event.get("remote_id"), event.get("url")
            self.status = event.get("status") or "published"
            self.live_at = _parse_time(event.get("live_at"))
        elif kind == "failed":
            self.error = event.get("error")
            self.state = PairState.FAILED if event.get("final") else PairState.NEW
        elif kind == "reset":
            self.state, self.error, self.parts = PairState.NEW, None, {}

    @property
    def posted_at(self) -> datetime | None:
        """When the post counts as made, for windows: live time, else the send."""
        if self.state is PairState.DONE:
            return self.live_at or self.done_at
        if self.state is PairState.UNCERTAIN:
            return self.intent_at
        return None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


class Ledger:
    """Reads and appends ``.mp/publish/ledger.jsonl``; safe across threads and processes.

    Reading is incremental: :meth:`refresh` reads only what was appended since the last
    read, so checking a pair just before a send costs almost nothing.
    """

    def __init__(self, home: Home) -> None:
        self.home = home
        self.path = home.publish_dir / LEDGER_FILE
        self._pairs: dict[str, Pair] = {}
        self._offset = 0
        self._mutex = threading.Lock()
        self._remote = _remote_for(home)
        """Distributed (executor celery): every worker's events, and the claims, in Redis."""

    def refresh(self) -> None:
        """Fold in every complete line appended since the last read (torn lines wait)."""
        with self._mutex:
            try:
                with open(self.path, "rb") as fh:
                    fh.seek(self._offset)
                    data = fh.read()
            except FileNotFoundError:
                return
            end = data.rfind(b"\n") + 1
            for raw in data[:end].splitlines():
                try:
                    event = json.loads(raw)
                except ValueError:
                    continue  # a torn line from a crash
                if isinstance(event, dict) and isinstance(event.get("key"), str):
                    key = event["key"]
                    self._pairs.setdefault(key, Pair(key)).apply(event)
            self._offset += end

    def pair(self, item_id: str, platform: str) -> Pair:
        """The current state of a pair (re-reads new lines first)."""
        self.refresh()
        key = pair_key(item_id, platform)
        local = self._pairs.get(key) or Pair(key)
        if self._remote is None:
            return local
        merged = copy.deepcopy(local)  # local words first, every worker's after them
        for event in self._remote.events(key):
            merged.apply(event)
        return merged

    def posted_times(self, platform: str) -> list[datetime]:
        """Instants of every post made, being made or scheduled on ``platform``."""
        self.refresh()
        suffix = pair_key("", platform)
        times = {
            key: when
            for key, pair in self._pairs.items()
            if key.endswith(suffix) and (when := pair.posted_at) is not None
        }
        if self._remote is not None:
            try:
                posted = self._remote.posted(platform)
            except Exception as exc:  # a report while the broker is away: this home's word
                posted = {}
                log.warning("ledger: the broker is unreachable (%s); counting local posts", exc)
            for key, text in posted.items():
                if (when := _parse_time(text)) is not None:
                    times[key] = when
        return list(times.values())

    def record(self, event: str, item_id: str, platform: str, at: datetime, **data: Any) -> None:
        """Append one event and fsync before returning."""
        line = {
            "at": at.isoformat(),
            "event": event,
            "key": pair_key(item_id, platform),
            "item": item_id,
            "platform": platform,
            **{k: v for k, v in data.items() if v is not None},
        }
        text = json.dumps(REGISTRY.scrub(line), ensure_ascii=False, default=str)
        append_line(self.path, text, private=True)
        if self._remote is not None:
            key = pair_key(item_id, platform)
            self._remote.append(key, text)
            when = self.pair(item_id, platform).posted_at
            self._remote.set_posted(platform, key, when.isoformat() if when else None)

    @contextmanager
    def claim(self, item_id: str, platform: str, timeout: float = 300.0) -> Iterator[Pair]:
        """Hold the pair so no other run sends it meanwhile; yields its fresh state.

        Pairs share one of a fixed set of lock files (no file per pair piles up); two
        pairs in the same bucket simply take turns.

        :raises filelock.Timeout: when another run held it for ``timeout`` seconds.
        """
        key = pair_key(item_id, platform)
        if self._remote is not None:
            with self._remote.hold(key, timeout):
                yield self.pair(item_id, platform)
            return
        bucket = int(stable_id(key)[:8], 16) % _BUCKETS
        lock_dir = self.home.locks_dir / "publish"
        ensure_dir(lock_dir)
        with FileLock(str(lock_dir / f"pair-{bucket:02d}.lock"), timeout=timeout):
            yield self.pair(item_id, platform)


def _remote_for(home: Home) -> RedisPairs | None:
    if REMOTE is not None:
        return REMOTE(home)
    from ..distributed.pairs import pairs_for_home

    return pairs_for_home(home)


@contextmanager
def platform_slot(home: Home, platform: str, limit: int, timeout: float) -> Iterator[int]:
    """One of ``limit`` concurrent-send slots of ``platform`` (``max_concurrent``).

    Waits up to ``timeout`` seconds for a free slot across every thread and process.

    :raises filelock.Timeout: when every slot stayed busy.
    """
    lock_dir = home.locks_dir / "publish"
    ensure_dir(lock_dir)
    locks = [FileLock(str(lock_dir / f"{platform}.{n}.lock")) for n in range(limit)]
    waited = 0.0
    while True:
        for n, lock in enumerate(locks):
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue
            try:
                yield n
            finally:
                lock.release()
            return
        if waited >= timeout:
            raise Timeout(str(lock_dir / f"{platform}.*.lock"))
        threading.Event().wait(0.1)
        waited += 0.1
