"""The publish ledger's pairs in Redis, when the executor is celery.

On one machine :class:`~automation_manager.publishers.ledger.Ledger` keeps its events in
``.mp/publish/ledger.jsonl`` and holds a pair under a file lock while it is sent. Workers
with homes of their own share neither, so distributed the ledger also keeps, per
(content item, platform) pair:

- ``NS:ledger:ev:PAIR``: the pair's events (the same JSON lines as the file), in order;
- ``NS:ledger:lock:PAIR``: the claim (``SET NX PX``, renewed while held, released only
  by its holder), so no two workers ever send the same pair at once;
- ``NS:ledger:posted:PLATFORM``: pair → when it counts as posted (for windows and
  daily limits).

The ledger folds its local events first and Redis' after them: Redis has every worker's
word, and a ``done`` stays final either way. A worker that dies holding a claim leaves
its ``intent`` as the pair's last word; its claim lapses after :data:`LOCK_MS`, and the
next claimer finds the pair *uncertain* — reconciled with the platform before anything
is resent, exactly as a crashed local publish is.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis

    from ..home import Home

log = logging.getLogger(__name__)

LOCK_MS = 30_000
"""A claim lapses this long after its holder stopped renewing it (died)."""
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


class RedisPairs:
    """The ledger's Redis side for one namespace. See the module docstring."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.ns = namespace
        self._release = client.register_script(RELEASE)
        self._renew = client.register_script(RENEW)

    def _events(self, key: str) -> str:
        return f"{self.ns}:ledger:ev:{key}"

    def _posted(self, platform: str) -> str:
        return f"{self.ns}:ledger:posted:{platform}"

    def events(self, key: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for raw in self.client.lrange(self._events(key), 0, -1):
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            if isinstance(event, dict):
                out.append(event)
        return out

    def append(self, key: str, line: str) -> None:
        self.client.rpush(self._events(key), line)

    def set_posted(self, platform: str, key: str, when: str | None) -> None:
        if when is None:
            self.client.hdel(self._posted(platform), key)
        else:
            self.client.hset(self._posted(platform), key, when)

    def posted(self, platform: str) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.client.hgetall(self._posted(platform)).items()}

    @contextmanager
    def hold(self, key: str, timeout: float) -> Iterator[None]:
        """Hold the pair's claim (waiting up to ``timeout`` s), renewed while held.

        :raises filelock.Timeout: another worker held it all that time (as the file
            lock says it).
        """
        from filelock import Timeout

        lock = f"{self.ns}:ledger:lock:{key}"
        me = f"{socket.gethostname()}|{os.getpid()}|{secrets.token_hex(4)}"
        deadline = time.monotonic() + timeout
        while not self.client.set(lock, me, nx=True, px=LOCK_MS):
            if time.monotonic() >= deadline:
                raise Timeout(lock)
            time.sleep(0.05)
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(LOCK_MS / 3000):
                try:
                    if not self._renew(keys=[lock], args=[me, LOCK_MS]):
                        log.error("publish claim %s was lost while held", key)
                        return
                except Exception as exc:
                    log.warning("publish claim %s: cannot renew (%s)", key, exc)

        thread = threading.Thread(target=renew, name="amgr-pair-claim", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(5)
            try:
                self._release(keys=[lock], args=[me])
            except Exception as exc:
                log.warning("publish claim %s: could not release (%s); it lapses", key, exc)


def pairs_for_home(home: Home) -> RedisPairs | None:
    """The Redis pairs of ``home`` when its config.json asks for celery, else None."""
    from .settings import for_namespace

    return for_namespace(home, None, RedisPairs)
