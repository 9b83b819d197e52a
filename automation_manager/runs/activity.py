"""A run's activity log, ``.mp/runs/<run-id>.log``: one line per event, appended and fsynced.

Stage start and end, each batch and item, skips with their reasons, errors, and the
user's pause, resume and cancel. ``amgr runs log RUN [-f]`` prints (and follows) it.
Lines are masked with the secrets registry before they are written.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from ..fsutil import append_line, ensure_dir, is_safe_id
from ..home import Home
from ..secrets import REGISTRY


def log_path(home: Home, run_id: str) -> Path:
    if not is_safe_id(run_id):
        raise ValueError(f"{run_id!r} is not a run id")
    return home.mp / "runs" / f"{run_id}.log"


def note(home: Home, run_id: str, now: datetime, message: str, stage: str | None = None) -> None:
    """Append one line: ``TIME [stage] message``."""
    path = log_path(home, run_id)
    ensure_dir(path.parent)
    where = f" [{stage}]" if stage else ""
    line = f"{now.isoformat(timespec='seconds')}{where} {' '.join(message.split())}"
    append_line(path, REGISTRY.mask(line))


def read_from(home: Home, run_id: str, offset: int = 0) -> tuple[list[str], int]:
    """Whole lines after byte ``offset``, and the offset after them."""
    path = log_path(home, run_id)
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return [], offset
    cut = data.rfind(b"\n") + 1
    lines = data[:cut].decode("utf-8", "replace").splitlines()
    return lines, offset + cut


def lines(home: Home, run_id: str) -> Iterator[str]:
    found, _ = read_from(home, run_id)
    yield from found
