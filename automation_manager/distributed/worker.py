"""The worker side: ``amgr worker`` and the body of the ``amgr.run`` Celery task.

A run on a worker:

1. claims its firing atomically (:data:`CLAIM`): a run the scheduler already closed, or
   one another worker started (a message delivered again after a worker died), is
   refused without a result (``Ignore``), so one firing never runs twice;
2. keeps its claim alive every ``heartbeat_s`` (the scheduler records it
   ``interrupted`` once the beat stops) and watches its cancel key (the scheduler's
   timeout or shutdown sets it; the run stops like a local one);
3. runs the attempt through :func:`~automation_manager.engine.runner.perform_run` on
   the worker's copy of the home, admission already done by the scheduler, and answers
   with the masked record; the scheduler writes it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config.base import validate
from ..config.executor import ExecutorConfig
from ..engine.admission import Admission
from ..logs.records import Usage
from .settings import Keys, broker_url, queue_names, redis_client

if TYPE_CHECKING:
    import redis
    from celery import Celery

    from ..config import Workspace
    from ..home import Home
    from .reserve import RedisReservations

log = logging.getLogger("amgr.worker")

CLAIM = """
if redis.call('exists', KEYS[1]) == 1 then return 'closed' end
if redis.call('exists', KEYS[3]) == 1 then return 'started' end
redis.call('set', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('set', KEYS[3], ARGV[1], 'PX', ARGV[3])
return 'ok'
"""
"""KEYS: closed, claim, started; ARGV: holder, claim ttl ms, started ttl ms."""
STARTED_TTL_MS = 3 * 86_400_000
LOST_AFTER_BEATS = 5
"""A run whose worker missed this many heartbeats is lost."""
ANSWER_GRACE_MS = 60_000
"""After its answer, the claim stays this long: the result is stored after the task
returns, and the scheduler must never see neither."""
ANSWERED = "answered"


class _Admitted(Admission):
    """The worker's admission: the scheduler admitted (and reserved for) the run; what
    the run spends so far goes to its reservation in Redis (a killed run's counts)."""

    forward: RedisReservations | None = None

    def admit(self, *args: Any, **kwargs: Any) -> None:
        return None

    def remote(self, ws: Workspace | None = None) -> RedisReservations | None:
        return None  # the scheduler settles; a worker never does

    def progress(self, record_id: str, usage: Usage) -> None:
        if self.forward is not None:
            self.forward.progress(record_id, usage)


class Heartbeat:
    """Keeps a run's claim alive and turns its cancel key into the run's cancel event."""

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        record_id: str,
        interval: float,
        cancel: threading.Event,
    ) -> None:
        self._client = client
        self._claim = keys.claim(record_id)
        self._cancel_key = keys.cancel(record_id)
        self._interval = interval
        self._ttl_ms = int(interval * LOST_AFTER_BEATS * 1000)
        self._cancel = cancel
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="amgr-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        try:
            # still "running" for the scheduler until the result is stored; not active
            self._client.set(self._claim, ANSWERED, px=ANSWER_GRACE_MS, xx=True)
        except Exception as exc:
            log.warning("heartbeat: could not keep the claim of the answer: %s", exc)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                pipe = self._client.pipeline()
                pipe.pexpire(self._claim, self._ttl_ms)
                pipe.exists(self._cancel_key)
                _, cancelled = pipe.execute()
                if cancelled:
                    self._cancel.set()
            except Exception as exc:  # the broker is away: the run goes on
                log.warning("heartbeat: broker unreachable (%s)", exc)


_cache: dict[str, tuple[tuple[float, ...], Workspace]] = {}
_cache_lock = threading.Lock()


def _workspace(home: Home) -> Workspace:
    """The worker's copy of the home, read again when one of its files changed."""
    from ..config import load_workspace

    paths = (home.config_path, home.tasks_path, home.schedules_path)
    stamp = tuple(p.stat().st_mtime_ns if p.exists() else 0.0 for p in paths)
    with _cache_lock:
        hit = _cache.get(str(home.root))
        if hit is not None and hit[0] == stamp:
            return hit[1]
    ws = load_workspace(home)
    with _cache_lock:
        _cache[str(home.root)] = (stamp, ws)
    return ws


def run_payload(app: Celery, payload: dict[str, Any], *, hostname: str) -> dict[str, Any]:
    """Run one attempt a scheduler sent (see the module docstring)."""
    from celery.exceptions import Ignore

    from ..engine.clock import system_clock
    from ..engine.recorder import Recorder
    from ..engine.runner import RunRequest, perform_run
    from ..engine.state import StateStore
    from ..enums import Trigger
    from ..home import Home
    from ..secrets import secret_values

    picked = time.time()
    home = Home(Path(app.conf.amgr_home))
    ex = validate(ExecutorConfig, app.conf.amgr_executor)
    keys = Keys(ex.namespace)
    record_id = str(payload["record_id"])
    client = _client(app)
    holder = f"{hostname}|{os.getpid()}"
    ttl_ms = int(ex.heartbeat_s * LOST_AFTER_BEATS * 1000)
    state = client.eval(
        CLAIM,
        3,
        keys.closed(record_id),
        keys.claim(record_id),
        keys.started(record_id),
        holder,
        ttl_ms,
        STARTED_TTL_MS,
    )
    if state != "ok":
        log.warning(
            "run %s of %s not started: %s",
            record_id,
            payload.get("task_id"),
            "the scheduler already recorded it"
            if state == "closed"
            else "it started before on a worker that stopped (recorded interrupted)",
        )
        raise Ignore()
    cancel = threading.Event()
    beat = Heartbeat(client, keys, record_id, ex.heartbeat_s, cancel)
    beat.start()
    from . import artifacts

    _install(client, ex.namespace)
    shared = artifacts.same_home(home, payload)
    since_ns = time.time_ns()
    try:
        if not shared:
            artifacts.place_run_files(home, payload.get("runs"))
        ws = _workspace(home)
        spec = ws.task(str(payload["task_id"]))
        if spec is None:
            raise LookupError(
                f"task {payload['task_id']} is not in this worker's tasks.json "
                f"({home.tasks_path}) — give the worker the home's three files"
            )
        scheduled = payload.get("scheduled_for")
        req = RunRequest(
            spec=spec,
            trigger=Trigger(payload["trigger"]),
            scheduled_for=datetime.fromisoformat(scheduled) if scheduled else None,
            attempt=int(payload["attempt"]),
            record_id=record_id,
        )
        clock = system_clock(ws.timezone_name)
        from .reserve import RedisReservations

        admitted = _Admitted(home, path=":memory:")
        admitted.forward = RedisReservations(client, keys)
        recorder = Recorder(
            home,
            state=StateStore(home),
            admission=admitted,
            secrets=lambda: secret_values(ws.config),
            clock=clock,
        )
        attempt = perform_run(ws, req, recorder=recorder, clock=clock, cancel=cancel)
        record = recorder.masked(attempt.record)
        files = None if shared else artifacts.collect(home, since_ns)
    finally:
        beat.stop()
    return {
        "record": record.to_json(),
        "artifacts": files,
        "retryable": attempt.retryable,
        "retry_after": attempt.retry_after,
        "worker": hostname,
        "sent_at": payload.get("sent_at"),
        "picked_at": picked,
    }


_installed: set[str] = set()


def _install(client: redis.Redis, namespace: str) -> None:
    """Once per worker process: run control and the publish ledger go through Redis."""
    if namespace in _installed:
        return
    from ..publishers import ledger
    from .control import RunControl, install_worker_control
    from .pairs import RedisPairs

    install_worker_control(RunControl(client, namespace))
    pairs = RedisPairs(client, namespace)
    ledger.REMOTE = lambda _home: pairs
    _installed.add(namespace)


_clients: dict[str, redis.Redis] = {}


def _client(app: Celery) -> redis.Redis:
    url = str(app.conf.broker_url)
    client = _clients.get(url)
    if client is None:
        client = _clients[url] = redis_client(url, timeout=5.0)
    return client


# -- amgr worker ---------------------------------------------------------------------------


def worker_name(name: str | None) -> str:
    return name or f"amgr-{os.getpid()}@{socket.gethostname()}"


def start_worker(
    ws: Workspace,
    *,
    queues: list[str] | None,
    concurrency: int | None,
    pool: str,
    name: str | None,
    loglevel: str = "INFO",
) -> None:
    """Run a Celery worker for ``ws``'s home until it is stopped (SIGTERM: warm shutdown).

    :param queues: queue names (``llm``, ``render``, ``default`` or configured ones);
        None: every queue.
    """
    ex = ws.config.executor
    url = broker_url(ws.config)
    known = queue_names(ex)
    chosen = queues or known
    keys = Keys(ex.namespace)
    from .app import build_app

    app = build_app(url, ex, home=str(ws.home.root))
    hostname = worker_name(name)
    slots = concurrency or os.cpu_count() or 1
    beat = WorkerBeat(redis_client(url), keys, hostname, chosen, slots)
    beat.start()
    argv = [
        "worker",
        "--queues",
        ",".join(keys.queue(q) for q in chosen),
        "--concurrency",
        str(slots),
        "--pool",
        pool,
        "--hostname",
        hostname,
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
    ]
    try:
        app.worker_main(argv=argv)
    finally:
        beat.stop()


class WorkerBeat:
    """The worker's own heartbeat in Redis (``amgr status`` lists live workers from it)."""

    EVERY_S = 2.0
    TTL_S = 10

    def __init__(
        self, client: redis.Redis, keys: Keys, name: str, queues: list[str], slots: int
    ) -> None:
        self._client = client
        self._key = keys.worker(name)
        self._fields = {
            "name": name,
            "queues": ",".join(queues),
            "concurrency": str(slots),
            "pid": str(os.getpid()),
            "host": socket.gethostname(),
            "started": str(time.time()),
        }
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="amgr-worker-beat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        try:
            self._client.delete(self._key)
        except Exception:
            log.debug("worker beat: could not remove %s", self._key)

    def _loop(self) -> None:
        while True:
            try:
                pipe = self._client.pipeline()
                beat: dict[Any, Any] = {**self._fields, "beat": str(time.time())}
                pipe.hset(self._key, mapping=beat)
                pipe.expire(self._key, self.TTL_S)
                pipe.execute()
            except Exception as exc:
                log.warning("worker beat: broker unreachable (%s)", exc)
            if self._stop.wait(self.EVERY_S):
                return
