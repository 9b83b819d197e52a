"""The displayed size of an MP4/MOV video, read from its ``tkhd`` boxes (no ffmpeg).

YouTube treats a vertical or square video of up to three minutes as a Short; this is
how the YouTube publisher tells a person that a "short" will not be shown as one.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

_CONTAINERS = {b"moov", b"trak", b"mdia", b"edts"}
MAX_BOXES = 10_000
"""Boxes looked at before giving up (a damaged file must not loop for long)."""


def _boxes(file: BinaryIO, end: int) -> list[tuple[bytes, int, int]]:
    """``(type, payload start, payload end)`` of the boxes between here and ``end``."""
    found: list[tuple[bytes, int, int]] = []
    while file.tell() + 8 <= end and len(found) < MAX_BOXES:
        start = file.tell()
        size, kind = struct.unpack(">I4s", file.read(8))
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", file.read(8))
            header = 16
        elif size == 0:
            size = end - start
        if size < header or start + size > end:
            break
        found.append((kind, start + header, start + size))
        file.seek(start + size)
    return found


def _tkhd_size(data: bytes) -> tuple[int, int] | None:
    version = data[0]
    offset = 4 + (32 if version == 1 else 20) + 8 + 8  # times, ids, duration; reserved…
    if len(data) < offset + 36 + 8:
        return None
    a, b = struct.unpack(">ii", data[offset : offset + 8])
    width, height = struct.unpack(">II", data[offset + 36 : offset + 44])
    width, height = width >> 16, height >> 16
    if a == 0 and b != 0:  # rotated by 90 or 270 degrees: shown the other way round
        width, height = height, width
    return (width, height) if width and height else None


def video_size(path: Path) -> tuple[int, int] | None:
    """``(width, height)`` as displayed, or None when ``path`` is no readable MP4."""
    try:
        with path.open("rb") as file:
            end = path.stat().st_size
            todo = [(b"", 0, end)]
            while todo:
                _, start, stop = todo.pop(0)
                file.seek(start)
                for kind, begin, finish in _boxes(file, stop):
                    if kind in _CONTAINERS:
                        todo.append((kind, begin, finish))
                    elif kind == b"tkhd":
                        file.seek(begin)
                        size = _tkhd_size(file.read(min(finish - begin, 128)))
                        if size is not None:
                            return size
    except (OSError, struct.error):
        return None
    return None
