"""One daemon per home: an OS file lock on ``.mp/locks/daemon.lock``.

The lock is ``flock(2)`` (through ``filelock``): the kernel drops it when its process
dies, however it dies, so a stale lock from a killed daemon never blocks a start.
The holder's pid is in ``.mp/state/daemon.json``.
"""

from __future__ import annotations

import errno
import os

from filelock import FileLock, Timeout

from ..errors import LockHeldError
from ..fsutil import ensure_dir
from ..home import Home
from ..procs import is_alive
from .state import StateStore

ACQUIRE_WAIT_S = 0.3
"""How long a start waits for the lock: long enough to ride out a momentary probe by
``amgr status``, far shorter than any real daemon holds it."""


class DaemonLock:
    """The daemon lock of one home. Use as a context manager or acquire/release."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self._lock = FileLock(
            str(home.daemon_lock_path), timeout=ACQUIRE_WAIT_S, thread_local=False
        )

    def acquire(self) -> None:
        """Take the lock.

        :raises LockHeldError: another live process holds it (exit code 3), naming its pid.
        """
        ensure_dir(self.home.locks_dir)
        try:
            self._lock.acquire()
        except Timeout:
            info = StateStore(self.home).read_daemon()
            raise LockHeldError(str(self.home.root), info.pid if info else None) from None

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()

    @property
    def held(self) -> bool:
        return bool(self._lock.is_locked)

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
        import fcntl
    except ImportError:  # not POSIX: fall back on the pid in daemon.json
        info = StateStore(home).read_daemon()
        return info is not None and is_alive(info.pid)
    try:
        fd = os.open(home.daemon_lock_path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
            return True
        raise
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
