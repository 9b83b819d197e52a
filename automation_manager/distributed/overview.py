"""The executor as ``amgr status`` and ``amgr check`` show it: broker, workers, queues."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..reports import Report, field
from .settings import Keys, broker_url, queue_names, redis_client, shown_url

if TYPE_CHECKING:
    import redis

    from ..config import Config

PRIORITY_SEP = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)
"""kombu's Redis transport keeps priorities 3, 6 and 9 of a queue in sibling lists."""


class WorkerStatus(Report):
    """One live worker (its heartbeat is at most 10 s old)."""

    name: str
    host: str
    queues: list[str]
    concurrency: int
    active: int
    last_beat: str
    beat_age_s: float


class ExecutorStatus(Report):
    """Where runs execute; for celery, the broker, its live workers and queue depths."""

    kind: str
    broker: str | None = field(default=None, omit_none=True)
    reachable: bool | None = field(default=None, omit_none=True)
    error: str | None = field(default=None, omit_none=True)
    workers: list[WorkerStatus] = field(default_factory=list)
    queues: dict[str, int] = field(default_factory=dict)


def executor_status(config: Config) -> ExecutorStatus:
    """The executor's status (one round of Redis reads; never raises for a broker)."""
    ex = config.executor
    if not ex.distributed:
        return ExecutorStatus(kind=ex.kind)
    try:
        url = broker_url(config)
    except Exception as exc:
        return ExecutorStatus(kind=ex.kind, reachable=False, error=str(exc))
    client = redis_client(url, timeout=1.0)
    try:
        workers = live_workers(client, Keys(ex.namespace))
        depth = queue_depths(client, Keys(ex.namespace), queue_names(ex))
    except Exception as exc:
        return ExecutorStatus(kind=ex.kind, broker=shown_url(url), reachable=False, error=_why(exc))
    finally:
        client.close()
    return ExecutorStatus(
        kind=ex.kind, broker=shown_url(url), reachable=True, workers=workers, queues=depth
    )


def _why(exc: Exception) -> str:
    return f"cannot reach the broker ({type(exc).__name__}: {exc})"


def live_workers(client: redis.Redis, keys: Keys) -> list[WorkerStatus]:
    active: dict[str, int] = {}
    for key in client.scan_iter(match=keys.claims(), count=500):
        holder = client.get(key)
        if holder and "|" in str(holder):
            name = str(holder).split("|", 1)[0]
            active[name] = active.get(name, 0) + 1
    out: list[WorkerStatus] = []
    now = time.time()
    for key in sorted(client.scan_iter(match=keys.workers(), count=500)):
        data = client.hgetall(key)
        if not data:
            continue
        beat = float(data.get("beat", "0"))
        name = str(data.get("name", key))
        out.append(
            WorkerStatus(
                name=name,
                host=str(data.get("host", "")),
                queues=[q for q in str(data.get("queues", "")).split(",") if q],
                concurrency=int(data.get("concurrency", "0")),
                active=active.get(name, 0),
                last_beat=datetime.fromtimestamp(beat, UTC).isoformat(timespec="seconds"),
                beat_age_s=round(max(0.0, now - beat), 1),
            )
        )
    return out


def queue_depths(client: redis.Redis, keys: Keys, names: list[str]) -> dict[str, int]:
    pipe = client.pipeline()
    for name in names:
        base = keys.queue(name)
        pipe.llen(base)
        for step in PRIORITY_STEPS:
            pipe.llen(f"{base}{PRIORITY_SEP}{step}")
    counts = pipe.execute()
    per = 1 + len(PRIORITY_STEPS)
    return {name: sum(counts[i * per : (i + 1) * per]) for i, name in enumerate(names)}


def broker_check(config: Config) -> tuple[bool, str, list[str]]:
    """``amgr check``'s broker line: (ok, detail, live worker names)."""
    status = executor_status(config)
    if not status.reachable:
        return False, status.error or "cannot reach the broker", []
    names = [w.name for w in status.workers]
    depth = ", ".join(f"{q} {n}" for q, n in status.queues.items())
    if not names:
        return True, f"{status.broker} answers; no live worker (start `amgr worker`)", []
    return True, f"{status.broker} answers; workers: {', '.join(names)}; queued: {depth}", names
