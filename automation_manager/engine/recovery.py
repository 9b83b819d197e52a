"""Runs that never finished, and due times that did.

A run's in-flight file is written before it starts and removed after its record is
appended. A file whose writer is gone (see :mod:`automation_manager.procs`) means the
run never finished: the :class:`~.recorder.Recorder` gives it one ``interrupted`` record
— unless its record made it to the log just before the crash, which
:func:`already_logged` checks by record id.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timedelta

from ..home import Home
from ..logs.lines import line_blocks
from ..logs.records import RunRecord
from .state import InflightRun, StateStore

log = logging.getLogger("amgr.daemon")

TAIL_BYTES = 1 << 20
"""How much of the newest log file :func:`recent_due_times` reads (thousands of records)."""


def already_logged(home: Home, run: InflightRun, now: datetime) -> bool:
    """Whether a record with the run's id is in the log (the crash came after the append)."""
    needle = f'"id":"{run.record_id}"'.encode()
    day = run.started_at.date()
    last = max(now.date(), day)
    while day <= last:
        path = home.logs_dir / f"{day.isoformat()}.jsonl"
        try:
            with open(path, "rb") as fh:  # whole lines, never one over MAX_LINE held
                if any(needle in block for block in line_blocks(fh, path)):
                    return True
        except FileNotFoundError:
            pass
        day += timedelta(days=1)
    return False


def recover_interrupted(home: Home, state: StateStore, now: datetime) -> list[RunRecord]:
    """Record every in-flight run whose process is gone as ``interrupted``, once.

    A convenience over :meth:`~.recorder.Recorder.recover` for a home without a running
    engine (tests, tools). Call after ``state.load()``: each run's due time counts as run.
    """
    from .admission import Admission
    from .recorder import Recorder

    recorder = Recorder(
        home, state=state, admission=Admission(home), secrets=tuple, clock=lambda: now
    )
    return recorder.recover(now)


def recent_due_times(home: Home, *, tail_bytes: int = TAIL_BYTES) -> dict[str, datetime]:
    """Latest ``scheduled_for`` per task among the newest log's last records.

    Scheduled, catch-up and retry records count (a retry repeats its run's due time), so a
    start after a crash never catches up a due time that already ran, even when
    ``schedule.json`` had not been written yet. A torn line is skipped.
    """
    latest: dict[str, datetime] = {}
    try:
        files = sorted(p for p in home.logs_dir.glob("*.jsonl") if p.is_file())
    except OSError:
        return latest
    if not files:
        return latest
    path = files[-1]
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            fh.seek(max(0, size - tail_bytes))
            data = fh.read()
    except OSError:
        return latest
    for line in data.splitlines():
        try:
            rec = json.loads(line)
            task_id, due = rec["task_id"], rec.get("scheduled_for")
            if not due or rec.get("trigger") == "manual":
                continue
            when = datetime.fromisoformat(due)
        except (ValueError, KeyError, TypeError):
            continue
        if when.tzinfo is not None and (task_id not in latest or when > latest[task_id]):
            latest[str(task_id)] = when
    return latest
