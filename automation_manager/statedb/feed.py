"""Keeping the state database a faithful view of the run log.

Each day file has a cursor: the bytes of it already applied. :func:`catch_up` applies
the whole lines written since (by this process or any other), so the counts admission
reads are exactly the log's, whoever wrote it. A record is applied once: a line is only
consumed when it ends in a newline, and the cursor moves in the same transaction as the
counts. :func:`rebuild` starts over (a missing or damaged database).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from ..enums import RunStatus
from ..home import Home
from ..logs.lines import MAX_LINE, warn_long_line
from ..tasktypes import REGISTRY

log = logging.getLogger(__name__)

FEED_DAYS = 2
"""Besides today, the day files this many days back are followed: a run that started
before midnight appends its record to its start day's file after it."""
CHUNK = 1 << 20


class LogRewritten(Exception):
    """A followed day file shrank or vanished: what was counted from it is no longer
    there, so the state must be rebuilt from the log."""


def catch_up(conn: sqlite3.Connection, home: Home, today: date, also: tuple[date, ...] = ()) -> int:
    """Apply the records appended to the recent day files (and ``also``) since their cursors.

    Call inside a transaction. Returns how many records were applied.
    :raises LogRewritten: a followed file lost bytes that were already counted.
    """
    days = {today - timedelta(days=back) for back in range(FEED_DAYS + 1)} | set(also)
    base = str(home.logs_dir)
    return sum(_follow(conn, base, f"{day.isoformat()}.jsonl", strict=True) for day in sorted(days))


def follow_day(conn: sqlite3.Connection, home: Home, day: date) -> int:
    """Apply what is new in one day file (a record just appended there)."""
    return _follow(conn, str(home.logs_dir), f"{day.isoformat()}.jsonl", strict=True)


def rebuild(conn: sqlite3.Connection, home: Home, today: date) -> int:
    """Build the state from the log (call in a transaction, on empty tables).

    Only the followed day files are read: the counts admission needs are today's, and a
    task's last status older than them is looked up on first use (see
    :meth:`~automation_manager.engine.admission.Admission.last_status`), so a home with
    a year of logs is rebuilt in milliseconds.
    """
    return catch_up(conn, home, today)


def _follow(conn: sqlite3.Connection, base: str, name: str, *, strict: bool = False) -> int:
    path = os.path.join(base, name)
    row = conn.execute("SELECT offset, lines FROM log_cursor WHERE file = ?", (name,)).fetchone()
    offset, lines = (int(row[0]), int(row[1])) if row else (0, 0)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        if strict and offset:
            raise LogRewritten(f"{path} is gone") from None
        return 0
    except OSError:
        return 0
    try:
        size = os.fstat(fd).st_size
        if size < offset:
            if strict:
                raise LogRewritten(f"{path} is shorter than already counted")
            offset = size
        if size == offset and row is not None:
            return 0
        count = 0
        end = offset
        for line, line_end in _lines(fd, offset, size):
            end = line_end
            lines += 1
            if line is None:
                warn_long_line(Path(path), lines)
            elif _apply_line(conn, name[:10], line):
                count += 1
        conn.execute(
            "INSERT INTO log_cursor(file, offset, lines) VALUES (?, ?, ?) "
            "ON CONFLICT(file) DO UPDATE SET offset = excluded.offset, lines = excluded.lines",
            (name, end, lines),
        )
        return count
    finally:
        os.close(fd)


def _lines(fd: int, start: int, size: int) -> Iterator[tuple[bytes | None, int]]:
    """Whole lines of ``fd`` between ``start`` and ``size``: (line or None if too long, end).

    A last line without its newline (still being written, or torn) is not yielded.
    """
    pos = start
    buf = b""
    skipping = False
    while pos < size:
        chunk = os.pread(fd, min(CHUNK, size - pos), pos)
        if not chunk:
            break
        pos += len(chunk)
        buf += chunk
        while True:
            nl = buf.find(b"\n")
            if nl < 0:
                break
            line, buf = buf[:nl], buf[nl + 1 :]
            end = pos - len(buf)
            if skipping:
                skipping = False
                yield None, end
            else:
                yield line, end
        if len(buf) > MAX_LINE:
            skipping = True
            buf = b""


def _apply_line(conn: sqlite3.Connection, day: str, line: bytes) -> bool:
    line = line.strip()
    if not line:
        return False
    try:
        rec = json.loads(line)
    except ValueError:
        return False  # a torn line from a crash: skipped, never fatal
    if not isinstance(rec, dict):
        return False
    apply_record(conn, day, rec)
    return True


def record_counts(rec: dict[str, Any]) -> tuple[int, int, float]:
    """What one record counts toward its day: content items, ebooks, USD spent."""
    status = rec.get("status")
    category, kind = rec.get("category"), rec.get("type")
    content = ebooks = 0
    if status == RunStatus.SUCCESS and isinstance(category, str) and isinstance(kind, str):
        known = REGISTRY.find(category, kind)
        if known is not None:
            content, ebooks = int(known.content_quota), int(known.ebook_quota)
    usage = rec.get("usage")
    cost = usage.get("cost_usd") if isinstance(usage, dict) else None
    cost_usd = float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else 0.0
    return content, ebooks, cost_usd


def apply_record(conn: sqlite3.Connection, day: str, rec: dict[str, Any]) -> None:
    """Count one record: quotas, spend, the task's last status; settle its reservation."""
    status = rec.get("status")
    content, ebooks, cost_usd = record_counts(rec)
    if content or ebooks or cost_usd:
        conn.execute(
            "INSERT INTO day_totals(day, content, ebooks, cost_usd) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(day) DO UPDATE SET content = content + excluded.content, "
            "ebooks = ebooks + excluded.ebooks, cost_usd = cost_usd + excluded.cost_usd",
            (day, content, ebooks, cost_usd),
        )
    task_id, record_id = rec.get("task_id"), rec.get("id")
    at = _instant(rec.get("timestamp"))
    if (
        isinstance(task_id, str)
        and at is not None
        and isinstance(status, str)
        and status != RunStatus.SKIPPED
    ):
        conn.execute(
            "INSERT INTO task_status(task_id, status, record_id, at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(task_id) DO UPDATE SET status = excluded.status, "
            "record_id = excluded.record_id, at = excluded.at WHERE excluded.at >= at",
            (task_id, status, str(record_id or ""), at),
        )
    if isinstance(record_id, str):
        conn.execute("DELETE FROM reservations WHERE record_id = ?", (record_id,))


def _instant(value: Any) -> float | None:
    """Seconds since the epoch of an ISO 8601 timestamp (naive: the machine's local time)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None
