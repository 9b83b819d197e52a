"""Reading a log a bounded piece at a time: no line, however long, is held whole.

A record amgr writes is a few KiB. A line of many MiB is not one of them (a runaway
error text pasted in by hand, a damaged or foreign file); holding it would make every
command that reads today's log (``status``, ``exec-now``, the daemon's admission
checks, ``history``) use several times its size in memory. So lines over
:data:`MAX_LINE` are skipped, with one warning naming the file and the line.
"""

from __future__ import annotations

import contextlib
import mmap
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol


class Readable(Protocol):
    """A binary file open for reading (plain or gzip)."""

    def read(self, size: int = -1, /) -> bytes: ...


#: The longest line read as a record: 16 MiB, a thousand times a large record, and
#: small enough that reading one costs a bounded few tens of MiB.
MAX_LINE = 16 << 20
#: Bytes read at a time by :func:`line_blocks`.
BLOCK = 1 << 20

_warned: set[tuple[str, int]] = set()


def warn_long_line(path: Path, number: int) -> None:
    """Say once per process that line ``number`` of ``path`` was skipped as too long."""
    if (str(path), number) in _warned:
        return
    _warned.add((str(path), number))
    import logging  # only now: ``history`` does not load it to read a log

    logging.getLogger(__name__).warning(
        "%s: line %d is longer than %d MiB, not a record amgr wrote: skipped "
        "(move the file aside to keep the line)",
        path,
        number,
        MAX_LINE >> 20,
    )


def line_blocks(
    fh: Readable,
    path: Path,
    *,
    limit: int = MAX_LINE,
    block: int = BLOCK,
    skipped: list[int] | None = None,
) -> Iterator[bytes]:
    """The complete lines of ``fh``, many at a time, holding at most ``limit`` +
    ``block`` bytes: each piece is whole lines (the file's last one may lack its
    newline). A line longer than ``limit`` bytes is skipped, with one warning naming
    ``path`` and the line (see :data:`MAX_LINE`).

    :param skipped: gets the number of each line skipped.
    """
    skipped = [] if skipped is None else skipped
    block = min(block, limit)
    parts: list[bytes] = []  # the line read so far, when it runs on past a block
    held = 0  # its length
    skipping = False  # inside a line over the limit
    number = 1  # the number of the line in ``parts``
    while chunk := fh.read(block):
        pos = 0
        if parts or skipping:
            nl = chunk.find(b"\n")
            if nl < 0:
                if not skipping:
                    parts.append(chunk)
                    held += len(chunk)
                    if held > limit:
                        warn_long_line(path, number)
                        skipped.append(number)
                        parts, held, skipping = [], 0, True
                continue
            if not skipping and held + nl <= limit:
                parts.append(chunk[: nl + 1])
                yield b"".join(parts)
            elif not skipping:
                warn_long_line(path, number)
                skipped.append(number)
            parts, held, skipping = [], 0, False
            number += 1
            pos = nl + 1
        last = chunk.rfind(b"\n") + 1
        if last > pos:
            body = chunk[pos:last]
            number += body.count(b"\n")
            yield body
            pos = last
        if pos < len(chunk):
            parts, held = [chunk[pos:]], len(chunk) - pos
    if parts and not skipping:
        yield b"".join(parts)


#: A stretch without a newline searched at a time (see :func:`line_ends`).
_SCAN = 4 << 20


def line_ends(data: bytes | mmap.mmap) -> list[int]:
    """Where each line of ``data`` ends (the last one may lack its newline).

    Newlines are searched at most :data:`_SCAN` bytes at a time; in a mapped file the
    pages of a stretch searched without finding one are let go at once, so a line of
    hundreds of MiB (skipped later as too long) never becomes resident memory.
    """
    ends: list[int] = []
    add_end, find = ends.append, data.find
    size = len(data)
    pos = 0
    while True:
        e = find(b"\n", pos, pos + _SCAN)
        if e >= 0:
            add_end(e)
            pos = e + 1
            continue
        if pos + _SCAN >= size:
            break
        _let_go(data, pos, pos + _SCAN)
        pos += _SCAN
    last = ends[-1] + 1 if ends else 0
    if last < size:
        add_end(size)
    return ends


def _let_go(data: bytes | mmap.mmap, start: int, stop: int) -> None:
    """Drop the mapped pages of ``data[start:stop]`` from memory (read again if needed)."""
    if isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        start -= start % mmap.PAGESIZE
        with contextlib.suppress(OSError, ValueError):
            data.madvise(mmap.MADV_DONTNEED, start, min(stop, len(data)) - start)
