"""Crash-safe file primitives: every write is atomic or an appended, flushed line.

A crash at any instant leaves each file either as it was or as it is meant to be.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


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


def atomic_write_bytes(
    path: Path, data: bytes, *, private: bool = False, durable: bool = True
) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder, fsync, rename.

    :param private: create the file 0600 (for files that may hold private data).
    :param durable: fsync the file and its folder. Only a cache that checks what it
        reads back (and can rebuild it) may skip that.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        if private:
            os.chmod(tmp, 0o600)
        else:
            mode = 0o644
            with contextlib.suppress(FileNotFoundError):
                mode = os.stat(path).st_mode & 0o777
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str, *, private: bool = False) -> None:
    """Atomically write UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"), private=private)


def atomic_write_json(path: Path, data: Any, *, private: bool = False, indent: int = 2) -> None:
    """Atomically write ``data`` as pretty JSON with a trailing newline."""
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=str) + "\n"
    atomic_write_text(path, text, private=private)


def append_line(path: Path, line: str, *, private: bool = False) -> None:
    """Append one line (a newline is added) and fsync before returning.

    If the file ends with a torn line from an earlier crash, a newline is written first
    so the new record starts on its own line.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    fd = os.open(path, flags, 0o600 if private else 0o644)
    try:
        size = os.fstat(fd).st_size
        prefix = b""
        if size:
            with open(path, "rb") as rh:
                rh.seek(size - 1)
                if rh.read(1) != b"\n":
                    prefix = b"\n"
        os.write(fd, prefix + line.encode("utf-8") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)


def read_json(path: Path) -> Any:
    """Read a JSON file (no validation)."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)
