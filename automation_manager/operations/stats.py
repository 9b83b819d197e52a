"""Task and execution statistics over the run log (``amgr stats``, the library face).

Pure over records: :func:`task_stats` and :func:`execution_stats` take record dicts (as
``history`` reads them) and return typed values whose ``to_json()`` is the ``--json``
document. :func:`read_stats` reads the last ``days`` of a home's log.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..enums import RunStatus
from ..logs.history import record_process_type as process_type_of

RAN = (RunStatus.SUCCESS.value, RunStatus.FAILED.value, RunStatus.INTERRUPTED.value)


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (``None`` for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(len(ordered) * p / 100))
    return ordered[rank - 1]


@dataclass(frozen=True)
class TaskStats:
    """One task over the window."""

    task_id: str
    category: str
    type: str
    process_type: str
    runs: int
    succeeded: int
    failed: int
    skipped: int
    success_rate: float | None
    """Succeeded over runs that ran (skips excluded); ``None`` when none ran."""
    duration_p50_ms: float | None
    duration_p95_ms: float | None
    last_status: str | None
    last_at: str | None
    items: int
    cost_usd: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ResourceUse:
    """CPU seconds and peak RSS per run, over runs that recorded them."""

    runs: int = 0
    cpu_s_total: float = 0.0
    cpu_s_mean: float | None = None
    cpu_s_max: float | None = None
    peak_rss_mb_max: float | None = None


@dataclass(frozen=True)
class ExecutionStats:
    """Every run over the window, together."""

    days: int
    since: str
    total: int
    by_status: dict[str, int]
    by_process_type: dict[str, dict[str, int]]
    runs_per_hour: float
    busiest_hour: dict[str, Any] | None
    queue_wait_p50_s: float | None
    queue_wait_p95_s: float | None
    retries: int
    cost_usd: float
    resources: ResourceUse = field(default_factory=ResourceUse)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _when(rec: dict[str, Any], key: str) -> datetime | None:
    value = rec.get(key)
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _cost(rec: dict[str, Any]) -> float:
    usage = rec.get("usage")
    return float(usage.get("cost_usd") or 0.0) if isinstance(usage, dict) else 0.0


def _items(rec: dict[str, Any]) -> int:
    result = rec.get("result")
    if rec.get("status") != "success" or not isinstance(result, dict):
        return 0
    items = result.get("items")
    if isinstance(items, int) and not isinstance(items, bool):
        return items
    return 1 if result.get("content_id") else 0


def task_stats(records: Iterable[dict[str, Any]]) -> list[TaskStats]:
    """Per task, sorted by task id."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        groups[str(rec.get("task_id"))].append(rec)
    out = []
    for task_id in sorted(groups):
        recs = sorted(groups[task_id], key=lambda r: str(r.get("timestamp")))
        statuses = Counter(str(r.get("status")) for r in recs)
        ran = [r for r in recs if r.get("status") in RAN]
        durations = [float(r.get("duration_ms") or 0) for r in ran]
        last = recs[-1]
        ok = statuses[RunStatus.SUCCESS.value]
        out.append(
            TaskStats(
                task_id=task_id,
                category=str(last.get("category")),
                type=str(last.get("type")),
                process_type=process_type_of(last),
                runs=len(recs),
                succeeded=ok,
                failed=statuses[RunStatus.FAILED.value] + statuses[RunStatus.INTERRUPTED.value],
                skipped=statuses[RunStatus.SKIPPED.value],
                success_rate=round(ok / len(ran), 4) if ran else None,
                duration_p50_ms=percentile(durations, 50),
                duration_p95_ms=percentile(durations, 95),
                last_status=str(last.get("status")),
                last_at=str(last.get("timestamp")),
                items=sum(_items(r) for r in recs),
                cost_usd=round(sum(_cost(r) for r in recs), 6),
            )
        )
    return out


def execution_stats(
    records: Iterable[dict[str, Any]], *, days: int, now: datetime
) -> ExecutionStats:
    """Totals over every record of the window."""
    recs = list(records)
    by_status = Counter(str(r.get("status")) for r in recs)
    by_type: dict[str, Counter[str]] = defaultdict(Counter)
    hours: Counter[str] = Counter()
    waits: list[float] = []
    cpu: list[float] = []
    rss: list[float] = []
    for rec in recs:
        by_type[process_type_of(rec)][str(rec.get("status"))] += 1
        started = _when(rec, "timestamp")
        if rec.get("status") in RAN and started is not None:
            hours[started.strftime("%Y-%m-%dT%H:00")] += 1
        due = _when(rec, "scheduled_for")
        if started is not None and due is not None and rec.get("status") in RAN:
            waits.append(max(0.0, (started - due).total_seconds()))
        used = rec.get("resources_used")
        if isinstance(used, dict):
            if isinstance(used.get("cpu_s"), int | float):
                cpu.append(float(used["cpu_s"]))
            if isinstance(used.get("peak_rss_mb"), int | float):
                rss.append(float(used["peak_rss_mb"]))
    ran = sum(by_status[s] for s in RAN)
    busiest = hours.most_common(1)
    return ExecutionStats(
        days=days,
        since=(now - timedelta(days=days)).isoformat(),
        total=len(recs),
        by_status=dict(sorted(by_status.items())),
        by_process_type={k: dict(sorted(v.items())) for k, v in sorted(by_type.items())},
        runs_per_hour=round(ran / (days * 24), 4),
        busiest_hour={"hour": busiest[0][0], "runs": busiest[0][1]} if busiest else None,
        queue_wait_p50_s=percentile(waits, 50),
        queue_wait_p95_s=percentile(waits, 95),
        retries=sum(1 for r in recs if r.get("trigger") == "retry"),
        cost_usd=round(sum(_cost(r) for r in recs), 6),
        resources=ResourceUse(
            runs=len(cpu),
            cpu_s_total=round(sum(cpu), 3),
            cpu_s_mean=round(sum(cpu) / len(cpu), 3) if cpu else None,
            cpu_s_max=max(cpu) if cpu else None,
            peak_rss_mb_max=max(rss) if rss else None,
        ),
    )


def read_records(home: Any, days: int, now: datetime) -> list[dict[str, Any]]:
    """The records of the last ``days`` days (archived days included)."""
    from ..logs.history import HistoryQuery, query_records

    return list(query_records(home, HistoryQuery(days=days), now))


@dataclass(frozen=True)
class Stats:
    """``amgr stats``: task and execution statistics over the same window."""

    tasks: list[TaskStats]
    execution: ExecutionStats

    def to_json(self) -> dict[str, Any]:
        return {"tasks": [t.to_json() for t in self.tasks], "execution": self.execution.to_json()}


def read_stats(home: Any, days: int, now: datetime) -> Stats:
    """Both statistics over the last ``days`` days of ``home``'s log."""
    if days < 1:
        from ..errors import UsageError

        raise UsageError(f"--days {days}: must be 1 or more, e.g. --days 7")
    records = read_records(home, days, now)
    return Stats(task_stats(records), execution_stats(records, days=days, now=now))
