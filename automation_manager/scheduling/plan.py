"""Listing due times and spreading them: pure functions of a schedule and instants."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from .model import Schedule
from .zones import as_utc

_MICROSECOND = timedelta(microseconds=1)


def due_times(
    schedule: Schedule, start: datetime, end: datetime, *, limit: int = 100_000
) -> list[datetime]:
    """Every due instant in ``(start, end]``, as aware UTC, in order.

    :param limit: return at most this many (the earliest).
    :raises ValueError: if ``start`` or ``end`` is naive.
    """
    end = as_utc(end, "end")
    found: list[datetime] = []
    due = schedule.next_due(start)
    while due <= end and len(found) < limit:
        found.append(due)
        due = schedule.next_due(due)
    return found


def jitter_offset(schedule: Schedule, key: str, due: datetime) -> timedelta:
    """How long after ``due`` the run keyed ``key`` should start: in ``[0, schedule.jitter]``.

    Deterministic (a hash of ``key`` and the instant ``due``), so a restarted daemon
    picks the same moment, while different tasks due together spread apart.
    """
    if schedule.jitter <= timedelta(0):
        return timedelta(0)
    span = schedule.jitter // _MICROSECOND
    instant = as_utc(due, "due").isoformat()
    digest = hashlib.blake2b(f"{key}\x00{instant}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % (span + 1) * _MICROSECOND
