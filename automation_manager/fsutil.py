"""Crash-safe file primitives: every write is atomic or an appended, flushed line.

A crash at any instant leaves each file either as it was or as it is meant to be, and
a write that cannot complete (a full disk, an I/O error) leaves it as it was and raises
:class:`~automation_manager.errors.StorageError`.

Nothing below a home's ``.mp/`` is written through a symlink: the folders on the way
are opened one by one from ``.mp`` with ``O_NOFOLLOW`` (so a link planted in place of a
folder, or a ``..``, is refused, never followed, with no window between a check and the
write), and files are opened ``O_NOFOLLOW`` / created ``O_EXCL`` in the folder opened
so. ``.mp`` itself may be a link (state kept on another disk is the user's choice).
Paths outside any ``.mp`` (a publisher's output folder) are the user's to arrange.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import StorageError, UnsafePathError
from .home import STATE_DIR

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

#: The one function every byte amgr writes goes through (``os.write`` semantics: it
#: may write fewer bytes than asked). A module attribute so a test can replace it with
#: one that fails with ``ENOSPC`` mid-line, where no small full filesystem can be made.
raw_write = os.write
#: As :data:`raw_write`, for the fsync that makes a write count.
raw_fsync = os.fsync

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


def is_safe_id(value: str) -> bool:
    """True when ``value`` is usable as a file name: no separator, no ``..``, no hidden file."""
    return bool(SAFE_ID.match(value)) and ".." not in value


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink inside ``path`` durable (best effort)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- staying inside the home ----------------------------------------------------------------


def state_root(path: Path) -> tuple[Path, tuple[str, ...]] | None:
    """The ``.mp`` folder ``path`` lies in and the names below it, or None when it lies
    in none (the innermost ``.mp`` counts: a home may itself sit under a ``.mp``)."""
    parts = path.parts
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == STATE_DIR:
            return Path(*parts[: i + 1]), parts[i + 1 :]
    return None


def storage_error(action: str, path: Path, exc: OSError) -> StorageError:
    """``exc`` (from writing ``path``) as one clear line naming the disk when it is full."""
    if isinstance(exc, StorageError):
        return exc
    code = exc.errno
    reason = exc.strerror or str(exc)
    if code in (errno.ENOSPC, errno.EDQUOT):
        root = state_root(path)
        where = root[0] if root is not None else path.parent
        return StorageError(
            f"disk full under {where}: cannot {action} {path} ({reason})", path=path, errno=code
        )
    return StorageError(f"cannot {action} {path} ({reason})", path=path, errno=code)


def _refuse_link(path: Path, dir_fd: int, name: str) -> UnsafePathError:
    try:
        target = os.readlink(name, dir_fd=dir_fd)
    except OSError:
        target = "?"
    root = state_root(path)
    home = root[0] if root is not None else path.parent
    return UnsafePathError(
        f"{path}: is a symlink (to {target}) inside {home}; amgr never writes through a "
        "link there — remove the link (or put a real folder or file in its place)",
        path=path,
        errno=errno.ELOOP,
    )


def _open_dir(folder: Path) -> int:
    """``folder`` opened (created if missing) for use as a ``dir_fd``; the caller closes it.

    :raises UnsafePathError: when a folder below ``.mp`` is a symlink, or the path has ``..``.
    :raises StorageError: when a folder cannot be created or opened.
    """
    root = state_root(folder)
    try:
        if root is None:
            folder.mkdir(parents=True, exist_ok=True)
            return os.open(folder, _DIR_FLAGS)
        mp, below = root
        mp.mkdir(parents=True, exist_ok=True)
        fd = os.open(mp, _DIR_FLAGS)
    except OSError as exc:
        raise storage_error("create the folder", folder, exc) from exc
    here = mp
    try:
        for name in below:
            here = here / name
            if name in ("", ".", ".."):
                raise UnsafePathError(
                    f"{folder}: leaves {mp} through {name!r}; amgr writes only inside it",
                    path=folder,
                    errno=errno.EINVAL,
                )
            fd = _step(fd, name, here)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _step(fd: int, name: str, here: Path) -> int:
    """Open (creating it if missing) the folder ``name`` in ``fd``; close ``fd``."""
    try:
        try:
            child = os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
        except FileNotFoundError:
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, dir_fd=fd)
            child = os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(name, fd):
            raise _refuse_link(here, fd, name) from None
        raise storage_error("create the folder", here, exc) from exc
    os.close(fd)
    return child


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def ensure_dir(folder: Path) -> None:
    """Create ``folder`` (and its parents) like ``mkdir -p``, but below ``.mp`` never
    through a symlink: every state folder is made with this.

    :raises UnsafePathError: a folder on the way below ``.mp`` is a symlink.
    :raises StorageError: the folder cannot be created (full disk, permissions).
    """
    os.close(_open_dir(folder))


@contextlib.contextmanager
def _in_dir(folder: Path) -> Iterator[int]:
    fd = _open_dir(folder)
    try:
        yield fd
    finally:
        os.close(fd)


def open_lock_file(path: Path) -> int:
    """``path`` opened read-write for ``flock`` (created 0600 when missing; below ``.mp``
    never through a symlink); the caller closes it, which releases any lock on it.

    :raises UnsafePathError: ``path`` (or a folder on the way below ``.mp``) is a symlink.
    :raises StorageError: it cannot be created or opened.
    """
    with _in_dir(path.parent) as dfd:
        try:
            return os.open(path.name, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600, dir_fd=dfd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _refuse_link(path, dfd, path.name) from None
            raise storage_error("open the lock file", path, exc) from exc


LOCK_BUSY = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES)
"""The errnos of a non-blocking ``flock`` that another holder refused."""
_LOCK_POLL_S = 0.01


def try_flock(path: Path, timeout: float) -> int | None:
    """An exclusive ``flock`` on ``path``, waited for up to ``timeout`` seconds.

    Returns the descriptor holding it (closing it releases the lock), or None when
    another open file description still holds it after ``timeout``. The light form of
    ``filelock`` for the daemon's start-up (it needs no lock library).

    :raises StorageError: the file cannot be opened, or the filesystem has no locks.
    """
    import time

    fd = open_lock_file(path)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except OSError as exc:
                if exc.errno not in LOCK_BUSY:
                    raise storage_error("lock", path, exc) from exc
            if time.monotonic() >= deadline:
                os.close(fd)
                return None
            time.sleep(_LOCK_POLL_S)
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        raise


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd``, looping over short writes; a write that
    makes no progress is an error (``EIO``), never a silent loss. For writers that
    manage their own file (an in-flight note created ``O_EXCL``)."""
    view = memoryview(data)
    while view:
        n = raw_write(fd, view)
        if n <= 0:
            raise OSError(errno.EIO, "the write made no progress")
        view = view[n:]


