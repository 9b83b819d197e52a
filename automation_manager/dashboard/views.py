"""The dashboard's documents: the same JSON as the CLI's ``--json``, from the same calls.

Each function returns what the matching command prints with ``--json`` (``status``,
``history``, ``history show``, ``runs list|show``, ``content list|show``, ``tasks
list|show``); the HTML pages render from these documents, so a page and its JSON can
never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, Problem, UsageError

if TYPE_CHECKING:
    from ..config import TaskSpec
    from ..logs.history import HistoryQuery
    from ..manager import AutomationManager
    from ..publishers.queue import ContentQueue
    from ..runs.store import RunStore

PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
STATUSES = ("success", "failed", "interrupted", "skipped")


def status(mgr: AutomationManager) -> dict[str, Any]:
    """``amgr status --json``."""
    from ..engine.overview import status_report

    return status_report(mgr.workspace, mgr.now()).to_json()


@dataclass(frozen=True)
class HistoryParams:
    """The filters of ``amgr history`` as the History page takes them (query string)."""

    days: int = 7
    category: str | None = None
    type: str | None = None
    task: str | None = None
    status: str | None = None
    text: str | None = None
    since: str | None = None
    until: str | None = None
    limit: int = PAGE_SIZE
    page: int = 1

    @classmethod
    def parse(cls, query: dict[str, str]) -> HistoryParams:
        """From a query string; bad values are a :class:`UsageError` naming the field."""

        def number(name: str, default: int, low: int, high: int) -> int:
            raw = query.get(name, "").strip()
            if not raw:
                return default
            if not raw.isdigit() or not low <= int(raw) <= high:
                raise UsageError(f"{name}={raw}: expected a whole number {low}..{high}")
            return int(raw)

        def text(name: str) -> str | None:
            value = query.get(name, "").strip()
            return value[:200] or None

        state = text("status")
        if state is not None and state not in STATUSES:
            raise UsageError(f"status={state}: expected one of {', '.join(STATUSES)}")
        return cls(
            days=number("days", 7, 1, 3660),
            category=text("category"),
            type=text("type"),
            task=text("task"),
            status=state,
            text=text("text") or text("grep"),
            since=text("since"),
            until=text("until"),
            limit=number("limit", PAGE_SIZE, 1, MAX_PAGE_SIZE),
            page=number("page", 1, 1, 1_000_000),
        )

    def query(self, now: datetime) -> HistoryQuery:
        from ..logs.history import HistoryQuery, OptionNames

        return HistoryQuery.from_options(
            now,
            OptionNames({"grep": "text", "task_id": "task"}, flags=False),
            since=self.since,
            until=self.until,
            status=self.status,
            grep=self.text,
            days=self.days,
            category=self.category,
            type=self.type,
            task_id=self.task,
        )

    def link(self, **change: Any) -> str:
        """This page's query string with ``change`` applied (empty values left out)."""
        from urllib.parse import urlencode

        values = {**self.__dict__, **change}
        defaults = HistoryParams().__dict__
        kept = {k: v for k, v in values.items() if v not in (None, "") and v != defaults[k]}
        return "?" + urlencode(kept) if kept else "?"


def history(mgr: AutomationManager, params: HistoryParams) -> dict[str, Any]:
    """``amgr history --json --limit N`` for page 1; later pages skip ``N × (page-1)``.

    The records are the newest first, as stored; ``summary`` counts every match.
    """
    from ..logs.history import HistoryScan
    from ..logs.reader import remember_indexes

    remember_indexes()  # a long-lived process: the next query reads no index file
    now = mgr.now()
    if now.tzinfo is None:
        now = now.astimezone()
    scan = HistoryScan(mgr.home, params.query(now), now)
    skip = params.limit * (params.page - 1)
    records: list[dict[str, Any]] = []
    for day, rows in scan:  # finish the scan: the summary counts every matching record
        chosen = range(day.index.rows) if rows is None else rows
        if len(records) >= params.limit or skip >= len(chosen):
            skip -= min(skip, len(chosen))
            continue
        for row in chosen[skip : skip + params.limit - len(records)]:
            records.append(day.record(row))
        skip = 0
    return {"records": records, "summary": scan.summary().to_json()}


