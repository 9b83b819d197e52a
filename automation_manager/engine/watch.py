"""Sleeping until something happens: a due time, a signal, a finished run, an edited file.

The daemon's main thread blocks in one ``select()`` on a self-pipe (:class:`Waker`,
written by signal handlers and worker threads) and, on Linux, an inotify descriptor on
the home folder and the folders of symlink targets (:class:`FileWatcher`), with a
timeout that ends at the next due instant. An idle daemon therefore wakes only when
there is work: no polling. Where inotify is unavailable the watcher falls back to
checking the files' ``stat`` (through links) once per :data:`POLL_S`.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import select
import struct
import sys
from pathlib import Path

log = logging.getLogger("amgr.daemon")

POLL_S = 1.0
"""Stat-polling period where inotify is unavailable (edits must apply within 2 s)."""

_IN_MODIFY = 0x002
_IN_ATTRIB = 0x004
_IN_CLOSE_WRITE = 0x008
_IN_MOVED_FROM = 0x040
_IN_MOVED_TO = 0x080
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_MASK = (
    _IN_MODIFY
    | _IN_ATTRIB
    | _IN_CLOSE_WRITE
    | _IN_MOVED_FROM
    | _IN_MOVED_TO
    | _IN_CREATE
    | _IN_DELETE
)
_EVENT = struct.Struct("iIII")

EARLY_FRACTION = 0.002
EARLY_MIN_S = 0.0005

Signature = tuple[tuple[int, int, int] | None, ...]


class Waker:
    """A self-pipe: :meth:`wake` from any thread or signal handler ends a :meth:`wait`."""

    def __init__(self) -> None:
        self._r, self._w = os.pipe()
        self.closed = False
        for fd in (self._r, self._w):
            os.set_blocking(fd, False)
            os.set_inheritable(fd, False)

    def fileno(self) -> int:
        return self._r

    def wake(self) -> None:
        if self.closed:
            return
        # A full pipe means already awake.
        with contextlib.suppress(OSError):
            os.write(self._w, b"\0")

    def drain(self) -> None:
        try:
            while os.read(self._r, 4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def wait(self, timeout: float, extra: int | None = None) -> set[int]:
        """Block up to about ``timeout`` seconds, possibly less; returns the readable descriptors.

        Linux lets ``select`` overshoot by 0.1 % of its timeout (1 ms late on a 1 s
        sleep, 60 ms on a minute), so a long wait ends a little early instead and the
        caller, finding nothing due yet, waits again for the short remainder: a due
        instant is met within tens of microseconds, never before it.
        """
        fds = [self._r] if extra is None else [self._r, extra]
        timeout = max(timeout, 0.0)
        if timeout > EARLY_MIN_S:
            timeout -= min(timeout * EARLY_FRACTION + EARLY_MIN_S, timeout)
        try:
            ready, _, _ = select.select(fds, [], [], timeout)
        except InterruptedError:  # pragma: no cover - PEP 475 retries select itself
            ready = []
        if self._r in ready:
            self.drain()
        return set(ready)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for fd in (self._r, self._w):
            with contextlib.suppress(OSError):
                os.close(fd)


class FileWatcher:
    """Notices edits to a few files of one folder, and to the targets of those that are links.

    inotify reports an edit in the folder that holds the edited file, so a ``tasks.json``
    that is a symlink to ``/etc/amgr/tasks.json`` is watched in both folders (and in the
    folder of each link of a chain). :meth:`refresh` re-resolves the links: the daemon
    calls it after each reload, so a link pointed elsewhere is followed.

    :param paths: the files to watch (all in the same folder).
    """

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self.folder = paths[0].parent
        self.names: set[bytes] = {p.name.encode() for p in paths}
        self._watched: set[Path] = set()
        self._libc: ctypes.CDLL | None = None
        self._fd: int | None = self._inotify()
        self.refresh()

    def _inotify(self) -> int | None:
        if not sys.platform.startswith("linux") or os.environ.get("AMGR_NO_INOTIFY"):
            return None
        try:
            # The process's own symbols (libc is loaded): find_library would run ldconfig
            # and import subprocess only to name the same library.
            libc = ctypes.CDLL(None, use_errno=True)
            fd = int(libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC))
            if fd < 0:
                raise OSError(ctypes.get_errno(), "inotify_init1")
            wd = int(libc.inotify_add_watch(fd, os.fsencode(self.folder), _MASK))
            if wd < 0:
                err = ctypes.get_errno()
                os.close(fd)
                raise OSError(err, f"inotify_add_watch {self.folder}")
            self._libc = libc
            self._watched.add(self.folder.resolve())
            return fd
        except (OSError, AttributeError) as exc:
            log.info("file watching falls back to polling every %ss (%s)", POLL_S, exc)
            return None

    def refresh(self) -> None:
        """Watch the folder of every link target of the files (links may have changed).

        A folder that cannot be watched (gone, unreadable) is logged and tried again at
        the next refresh; the files' own folder stays watched.
        """
        chain = [link for path in self.paths for link in link_chain(path)]
        self.names = {link.name.encode() for link in chain}
        if self._fd is None or self._libc is None:
            return
        for folder in {link.parent.resolve() for link in chain} - self._watched:
            wd = int(self._libc.inotify_add_watch(self._fd, os.fsencode(folder), _MASK))
            if wd < 0:
                err = ctypes.get_errno()
                log.warning("cannot watch %s for edits: %s", folder, os.strerror(err))
                continue
            self._watched.add(folder)

    def fileno(self) -> int | None:
        """The descriptor to select on, or None when polling."""
        return self._fd

    @property
    def polling(self) -> bool:
        return self._fd is None

    def drain(self) -> bool:
        """Read pending events; True when one concerns a watched file."""
        if self._fd is None:
            return True
        relevant = False
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return relevant
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                return True
            if not data:
                return relevant
            offset = 0
            while offset + _EVENT.size <= len(data):
                _, _, _, length = _EVENT.unpack_from(data, offset)
                name = data[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0")
                offset += _EVENT.size + length
                if name in self.names or not name:
                    relevant = True

    def signature(self) -> Signature:
        return signature(self.paths)

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


def link_chain(path: Path, limit: int = 40) -> list[Path]:
    """``path``, then each file its symlinks point to, in order (at most ``limit`` hops).

    A relative link is read from the folder that holds it. The last entry is the real
    file (or a dangling name, which may yet be created).
    """
    chain = [path]
    while len(chain) <= limit:
        try:
            target = os.readlink(chain[-1])
        except OSError:  # not a link, or gone
            break
        chain.append(Path(os.path.join(chain[-1].parent, target)))
    return chain


def signature(paths: list[Path]) -> Signature:
    """(mtime ns, size, inode) of each file, None for a missing one: a cheap change test."""
    out: list[tuple[int, int, int] | None] = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            out.append(None)
        else:
            out.append((st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(out)