# -- writing ------------------------------------------------------------------------------


def atomic_write_bytes(
    path: Path, data: bytes, *, private: bool = False, durable: bool = True
) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder, fsync, rename.

    A symlink in ``path``'s place is replaced, never followed. On any failure the temp
    file is removed and ``path`` is left as it was.

    :param private: create the file 0600 (for files that may hold private data).
    :param durable: fsync the file and its folder. Only a cache that checks what it
        reads back (and can rebuild it) may skip that.
    :raises StorageError: the write could not complete (``.disk_full`` tells a full disk).
    """
    with _in_dir(path.parent) as dfd:
        tmp = f".{path.name}.{os.urandom(4).hex()}.tmp"  # (secrets would load OpenSSL)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600, dir_fd=dfd)
        except OSError as exc:
            raise storage_error("write", path, exc) from exc
        try:
            try:
                write_all(fd, data)
                if durable:
                    raw_fsync(fd)
                os.fchmod(fd, 0o600 if private else _mode_of(path.name, dfd))
            finally:
                os.close(fd)
            os.replace(tmp, path.name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dfd)
            if isinstance(exc, OSError):
                raise storage_error("write", path, exc) from exc
            raise
        if durable:
            with contextlib.suppress(OSError):
                os.fsync(dfd)


def _mode_of(name: str, dfd: int) -> int:
    """The mode a replaced file keeps (0644 for a new one, or in place of a link)."""
    try:
        st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        return 0o644
    return st.st_mode & 0o777 if stat.S_ISREG(st.st_mode) else 0o644


def atomic_write_text(path: Path, text: str, *, private: bool = False) -> None:
    """Atomically write UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"), private=private)


def atomic_write_json(path: Path, data: Any, *, private: bool = False, indent: int = 2) -> None:
    """Atomically write ``data`` as pretty JSON with a trailing newline."""
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=str) + "\n"
    atomic_write_text(path, text, private=private)


def append_line(path: Path, line: str, *, private: bool = False) -> None:
    """Append one line (a newline is added) and fsync before returning.

    The line is written whole or not at all: short writes are continued, and when the
    write or the fsync fails (``ENOSPC``, ``EIO``, ...) the file is truncated back to its
    size before the append, so it still ends with its last good line. Appenders in other
    processes wait (``flock``) while a line is written, so that truncation only ever
    takes back this call's own bytes. If the file ends with a torn line from an earlier
    crash, a newline is written first so the new record starts on its own line.

    :raises StorageError: the line could not be appended (``.disk_full`` tells a full
        disk; the caller keeps the line and tries again later).
    :raises UnsafePathError: ``path`` (or a folder on the way below ``.mp``) is a symlink.
    """
    payload = line.encode("utf-8") + b"\n"
    with _in_dir(path.parent) as dfd:
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | _NOFOLLOW
        try:
            fd = os.open(path.name, flags, 0o600 if private else 0o644, dir_fd=dfd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _refuse_link(path, dfd, path.name) from None
            raise storage_error("append to", path, exc) from exc
    try:
        with contextlib.suppress(OSError):  # no flock (some network filesystems)
            fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            payload = b"\n" + payload
        try:
            write_all(fd, payload)
            raw_fsync(fd)
        except BaseException as exc:
            _take_back(fd, size)
            if isinstance(exc, OSError):
                raise storage_error("append to", path, exc) from exc
            raise
    finally:
        os.close(fd)  # also releases the flock


def _take_back(fd: int, size: int) -> None:
    """Truncate ``fd`` back to ``size`` (best effort: the disk may be failing)."""
    with contextlib.suppress(OSError):
        os.ftruncate(fd, size)
        os.fsync(fd)


def read_json(path: Path) -> Any:
    """Read a JSON file (no validation)."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)