def record(mgr: AutomationManager, record_id: str) -> dict[str, Any]:
    """``amgr history show RECORD --json``."""
    from ..logs.lookup import find_record

    return find_record(mgr.home, record_id, mgr.now().astimezone().tzinfo)


def run_store(mgr: AutomationManager) -> RunStore:
    from ..runs.store import RunStore

    return RunStore(mgr.workspace.home)


def runs(mgr: AutomationManager, phase: str | None = None) -> dict[str, Any]:
    """``amgr runs list [--status S] --json``."""
    from ..runs.view import run_view

    store = run_store(mgr)
    return {
        "runs": [run_view(r, store.home) for r in store.all() if phase in (None, r.status.value)]
    }


def run(mgr: AutomationManager, run_id: str) -> dict[str, Any]:
    """``amgr runs show RUN --json``."""
    from ..runs.view import run_view

    store = run_store(mgr)
    return run_view(store.get(store.resolve(run_id)), store.home)


def attempts(mgr: AutomationManager, run_doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of a run's attempts (status, tokens, cost), read through the log
    index from the run's start on, for the run page."""
    from ..logs.history import HistoryQuery, HistoryScan

    now = mgr.now().astimezone()
    since = datetime.fromisoformat(str(run_doc["started_at"])) - timedelta(minutes=1)
    wanted = set(run_doc["attempts"])
    scan = HistoryScan(mgr.home, HistoryQuery(since=since, task_id=run_doc["task_id"]), now)
    found: list[dict[str, Any]] = []
    for day, rows in scan:
        for row in range(day.index.rows) if rows is None else rows:
            rec = day.record(row)
            if rec.get("id") in wanted or rec.get("run_id") == run_doc["id"]:
                found.append(rec)
    return found[::-1]


def queue(mgr: AutomationManager) -> ContentQueue:
    from ..publishers.queue import ContentQueue

    return ContentQueue(mgr.workspace, mgr.now)


def content(mgr: AutomationManager, state: str | None, kind: str | None) -> dict[str, Any]:
    """``amgr content list [--status S] [--type K] --json``."""
    q = queue(mgr)
    return {"items": [q.view(i) for i in q.items(state or None, kind or None)]}


def item(mgr: AutomationManager, item_id: str) -> dict[str, Any]:
    """``amgr content show ID --json``."""
    q = queue(mgr)
    return q.view(q.get(q.store.resolve(item_id)))


def tasks(mgr: AutomationManager, category: str | None = None) -> dict[str, Any]:
    """``amgr tasks list [--category C] --json``."""
    from ..engine.taskview import list_doc

    return list_doc(mgr, category)


def task(mgr: AutomationManager, task_id: str) -> dict[str, Any]:
    """``amgr tasks show ID --json``."""
    from ..engine.taskview import show_doc

    return show_doc(mgr, find_spec(mgr, task_id))


def find_spec(mgr: AutomationManager, task_id: str) -> TaskSpec:
    """The stored task ``task_id``, or the CLI's error for an unknown id."""
    from ..home import TASKS_FILE

    spec = mgr.workspace.task(task_id)
    if spec is None:
        raise ConfigError(
            Problem(TASKS_FILE, task_id, "no task with this id", "see `amgr tasks list`")
        )
    return spec


def last_results(mgr: AutomationManager) -> dict[str, dict[str, Any]]:
    """Each task's newest record of the last 30 days (for the Tasks page)."""
    out: dict[str, dict[str, Any]] = {}
    for rec in history(mgr, HistoryParams(days=30, limit=200))["records"]:
        out.setdefault(str(rec.get("task_id")), rec)
    return out


def failures(mgr: AutomationManager, count: int = 5) -> list[dict[str, Any]]:
    """The newest failed or interrupted records of the last 30 days."""
    from ..logs.history import HistoryQuery, HistoryScan

    now = mgr.now().astimezone()
    scan = HistoryScan(mgr.home, HistoryQuery(days=30, failed_only=True), now)
    out: list[dict[str, Any]] = []
    for day, rows in scan:
        for row in range(day.index.rows) if rows is None else rows:
            out.append(day.record(row))
            if len(out) >= count:
                return out
    return out
