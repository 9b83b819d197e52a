"""The pipeline's items in the state database: keywords, clusters, ideas, tasks, prompts,
images, and each run's counts.

Every change of an item's status is one ``BEGIN IMMEDIATE`` transaction that also adds
to the run's result counts (:meth:`PipelineDB.commit`), so a kill -9 at any instant
loses no item and counts none twice: the item either moved and was counted, or neither.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from ..home import Home
from ..statedb.db import StateDB

PENDING_SQL: dict[str, str] = {
    "clusters": "SELECT count(*) FROM pl_keywords WHERE task_id = ? AND status = 'new'",
    "ideas": "SELECT count(*) FROM pl_clusters WHERE task_id = ? AND status = 'new'",
    "tasks": "SELECT count(*) FROM pl_ideas i JOIN pl_clusters c ON c.id = i.cluster_id "
    "WHERE i.task_id = ? AND i.status = 'new' AND c.status != 'disabled'",
    "content": "SELECT count(*) FROM pl_tasks t JOIN pl_clusters c ON c.id = t.cluster_id "
    "WHERE t.task_id = ? AND t.status = 'queued' AND c.status != 'disabled'",
    "image_prompts": "SELECT count(*) FROM pl_tasks WHERE task_id = ? AND status = 'written'",
    "images": "SELECT count(*) FROM pl_image_prompts WHERE task_id = ? AND status = 'new'",
    "review": "SELECT count(*) FROM pl_tasks t WHERE t.task_id = ? AND t.status IN "
    "('prompted', 'imaged') AND NOT EXISTS (SELECT 1 FROM pl_image_prompts p "
    "WHERE p.article_id = t.id AND p.status = 'new')",
}
"""What each stage would take: the reference's pipeline overview."""


class PipelineDB:
    """One connection to the home's state database, for the pipeline's tables.

    Safe to share between the threads of one run (stage 4 writes articles concurrently):
    every use goes through one lock.
    """

    def __init__(self, home: Home) -> None:
        self.home = home
        self._db = StateDB(home)
        self._lock = threading.RLock()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (the lock is held by this thread throughout)."""
        with self._lock, self._db.transaction() as conn:
            yield conn

    def rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._db.conn.execute(sql, args)
            names = [d[0] for d in cur.description or ()]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def value(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        with self._lock:
            found = self._db.conn.execute(sql, args).fetchone()
            return None if found is None else found[0]

    # -- pending counts -------------------------------------------------------------------

    def pending(self, task_id: str) -> dict[str, int]:
        """Items waiting for each stage."""
        return {stage: int(self.value(sql, (task_id,))) for stage, sql in PENDING_SQL.items()}

    # -- runs -----------------------------------------------------------------------------

    def open_run(self, run_id: str, task_id: str, snapshot: dict[str, int], now: datetime) -> None:
        """The run's counts row (kept when the run is continued after a kill or pause)."""
        with self.tx() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO pl_runs(run_id, task_id, snapshot, stages, started_at) "
                "VALUES (?, ?, ?, '{}', ?)",
                (run_id, task_id, json.dumps(snapshot), now.isoformat()),
            )

    def run_row(self, run_id: str) -> dict[str, Any] | None:
        found = self.rows("SELECT * FROM pl_runs WHERE run_id = ?", (run_id,))
        if not found:
            return None
        row = dict(found[0])
        row["snapshot"] = json.loads(row["snapshot"])
        row["stages"] = json.loads(row["stages"])
        return row

    def set_estimate(self, run_id: str, estimate: float) -> None:
        with self.tx() as conn:
            conn.execute("UPDATE pl_runs SET estimate_usd = ? WHERE run_id = ?", (estimate, run_id))

    def commit(
        self,
        run_id: str,
        stage: str,
        counts: dict[str, Any],
        work: Callable[[sqlite3.Connection], None] | None = None,
        *,
        usage: tuple[float, int, int] | None = None,
    ) -> dict[str, Any]:
        """Apply ``work`` (the items' status changes) and add ``counts`` to the run's
        stage result, in one transaction; numbers add up, other values replace.

        :param usage: the run's total (cost, prompt tokens, completion tokens) so far.
        :returns: the stage's result after the change.
        """
        with self.tx() as conn:
            if work is not None:
                work(conn)
            (raw,) = conn.execute(
                "SELECT stages FROM pl_runs WHERE run_id = ?", (run_id,)
            ).fetchone()
            stages = json.loads(raw)
            result = stages.setdefault(stage, {})
            for key, value in counts.items():
                old = result.get(key)
                if (
                    isinstance(value, int | float)
                    and not isinstance(value, bool)
                    and isinstance(old, int | float)
                    and not isinstance(old, bool)
                ):
                    result[key] = round(old + value, 6)
                else:
                    result[key] = value
            conn.execute(
                "UPDATE pl_runs SET stages = ? WHERE run_id = ?", (json.dumps(stages), run_id)
            )
            if usage is not None:
                conn.execute(
                    "UPDATE pl_runs SET cost_usd = ?, prompt_tokens = ?, completion_tokens = ? "
                    "WHERE run_id = ?",
                    (*usage, run_id),
                )
            return dict(result)

    def runs_of(self, task_id: str) -> list[str]:
        return [
            str(r["run_id"])
            for r in self.rows(
                "SELECT run_id FROM pl_runs WHERE task_id = ? ORDER BY started_at", (task_id,)
            )
        ]


def now_text(now: datetime) -> str:
    return now.isoformat(timespec="seconds")
