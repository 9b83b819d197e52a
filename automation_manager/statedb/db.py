"""The state database: one SQLite file, ``.mp/state/amgr.db``, that the engine decides from.

The run log stays the source of truth for what happened. This database is what admission
reads and writes under one lock: today's quota counts and spend (a view of the log, kept
up to date by :mod:`.feed`), each task's last status, and the reservations of runs in
progress. It is opened in WAL mode so readers never wait for the writer, and every
decision is one ``BEGIN IMMEDIATE`` transaction, so concurrent processes (the daemon and
any number of ``amgr exec-now``) are serialised by SQLite itself.

The schema is versioned in code (:data:`MIGRATIONS`, ``PRAGMA user_version``). A file
that is missing, unreadable, damaged or from a newer amgr is set aside and rebuilt from
the log; nothing in it is precious.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from ..fsutil import ensure_dir
from ..home import Home

log = logging.getLogger(__name__)

DB_NAME = "amgr.db"
BUSY_TIMEOUT_MS = 30_000
"""How long a connection waits for another process's transaction before giving up."""

MIGRATIONS: tuple[str, ...] = (
    # 1: admission state.
    """
    CREATE TABLE log_cursor (
        file   TEXT PRIMARY KEY,          -- a day file's name, e.g. 2026-12-01.jsonl
        offset INTEGER NOT NULL,          -- bytes of it already applied (whole lines)
        lines  INTEGER NOT NULL DEFAULT 0 -- how many lines those bytes hold
    );
    CREATE TABLE day_totals (
        day      TEXT PRIMARY KEY,        -- YYYY-MM-DD of the records' start (their file)
        content  INTEGER NOT NULL DEFAULT 0,  -- successful content_creation runs
        ebooks   INTEGER NOT NULL DEFAULT 0,  -- of which ebooks
        cost_usd REAL    NOT NULL DEFAULT 0   -- usage.cost_usd summed over every record
    );
    CREATE TABLE task_status (
        task_id   TEXT PRIMARY KEY,
        status    TEXT NOT NULL,          -- of the newest record that is not skipped
        record_id TEXT NOT NULL,
        at        REAL NOT NULL           -- that record's start, seconds since the epoch
    );
    CREATE TABLE reservations (
        record_id TEXT PRIMARY KEY,       -- the record the run will write
        task_id   TEXT NOT NULL,
        category  TEXT NOT NULL,
        type      TEXT NOT NULL,
        day       TEXT NOT NULL,
        stored    INTEGER NOT NULL,       -- 1: a task from tasks.json (no self-overlap)
        content   INTEGER NOT NULL,       -- quota slots held
        ebooks    INTEGER NOT NULL,
        cost_usd  REAL    NOT NULL,       -- budget held: estimate x safety factor
        spent_usd REAL    NOT NULL DEFAULT 0,  -- usage so far (from the run's model calls)
        prompt_tokens     INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        calls     INTEGER NOT NULL DEFAULT 0,
        pid       INTEGER NOT NULL,
        token     TEXT NOT NULL,          -- the process's identity (see procs.own_token)
        created_at TEXT NOT NULL
    );
    CREATE INDEX reservations_task ON reservations(task_id);
    """,
    # 2: the content pipeline's items (pipeline/store.py) and the run locks (runs/lock.py).
    # Unlike the admission tables these are not a view of the log: reset() keeps them.
    """
    CREATE TABLE pl_keywords (
        id         INTEGER PRIMARY KEY,
        task_id    TEXT NOT NULL,            -- the pipeline task
        keyword    TEXT NOT NULL,            -- as first given
        norm       TEXT NOT NULL,            -- case, space and plural folded (dedup key)
        volume     INTEGER,
        difficulty REAL,
        intent     TEXT,
        status     TEXT NOT NULL DEFAULT 'new',  -- new | clustered | disabled
        cluster_id INTEGER,
        created_at TEXT NOT NULL,
        UNIQUE (task_id, norm)
    );
    CREATE INDEX pl_keywords_status ON pl_keywords(task_id, status);
    CREATE TABLE pl_clusters (
        id         INTEGER PRIMARY KEY,
        task_id    TEXT NOT NULL,
        name       TEXT NOT NULL,
        intent     TEXT,
        keywords   TEXT NOT NULL,            -- JSON list, kept when a keyword goes away
        status     TEXT NOT NULL DEFAULT 'new',  -- new | ideas | disabled
        run_id     TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX pl_clusters_status ON pl_clusters(task_id, status);
    CREATE TABLE pl_ideas (
        id             INTEGER PRIMARY KEY,
        task_id        TEXT NOT NULL,
        cluster_id     INTEGER NOT NULL,
        title          TEXT NOT NULL,
        angle          TEXT NOT NULL,
        target_keyword TEXT NOT NULL,
        outline        TEXT NOT NULL,        -- JSON list of headings
        status         TEXT NOT NULL DEFAULT 'new',  -- new | queued
        run_id         TEXT,
        created_at     TEXT NOT NULL
    );
    CREATE INDEX pl_ideas_status ON pl_ideas(task_id, status);
    CREATE TABLE pl_tasks (
        id         INTEGER PRIMARY KEY,
        task_id    TEXT NOT NULL,
        idea_id    INTEGER NOT NULL UNIQUE,
        cluster_id INTEGER NOT NULL,
        title      TEXT NOT NULL,
        keywords   TEXT NOT NULL,            -- JSON list
        words      INTEGER NOT NULL,
        status     TEXT NOT NULL DEFAULT 'queued',  -- queued | written | prompted | imaged | review
        content_id TEXT,
        run_id     TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX pl_tasks_status ON pl_tasks(task_id, status);
    CREATE TABLE pl_image_prompts (
        id         INTEGER PRIMARY KEY,
        task_id    TEXT NOT NULL,
        article_id INTEGER NOT NULL,         -- pl_tasks.id
        content_id TEXT NOT NULL,
        role       TEXT NOT NULL,            -- featured_image | inline_image
        position   INTEGER NOT NULL,
        prompt     TEXT NOT NULL,
        size       TEXT NOT NULL,
        status     TEXT NOT NULL DEFAULT 'new',  -- new | done
        created_at TEXT NOT NULL,
        UNIQUE (article_id, role, position)
    );
    CREATE INDEX pl_prompts_status ON pl_image_prompts(task_id, status);
    CREATE TABLE pl_images (
        id         INTEGER PRIMARY KEY,
        prompt_id  INTEGER NOT NULL UNIQUE,
        task_id    TEXT NOT NULL,
        content_id TEXT NOT NULL,
        path       TEXT NOT NULL,            -- relative to the content item's folder
        width      INTEGER NOT NULL,
        height     INTEGER NOT NULL,
        run_id     TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE pl_runs (
        run_id     TEXT PRIMARY KEY,
        task_id    TEXT NOT NULL,
        snapshot   TEXT NOT NULL,            -- JSON: pending per stage when the run began
        stages     TEXT NOT NULL,            -- JSON: stage name -> result fields
        estimate_usd REAL NOT NULL DEFAULT 0,
        cost_usd   REAL NOT NULL DEFAULT 0,
        prompt_tokens     INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        started_at TEXT NOT NULL
    );
    CREATE INDEX pl_runs_task ON pl_runs(task_id);
    CREATE TABLE run_locks (
        task_id  TEXT PRIMARY KEY,           -- one run at a time per task
        run_id   TEXT NOT NULL,
        taken_at TEXT NOT NULL
    );
    """,
)
"""Schema steps; ``MIGRATIONS[n]`` takes a database from version ``n`` to ``n + 1``."""

