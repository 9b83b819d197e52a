"""One daemon per home: an OS file lock on ``.mp/locks/daemon.lock``.

The lock is ``flock(2)`` on the file, taken directly (no lock library: the daemon's
start-up imports stay small): the kernel drops it when its process dies, however it
dies, so a stale lock from a killed daemon never blocks a start. The holder's pid is in
``.mp/state/daemon.json``.
"""

from __future__ import annotations

import fcntl
import os

from ..errors import LockHeldError
from ..fsutil import LOCK_BUSY, try_flock
from ..home import Home
from .state import StateStore

ACQUIRE_WAIT_S = 0.3
"""How long a start waits for the lock: long enough to ride out a momentary probe by
``amgr status``, far shorter than any real daemon holds it."""


class DaemonLock:
    """The daemon lock of one home. Use as a context manager or acquire/release."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock (a no-op while this object holds it).

        :raises LockHeldError: another live process holds it (exit code 3), naming its pid.
        :raises StorageError: the lock file cannot be opened, or the filesystem has no locks.
        """
        if self._fd is None:
            self._fd = try_flock(self.home.daemon_lock_path, ACQUIRE_WAIT_S)
        if self._fd is None:
            info = StateStore(self.home).read_daemon()
            raise LockHeldError(str(self.home.root), info.pid if info else None)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the last descriptor of the open file drops the flock

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> DaemonLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_is_held(home: Home) -> bool:
    """Whether some process holds ``home``'s daemon lock right now. Takes nothing.

    A shared, non-blocking ``flock`` probe on its own descriptor: it fails only while a
    daemon holds the exclusive lock. (A start racing the probe waits
    :data:`ACQUIRE_WAIT_S`, so the probe never makes it fail.)
    """
    try:
        fd = os.open(home.daemon_lock_path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in LOCK_BUSY:
            return True
        raise
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
