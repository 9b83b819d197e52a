"""Admission: whether a run may start, decided from one state and reserved under one lock.

Every run — the daemon's and every ``amgr exec-now`` — passes :meth:`Admission.admit`
before its executor is called. In one ``BEGIN IMMEDIATE`` transaction of the state
database it brings the counts up to date with the run log, then checks, in order:

1. self-overlap: a task from tasks.json that already holds a reservation is running;
2. quotas: today's content items (and ebooks) made plus those reserved;
3. dependencies: each ``depends_on`` task's last status;
4. budget: today's spend plus what running model runs hold, plus this run's estimate
   × :data:`~automation_manager.llm.budget.SAFETY`;

and, when all pass, inserts the run's reservation (its quota slots and its budget
estimate). The reservation is settled when the run's record is appended
(:meth:`settle`): the record's real figures replace it. Decisions never race: three
runs due at once against a quota of 2 see each other's reservations.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..enums import RunStatus, Trigger
from ..errors import SkipRun
from ..procs import is_alive, own_token
from ..statedb import StateDB
from ..statedb.feed import LogRewritten, catch_up, follow_day, rebuild
from ..tasktypes import REGISTRY

if TYPE_CHECKING:
    from pathlib import Path

    from ..config import TaskSpec, Workspace
    from ..distributed.reserve import RedisReservations
    from ..home import Home
    from ..logs.records import RunRecord, Usage
    from ..tasktypes import TaskType

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Held:
    """A reservation of a run in progress."""

    record_id: str
    task_id: str
    category: str
    type: str
    pid: int
    created_at: str
    cost_usd: float
    spent_usd: float


@dataclass(frozen=True)
class DayState:
    """Today as admission sees it: what was made and spent, and what running runs hold."""

    day: str
    content: int
    ebooks: int
    spent_usd: float
    reserved_content: int
    reserved_ebooks: int
    reserved_usd: float
    running: tuple[Held, ...]

    @property
    def content_total(self) -> int:
        return self.content + self.reserved_content

    @property
    def ebooks_total(self) -> int:
        return self.ebooks + self.reserved_ebooks


@dataclass(frozen=True)
class _Claim:
    """What one run asks to reserve."""

    record_id: str
    spec: TaskSpec
    kind: TaskType
    params: dict[str, Any]
    now: datetime
    estimate: float
    content: int
    ebooks: int
    ignore_quota: bool = False


class Admission:
    """The admission state of one home (thread-safe; one connection per instance).

    :param home: the home whose ``.mp/state/amgr.db`` is used.
    :param path: another database file (``":memory:"`` for a throw-away one).
    """

    def __init__(self, home: Home, *, path: Path | str | None = None) -> None:
        self.home = home
        self._path = path
        self._db: StateDB | None = None
        self._lock = threading.RLock()
        self._remote: RedisReservations | None = None
        """Distributed (executor celery): the reservations live in Redis."""
        self._remote_known = False
        self._unsettled: dict[str, tuple[tuple[int, int, float] | None, str]] = {}
        """Settles Redis did not take (it was away): sent again before the next one."""

    # -- the database -------------------------------------------------------------------

    def _open(self) -> StateDB:
        if self._db is None:
            db = StateDB(self.home, self._path)
            if db.fresh:
                with db.transaction() as conn:
                    count = rebuild(conn, self.home, datetime.now().astimezone().date())
                if count:
                    log.info("state: rebuilt from %d records of the run log", count)
            self._db = db
        return self._db

    def _current(
        self, conn: sqlite3.Connection, now: datetime, only: datetime | None = None
    ) -> None:
        """Apply the log's new records (``only``: just that instant's day file); a log
        rewritten by hand rebuilds the state."""
        assert self._db is not None
        try:
            if only is not None:
                follow_day(conn, self.home, only.date())
            else:
                catch_up(conn, self.home, now.date())
        except LogRewritten as exc:
            log.warning("state: %s; rebuilding it from the run log", exc)
            self._db.reset()
            rebuild(conn, self.home, now.date())

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- deciding -------------------------------------------------------------------------

    def admit(
        self,
        ws: Workspace,
        spec: TaskSpec,
        *,
        trigger: Trigger,
        params: dict[str, Any],
        record_id: str,
        now: datetime,
        ignore_quota: bool = False,
    ) -> None:
        """Reserve the run's slot, or raise :class:`SkipRun` with the reason.

        :param ignore_quota: skip only the daily quota check (a person's manual run);
            the run still reserves its slot, so it counts toward today's totals.
        """
        if trigger is not Trigger.MANUAL:
            if not ws.config.enabled:
                raise SkipRun("automation is disabled (config.json enabled: false)")
            if not spec.enabled:
                raise SkipRun(f"task {spec.id} is disabled")
        kind = REGISTRY.get(spec.category, spec.type)
        if kind.multi_stage:
            _check_not_paused(ws, spec.id)
        estimate = _estimate(ws, kind, params) if kind.calls_model else 0.0
        content = 1 if kind.content_quota else 0
        ebooks = 1 if kind.ebook_quota else 0
        claim = _Claim(record_id, spec, kind, params, now, estimate, content, ebooks, ignore_quota)
        try:
            remote = self.remote(ws)
            if remote is not None:
                return self._reserve_remote(ws, claim, remote)
            self._reserve(ws, claim)
        except sqlite3.Error as exc:
            raise SkipRun(
                f"not started: the state database under {self.home.state_dir} cannot be "
                f"written ({exc}); free disk space there"
            ) from None

    def _reserve(self, ws: Workspace, claim: _Claim) -> None:
        spec, params, now, record_id = claim.spec, claim.params, claim.now, claim.record_id
        estimate, content, ebooks = claim.estimate, claim.content, claim.ebooks
        day = now.date().isoformat()
        with self._lock:
            db = self._open()
            with db.transaction() as conn:
                self._current(conn, now)
                _drop_stale(conn, self.home)
                stored = spec.index >= 0
                if stored:
                    _check_overlap(conn, spec.id)
                state = _day_state(conn, day)
                if content and not claim.ignore_quota:
                    _check_quota(ws, state, ebooks=bool(ebooks), today=day)
                for dep in spec.task.depends_on:
                    status = self._last_status(conn, dep, now)
                    if status != RunStatus.SUCCESS:
                        got = "has never run" if status is None else f"last run was {status}"
                        raise SkipRun(f"dependency {dep} not met: {got}")
                if estimate > 0:
                    from ..llm.budget import check_run_budget

                    check_run_budget(
                        ws.config.llm,
                        claim.kind,
                        params,
                        state.spent_usd + state.reserved_usd,
                        extra_usd=_visuals_estimate(ws, claim.kind, params),
                    )
                from ..llm.budget import SAFETY

                conn.execute(
                    "INSERT INTO reservations(record_id, task_id, category, type, day, stored, "
                    "content, ebooks, cost_usd, pid, token, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        record_id,
                        spec.id,
                        spec.category.value,
                        spec.type,
                        day,
                        int(stored),
                        content,
                        ebooks,
                        SAFETY * estimate,
                        int(own_token().split(":")[0]),
                        own_token(),
                        now.isoformat(),
                    ),
                )

    def remote(self, ws: Workspace | None = None) -> RedisReservations | None:
        """Redis' reservations when the executor is celery (None: the state database's)."""
        if not self._remote_known:
            from ..distributed.reserve import remote_reservations

            self._remote = remote_reservations(self.home, ws)
            self._remote_known = True
        return self._remote

    def _reserve_remote(self, ws: Workspace, claim: _Claim, remote: RedisReservations) -> None:
        """The distributed :meth:`_reserve`: what was made comes from the log; what runs
        hold, and the check against the limits, is one Redis script."""
        from ..distributed.reserve import Ask
        from ..llm.budget import SAFETY

        spec, now, day = claim.spec, claim.now, claim.now.date().isoformat()
        with self._lock:
            db = self._open()
            with db.transaction() as conn:
                self._current(conn, now)
                made = _day_state(conn, day)
                for dep in spec.task.depends_on:
                    status = self._last_status(conn, dep, now)
                    if status != RunStatus.SUCCESS:
                        got = "has never run" if status is None else f"last run was {status}"
                        raise SkipRun(f"dependency {dep} not met: {got}")
        self._settle_left(remote)
        remote.drop_stale(self.home.state_dir / "inflight")
        cfg = ws.config
        quota = claim.content and not claim.ignore_quota
        refused = remote.reserve(
            Ask(
                record_id=claim.record_id,
                task_id=spec.id,
                day=day,
                stored=spec.index >= 0,
                content=claim.content,
                ebooks=claim.ebooks,
                cost_usd=SAFETY * claim.estimate,
                made_content=made.content,
                made_ebooks=made.ebooks,
                max_content=cfg.max_daily_content if quota else None,
                max_ebooks=cfg.max_daily_ebooks if quota and claim.ebooks else None,
                spent_usd=made.spent_usd,
                budget_usd=cfg.llm.daily_budget_usd if claim.estimate > 0 else None,
                created_at=now.isoformat(),
            )
        )
        if refused is None:
            return
        if refused.limit in ("overlap", "held"):
            raise SkipRun(
                f"already running: {spec.id} holds reservation {refused.holder} (in Redis); "
                "a task never runs twice at once"
            )
        if refused.limit in ("content", "ebooks"):
            books = refused.limit == "ebooks"
            made_n, held_n = int(refused.made), refused.held
            state = DayState(
                day,
                made.content if books else made_n,
                made_n if books else made.ebooks,
                made.spent_usd,
                0 if books else held_n,
                held_n if books else 0,
                0.0,
                (),
            )
            _check_quota(ws, state, ebooks=books, today=day)
        from ..llm.budget import check_run_budget

        check_run_budget(
            cfg.llm,
            claim.kind,
            claim.params,
            refused.made + refused.held_usd,
            extra_usd=_visuals_estimate(ws, claim.kind, claim.params),
        )
        raise SkipRun(f"not started: {refused.limit} limit reached for today ({day})")

    def settle(self, record: RunRecord, now: datetime) -> None:
        """The record is in the log: count it and drop its reservation."""
        with self._lock:
            db = self._open()
            with db.transaction() as conn:
                self._current(conn, now, only=record.timestamp)
                conn.execute("DELETE FROM reservations WHERE record_id = ?", (record.id,))
        self._settle_remote(record.id, record)

    def _settle_remote(self, record_id: str, record: RunRecord | None = None) -> None:
        remote = self.remote()
        if remote is None:
            return
        counts, day = None, ""
        if record is not None:
            from ..statedb.feed import record_counts

            counts = record_counts(record.to_json())
            day = record.timestamp.date().isoformat()
        with self._lock:
            self._unsettled[record_id] = (counts, day)
        self._settle_left(remote)

    def _settle_left(self, remote: RedisReservations) -> None:
        """Settle in Redis what waits to be (the broker was away when its record went in)."""
        with self._lock:
            waiting = list(self._unsettled.items())
        for record_id, (counts, day) in waiting:
            try:
                remote.settle(record_id, counts, day)
            except Exception as exc:  # kept: the next admission or settle tries again
                log.warning("admission: could not settle %s in Redis yet (%s)", record_id, exc)
                return
            with self._lock:
                self._unsettled.pop(record_id, None)

    def release(self, record_id: str) -> None:
        """Drop a reservation whose run will leave no record now (it waits in memory)."""
        with self._lock:
            db = self._open()
            with db.transaction() as conn:
                conn.execute("DELETE FROM reservations WHERE record_id = ?", (record_id,))
        self._settle_remote(record_id)

    def progress(self, record_id: str, usage: Usage) -> None:
        """Note what a running run has spent so far (a killed run's record counts it)."""
        with self._lock:
            db = self._open()
            with db.transaction() as conn:
                conn.execute(
                    "UPDATE reservations SET spent_usd = ?, prompt_tokens = ?, "
                    "completion_tokens = ?, calls = ? WHERE record_id = ?",
                    (
                        usage.cost_usd,
                        usage.prompt_tokens,
                        usage.completion_tokens,
                        usage.calls,
                        record_id,
                    ),
                )
        remote = self.remote()
        if remote is not None:
            try:
                remote.progress(record_id, usage)
            except Exception as exc:
                log.debug("admission: could not note progress in Redis (%s)", exc)

    def spent_by(self, record_id: str) -> Usage | None:
        """What a run (running or killed) noted as spent, or None if it called no model."""
        from ..logs.records import Usage

        with self._lock:
            row = (
                self._open()
                .conn.execute(
                    "SELECT prompt_tokens, completion_tokens, spent_usd, calls "
                    "FROM reservations WHERE record_id = ?",
                    (record_id,),
                )
                .fetchone()
            )
        if row is None or not row[3]:
            return None
        return Usage(prompt_tokens=row[0], completion_tokens=row[1], cost_usd=row[2], calls=row[3])

    # -- reading ----------------------------------------------------------------------

    def today(self, now: datetime) -> DayState:
        """Today's counts, spend and reservations (for ``amgr status``)."""
        with self._lock:
            db = self._open()
            with db.transaction() as conn:
                self._current(conn, now)
                _drop_stale(conn, self.home)
                state = _day_state(conn, now.date().isoformat())
        remote = self.remote()
        if remote is None:
            return state
        try:  # distributed: what running runs hold is in Redis
            content, ebooks, usd, _ = remote.held(state.day)
        except Exception as exc:
            log.warning("admission: Redis unreachable (%s); showing the log's counts", exc)
            return state
        return replace(state, reserved_content=content, reserved_ebooks=ebooks, reserved_usd=usd)

    def last_status(self, task_id: str, now: datetime) -> str | None:
        """Status of the task's newest record that is not ``skipped`` (None: never ran)."""
        with self._lock:
            db = self._open()
            with db.transaction() as conn:
                self._current(conn, now)
                return self._last_status(conn, task_id, now)

    def last_runs(self, now: datetime) -> dict[str, tuple[str, datetime]]:
        """Every task's newest non-skipped status and its start (UTC), for ``amgr status``.

        Read in one query, so a status of many tasks does not open the log per task.
        """
        with self._lock:
            db = self._open()
            with db.transaction() as conn:
                self._current(conn, now)
                rows = conn.execute("SELECT task_id, status, at FROM task_status").fetchall()
        return {str(t): (str(s), datetime.fromtimestamp(float(a), UTC)) for t, s, a in rows}

    def _last_status(self, conn: sqlite3.Connection, task_id: str, now: datetime) -> str | None:
        row = conn.execute(
            "SELECT status FROM task_status WHERE task_id = ?", (task_id,)
        ).fetchone()
        if row is not None:
            return str(row[0])
        # Older than the day files kept as .jsonl (archived): look once, remember it.
        from ..logs.reader import latest_record_for

        rec = latest_record_for(self.home, task_id, now)
        if rec is None or not isinstance(rec.get("status"), str):
            return None
        stamp = rec.get("timestamp")
        at = stamp.timestamp() if isinstance(stamp, datetime) else 0.0
        conn.execute(
            "INSERT OR IGNORE INTO task_status(task_id, status, record_id, at) VALUES (?, ?, ?, ?)",
            (task_id, rec["status"], str(rec.get("id") or ""), at),
        )
        return str(rec["status"])


def _check_not_paused(ws: Workspace, task_id: str) -> None:
    from ..runs.models import RunPhase
    from ..runs.store import RunStore

    latest = RunStore(ws.home).latest_for(task_id)
    if latest is not None and latest.status is RunPhase.PAUSED:
        raise SkipRun(f"previous run {latest.id} is paused: amgr runs resume {latest.id}")


def _visuals_estimate(ws: Workspace, kind: TaskType, params: dict[str, Any]) -> float:
    """What the run's images and voice are expected to cost (0 offline)."""
    if kind.category != "content_creation":
        return 0.0
    from ..visuals.budget import expected_cost

    return expected_cost(ws.config, kind.name, params)


def _estimate(ws: Workspace, kind: TaskType, params: dict[str, Any]) -> float:
    """The run's expected model cost in USD (0 without a budget or with the offline model):
    its tokens, plus its images and voice-over when a model makes them."""
    llm = ws.config.llm
    if llm.daily_budget_usd is None:
        return 0.0
    visuals = _visuals_estimate(ws, kind, params)
    from ..llm import uses_model

    if not uses_model(llm):
        return visuals
    from ..llm.budget import run_cost

    return run_cost(llm, kind, params) + visuals


def _drop_stale(conn: sqlite3.Connection, home: Home) -> None:
    """Forget reservations of processes that are gone and left no in-flight note.

    A reservation whose note is still there waits for the recorder to record its run
    ``interrupted`` with the spend it noted (:meth:`~.recorder.Recorder.recover`); that
    record settles it.
    """
    rows = conn.execute("SELECT record_id, pid, token FROM reservations").fetchall()
    for record_id, pid, token in rows:
        if is_alive(int(pid), str(token)):
            continue
        if (home.state_dir / "inflight" / f"{record_id}.json").exists():
            continue
        conn.execute("DELETE FROM reservations WHERE record_id = ?", (record_id,))


def _check_overlap(conn: sqlite3.Connection, task_id: str) -> None:
    row = conn.execute(
        "SELECT record_id, pid, created_at FROM reservations WHERE task_id = ? AND stored = 1 "
        "ORDER BY created_at LIMIT 1",
        (task_id,),
    ).fetchone()
    if row is not None:
        raise SkipRun(
            f"already running: {task_id} started {row[2]} (pid {row[1]}, record {row[0]}); "
            "a task never runs twice at once"
        )


def _day_state(conn: sqlite3.Connection, day: str) -> DayState:
    made = conn.execute(
        "SELECT content, ebooks, cost_usd FROM day_totals WHERE day = ?", (day,)
    ).fetchone() or (0, 0, 0.0)
    held = tuple(
        Held(*row)
        for row in conn.execute(
            "SELECT record_id, task_id, category, type, pid, created_at, cost_usd, spent_usd "
            "FROM reservations WHERE day = ? ORDER BY created_at",
            (day,),
        ).fetchall()
    )
    rows = conn.execute(
        "SELECT coalesce(sum(content), 0), coalesce(sum(ebooks), 0) FROM reservations "
        "WHERE day = ?",
        (day,),
    ).fetchone()
    return DayState(
        day=day,
        content=int(made[0]),
        ebooks=int(made[1]),
        spent_usd=round(float(made[2]), 8),
        reserved_content=int(rows[0]),
        reserved_ebooks=int(rows[1]),
        reserved_usd=round(sum(max(h.cost_usd, h.spent_usd) for h in held), 8),
        running=held,
    )


def _check_quota(ws: Workspace, state: DayState, *, ebooks: bool, today: str) -> None:
    cfg = ws.config
    running = f" ({state.reserved_content} of them in progress)" if state.reserved_content else ""
    if state.content_total >= cfg.max_daily_content:
        raise SkipRun(
            f"max_daily_content reached: {state.content_total} of {cfg.max_daily_content} "
            f"content items made today ({today}){running}; raise max_daily_content in "
            "config.json or wait until tomorrow"
        )
    if ebooks and state.ebooks_total >= cfg.max_daily_ebooks:
        raise SkipRun(
            f"max_daily_ebooks reached: {state.ebooks_total} of {cfg.max_daily_ebooks} ebooks "
            f"made today ({today}); raise max_daily_ebooks in config.json or wait until "
            "tomorrow"
        )
