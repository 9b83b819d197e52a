"""The broker URL, the Redis keys, and which queue a task goes to."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from ..errors import ConfigError

if TYPE_CHECKING:
    import redis

    from ..config import Config, TaskSpec, Workspace
    from ..config.executor import ExecutorConfig
    from ..home import Home

T = TypeVar("T")

RUN_TASK = "amgr.run"
"""The one Celery task name: run one attempt of one amgr task."""


def broker_url(config: Config) -> str:
    """The broker URL (from ``broker_url`` or the variable ``broker_url_env`` names),
    registered as a secret (the whole URL and its password) so no record or line shows it.

    :raises ConfigError: the variable is not set.
    """
    from ..secrets import REGISTRY

    ex = config.executor
    if ex.broker_url_env:
        url = os.environ.get(ex.broker_url_env, "").strip()
        if not url:
            raise ConfigError(
                f"config.json: executor.broker_url_env: {ex.broker_url_env} is not set — "
                f"export {ex.broker_url_env}=redis://:PASSWORD@HOST:6379/0"
            )
    else:
        url = ex.broker_url or ""
    parts = urlsplit(url)
    if parts.password:
        REGISTRY.register(parts.password)
        REGISTRY.register(url)
    return url


def shown_url(url: str) -> str:
    """``url`` without its password, for status lines."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{host}{port}").geturl()


def redis_client(url: str, *, timeout: float = 2.0) -> redis.Redis:
    """A Redis client on the broker (short timeouts: a scheduler never hangs on it)."""
    import redis

    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=10,
        decode_responses=True,
    )


class Keys:
    """Every Redis key of one namespace (``executor.namespace``: one per home)."""

    def __init__(self, namespace: str) -> None:
        self.ns = namespace

    def queue(self, name: str) -> str:
        """The Celery/kombu queue (also its Redis list key)."""
        return f"{self.ns}.{name}"

    def claim(self, record_id: str) -> str:
        """Held (with a short TTL kept alive by the worker's heartbeat) while a run executes."""
        return f"{self.ns}:run:{record_id}:claim"

    def started(self, record_id: str) -> str:
        """Set when a worker started the run: a redelivered message never starts it again."""
        return f"{self.ns}:run:{record_id}:started"

    def closed(self, record_id: str) -> str:
        """Set when the scheduler recorded the run without the worker's answer."""
        return f"{self.ns}:run:{record_id}:closed"

    def cancel(self, record_id: str) -> str:
        """Set when the scheduler asks the worker to stop the run (timeout, shutdown)."""
        return f"{self.ns}:run:{record_id}:cancel"

    def claims(self) -> str:
        return f"{self.ns}:run:*:claim"

    def worker(self, name: str) -> str:
        """A worker's heartbeat hash (name, queues, concurrency, pid, beat)."""
        return f"{self.ns}:worker:{name}"

    def workers(self) -> str:
        return f"{self.ns}:worker:*"

    def leader(self) -> str:
        return f"{self.ns}:leader"

    def fence(self) -> str:
        return f"{self.ns}:fence"


def queue_names(ex: ExecutorConfig) -> list[str]:
    """Every queue name this configuration routes to (the defaults and its own)."""
    from ..config.executor import QUEUES

    return sorted({*QUEUES, *ex.queues})


def queue_for(spec: TaskSpec, ex: ExecutorConfig) -> str:
    """The queue ``spec``'s runs go to: ``executor.queues`` by task id, then by type
    (``shorts`` or ``category/type``); else ``llm`` for a model-calling type, ``render``
    for a video type, ``default`` otherwise."""
    from ..tasktypes import REGISTRY

    names = (spec.id, f"{spec.category.value}/{spec.type}", spec.type)
    for name in names:
        for queue, members in ex.queues.items():
            if name in members:
                return queue
    kind = REGISTRY.get(spec.category, spec.type)
    if "video" in spec.type or "render" in spec.type:
        return "render"
    return "llm" if kind.calls_model else "default"


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (Celery's JSON serializer sends it)."""
    import json

    return json.loads(json.dumps(value, default=str))


_per_namespace: dict[tuple[str, str, str], Any] = {}


def for_namespace(
    home: Home, ws: Workspace | None, build: Callable[[redis.Redis, str], T]
) -> T | None:
    """One ``build(client, namespace)`` per broker and namespace of ``home``'s executor
    (None: the executor is local).

    :param ws: the loaded home; None: config.json is looked at, and loaded only when it
        asks for celery.
    """
    if ws is None:
        from .lease import _wants_celery

        if not _wants_celery(home):
            return None
        from ..config import load_workspace

        try:
            ws = load_workspace(home)
        except ConfigError:
            return None
    ex = ws.config.executor
    if not ex.distributed:
        return None
    url = broker_url(ws.config)
    key = (getattr(build, "__qualname__", repr(build)), url, ex.namespace)
    found = _per_namespace.get(key)
    if found is None:
        found = _per_namespace[key] = build(redis_client(url), ex.namespace)
    return found
