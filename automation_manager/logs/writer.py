"""Appending run records: one line per attempt, flushed to disk before it counts."""

from __future__ import annotations

import threading
from pathlib import Path

from ..fsutil import append_line
from ..home import Home
from .records import RunRecord

_lock = threading.Lock()


def log_path_for(home: Home, record: RunRecord) -> Path:
    """The daily file of a record: its start's local date (the offset it carries)."""
    return home.logs_dir / f"{record.timestamp.date().isoformat()}.jsonl"


def append_record(home: Home, record: RunRecord) -> Path:
    """Append ``record`` to its day's log and fsync. Returns the file written."""
    path = log_path_for(home, record)
    with _lock:
        append_line(path, record.to_line(), private=True)
    return path
