"""One scheduler per home across machines: a fenced Redis lease.

- Taking it: :data:`TAKE` sets ``NS:leader`` with ``NX PX lease`` and, in the same
  script, increments ``NS:fence``: each leader gets a larger fencing token.
- Keeping it: :data:`RENEW` extends it only while it still names us, every third of the
  lease. A leader that cannot renew in time (it was stopped, lost the broker) has lost
  it: its daemon stops.
- Fencing: before every record the recorder calls :meth:`Lease.check` (:data:`FENCED`):
  a write is refused unless our token is still the newest, so a stale leader that wakes
  up late (SIGSTOP, a long pause) never writes after its successor took over.
- A second ``amgr run`` waits as a hot standby, trying every second; it takes over at
  most ``lease_s`` after the leader died.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import AmgrError, LeaseLostError
from .settings import Keys, broker_url, redis_client, shown_url

if TYPE_CHECKING:
    import redis

    from ..config import Config
    from ..home import Home

log = logging.getLogger("amgr.daemon")

TAKE = """
if redis.call('exists', KEYS[1]) == 1 then return 0 end
local token = redis.call('incr', KEYS[2])
redis.call('set', KEYS[1], ARGV[1] .. '#' .. token, 'PX', ARGV[2])
return token
"""
"""KEYS: leader, fence; ARGV: holder, lease ms. Returns the new token, or 0."""
RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
if redis.call('exists', KEYS[1]) == 0 and redis.call('get', KEYS[2]) == ARGV[3] then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
"""KEYS: leader, fence; ARGV: our value, lease ms, our token. Extends our lease; retakes
it if it ran out while Redis was away and no one took a newer token meanwhile."""
FENCED = """
local newest = tonumber(redis.call('get', KEYS[2]) or '0')
if newest ~= tonumber(ARGV[2]) then return 0 end
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
return 1
"""
"""KEYS: leader, fence; ARGV: our value, our token. 1 when we may still write."""
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
STANDBY_POLL_S = 1.0


class Lease:
    """The home's scheduler lease in Redis. See the module docstring.

    :param on_lost: called (from the renewal thread) when the lease is lost.
    """

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        lease_s: float,
        *,
        on_lost: Callable[[], object] = lambda: None,
    ) -> None:
        self._client = client
        self._keys = keys
        self._lease_ms = int(lease_s * 1000)
        self._holder = f"{socket.gethostname()}|{os.getpid()}"
        self._on_lost = on_lost
        self.token = 0
        self._value = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False
        self.unconfirmed = False
        """The last renewal did not reach Redis."""

    def try_take(self) -> bool:
        token = int(
            self._client.eval(
                TAKE, 2, self._keys.leader(), self._keys.fence(), self._holder, self._lease_ms
            )
        )
        if not token:
            return False
        self.token, self._value = token, f"{self._holder}#{token}"
        return True

    def holder(self) -> str | None:
        value = self._client.get(self._keys.leader())
        return str(value) if value is not None else None

    def wait(self, stopping: threading.Event) -> bool:
        """Take the lease, waiting as a standby; False if ``stopping`` was set first."""
        said = False
        while not stopping.is_set():
            try:
                if self.try_take():
                    log.info("scheduler lease taken (fencing token %d)", self.token)
                    self._start_renewing()
                    return True
                if not said:
                    log.warning(
                        "standby: the scheduler lease is held by %s; taking over when it "
                        "stops renewing it",
                        self.holder(),
                    )
                    said = True
            except Exception as exc:
                log.warning("standby: broker unreachable (%s)", exc)
            stopping.wait(STANDBY_POLL_S)
        return False

    def _start_renewing(self) -> None:
        self._thread = threading.Thread(target=self._renew_loop, name="amgr-lease", daemon=True)
        self._thread.start()

    def _renew_loop(self) -> None:
        every = self._lease_ms / 3000
        while not self._stop.wait(every):
            try:
                kept = int(
                    self._client.eval(
                        RENEW,
                        2,
                        self._keys.leader(),
                        self._keys.fence(),
                        self._value,
                        self._lease_ms,
                        self.token,
                    )
                )
            except Exception as exc:
                # Redis is away: no one can take the lease from it either. Keep leading
                # (scheduling goes on); the next renewal that reaches it decides.
                if not self.unconfirmed:
                    log.warning("lease: cannot renew (%s); leading on until Redis answers", exc)
                self.unconfirmed = True
                continue
            if kept:
                if self.unconfirmed:
                    log.warning("lease: renewed again (token %d)", self.token)
                self.unconfirmed = False
                continue
            self.lost = True
            log.error("scheduler lease lost (token %d): this scheduler stops", self.token)
            self._on_lost()
            return

    def check(self) -> None:
        """Raise :class:`LeaseLostError` unless this process is still the newest leader."""
        if self.lost:
            raise LeaseLostError(f"this scheduler lost its lease (token {self.token})")
        try:
            ok = int(
                self._client.eval(
                    FENCED, 2, self._keys.leader(), self._keys.fence(), self._value, self.token
                )
            )
        except Exception as exc:
            # Redis is away: nobody can have taken a newer token from it; the record is
            # written (the broker-down promise: scheduling and recording go on).
            log.debug("lease: cannot check the fencing token now (%s)", exc)
            return
        if not ok:
            self.lost = True
            raise LeaseLostError(
                f"a newer scheduler holds the lease (fencing token {self.token} is stale)"
            )

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._value and not self.lost:
            try:
                self._client.eval(RELEASE, 1, self._keys.leader(), self._value)
            except Exception as exc:
                log.warning("lease: could not release (%s); it expires by itself", exc)


def lease_for(config: Config, on_lost: Callable[[], object]) -> Lease | None:
    """The lease a scheduler of this configuration takes (None: local executor)."""
    ex = config.executor
    if not ex.distributed:
        return None
    url = broker_url(config)
    log.info("executor celery on %s", shown_url(url))
    return Lease(redis_client(url), Keys(ex.namespace), ex.lease_s, on_lost=on_lost)


def standby(home: Home, stopping: threading.Event, on_lost: Callable[[], object]) -> Lease | None:
    """For ``amgr run`` with executor celery: wait as a hot standby until this process
    holds the home's lease (None: the executor is local, or the files do not load — the
    daemon's own load reports that)."""
    from ..config import load_workspace
    from ..errors import ConfigError

    if not _wants_celery(home):
        return None  # the local executor: the file lock alone (no second load of the home)
    try:
        config = load_workspace(home).config
    except ConfigError:
        return None
    lease = lease_for(config, on_lost)
    if lease is None:
        return None
    from ..engine.console import configure_logging

    configure_logging(config.log_level)  # the standby's lines look like the daemon's
    if not lease.wait(stopping):
        return None
    return lease


def _wants_celery(home: Home) -> bool:
    """Whether config.json asks for the celery executor (parsed within the usual bounds;
    any problem is the daemon's own load to report)."""
    from ..config.jsonsafe import parse_json

    try:
        data = parse_json(home.config_path.read_text(encoding="utf-8"), "config.json")
    except (OSError, ValueError, AmgrError):
        return False
    executor = data.get("executor") if isinstance(data, dict) else None
    return isinstance(executor, dict) and executor.get("kind") == "celery"