SCHEMA_VERSION = len(MIGRATIONS)

KEPT_PREFIXES = ("pl_", "run_locks")
"""Tables that hold facts of their own (not rebuilt from the log): :meth:`StateDB.reset`
leaves them alone."""


def db_path(home: Home) -> Path:
    return home.state_dir / DB_NAME


class StateDB:
    """A connection to one home's state database (one per thread that uses it).

    :param home: the home.
    :param path: another file (tests); ``":memory:"`` gives a private, throw-away state.
    """

    def __init__(self, home: Home, path: Path | str | None = None) -> None:
        self.home = home
        self.path = path if path is not None else db_path(home)
        self.fresh = False
        """True when this open created the schema (the caller rebuilds from the log)."""
        self.conn = self._open()

    def _open(self) -> sqlite3.Connection:
        memory = self.path == ":memory:"
        if not memory:
            ensure_dir(Path(self.path).parent)
        try:
            conn = self._connect()
            version = self._migrate(conn)
        except sqlite3.DatabaseError as exc:
            if memory:
                raise
            self._set_aside(exc)
            conn = self._connect()
            version = self._migrate(conn)
        self.fresh = version == 0
        return conn

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            str(self.path),
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,  # shared by the daemon's workers, under a lock
        )
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if self.path != ":memory:":
            with contextlib.suppress(OSError):
                os.chmod(self.path, 0o600)
            conn.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit is durable against a crash of the process, and the log
            # plus the in-flight notes cover a power cut (the state is rebuilt from them).
            conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> int:
        """Bring the schema to :data:`SCHEMA_VERSION`; returns the version found."""
        (found,) = conn.execute("PRAGMA user_version").fetchone()
        if found > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(
                f"schema version {found} is newer than this amgr knows ({SCHEMA_VERSION})"
            )
        if found < SCHEMA_VERSION:
            conn.execute("BEGIN IMMEDIATE")
            try:
                (found,) = conn.execute("PRAGMA user_version").fetchone()
                for step in MIGRATIONS[found:]:
                    for statement in _statements(step):
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        else:
            conn.execute("SELECT count(*) FROM reservations").fetchone()  # readable?
        return int(found)

    def _set_aside(self, exc: Exception) -> None:
        """Move a damaged file (and its WAL) away so a fresh one is built from the log."""
        path = Path(self.path)
        log.warning("state: %s is unusable (%s); rebuilding it from the run log", path, exc)
        for suffix in ("", "-wal", "-shm"):
            old = path.with_name(path.name + suffix)
            with contextlib.suppress(FileNotFoundError):
                os.replace(old, old.with_name(old.name + ".damaged"))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` … ``COMMIT``: the write lock is held for the whole block,
        across threads and processes; an exception rolls everything back. A signal turned
        into an exception (exec-now's SIGTERM) right after ``BEGIN`` or during ``COMMIT``
        never leaves the write lock held: what is still open is rolled back."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def reset(self) -> None:
        """Empty every table that is a view of the log (inside a transaction), to rebuild
        the state from the log; the pipeline's items and the run locks are kept."""
        for (name,) in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall():
            if name.startswith(KEPT_PREFIXES):
                continue
            self.conn.execute(f'DELETE FROM "{name}"')

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()


def _statements(script: str) -> list[str]:
    """Split a migration into statements (they contain no ``;`` inside literals)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
