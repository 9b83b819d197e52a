"""One run at a time per task: the run lock, a row of the state database.

A run takes its task's lock when it starts and keeps it while it is running or paused; a
completed, failed or cancelled run releases it at once. A resumed (or, after a kill -9,
continued) run takes it again, and is refused when another run holds it. Taking and
releasing are single transactions, so two processes cannot both hold it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..home import Home
from ..statedb.db import StateDB


class RunLock:
    """The run locks of one home."""

    def __init__(self, home: Home) -> None:
        self.home = home

    def holder(self, task_id: str) -> str | None:
        """The run holding ``task_id``'s lock, or None."""
        db = StateDB(self.home)
        try:
            found = db.conn.execute(
                "SELECT run_id FROM run_locks WHERE task_id = ?", (task_id,)
            ).fetchone()
            return None if found is None else str(found[0])
        finally:
            db.close()

    def take(
        self, task_id: str, run_id: str, now: datetime, stale: Callable[[str], bool]
    ) -> str | None:
        """Take the lock for ``run_id``; returns the other run holding it (and takes
        nothing), or None when ``run_id`` now holds it.

        :param stale: whether the run that holds it has ended (its lock is left over).
        """
        db = StateDB(self.home)
        try:
            with db.transaction() as conn:
                found = conn.execute(
                    "SELECT run_id FROM run_locks WHERE task_id = ?", (task_id,)
                ).fetchone()
                if found is not None and found[0] != run_id and not stale(str(found[0])):
                    return str(found[0])
                conn.execute(
                    "INSERT OR REPLACE INTO run_locks(task_id, run_id, taken_at) VALUES (?, ?, ?)",
                    (task_id, run_id, now.isoformat()),
                )
                return None
        finally:
            db.close()

    def release(self, task_id: str, run_id: str) -> bool:
        """Release the lock if ``run_id`` holds it; True when it did."""
        db = StateDB(self.home)
        try:
            with db.transaction() as conn:
                cur = conn.execute(
                    "DELETE FROM run_locks WHERE task_id = ? AND run_id = ?", (task_id, run_id)
                )
                return cur.rowcount > 0
        finally:
            db.close()
