"""config.json ``executor``: where runs execute.

``{"kind": "local"}`` (the default) is the daemon's own thread pool. ``{"kind":
"celery", ...}`` sends each run to Celery workers over Redis (``amgr worker``); see
:mod:`automation_manager.distributed`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Literal

import annotated_types as at

from .base import After, Model, Pattern
from .limits import Name, Url

QUEUES = ("default", "llm", "render")
"""The queues a task type goes to unless ``queues`` says otherwise."""
_QUEUE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def _queue_names(value: dict[str, list[str]]) -> dict[str, list[str]]:
    for name in value:
        if not _QUEUE_NAME.match(name):
            raise ValueError(
                f"queue name {name!r} is not lower-case letters, digits, '-' or '_' "
                "(1-40, starting with a letter) — rename it, e.g. 'render'"
            )
    seen: dict[str, str] = {}
    for name, members in value.items():
        for member in members:
            if member in seen and seen[member] != name:
                raise ValueError(
                    f"{member!r} is routed to both {seen[member]!r} and {name!r} — "
                    "keep it in one queue"
                )
            seen[member] = name
    return value


@dataclass(kw_only=True)
class ExecutorConfig(Model):
    """Where runs execute. See the module docstring."""

    kind: Literal["local", "celery"] = "local"
    broker_url: Url | None = None
    """``redis://host:port/db``; a password belongs in ``broker_url_env``."""
    broker_url_env: Name | None = None
    """The environment variable holding the broker URL (one with a password in it)."""
    queues: Annotated[dict[str, list[Name]], After(_queue_names)] = field(default_factory=dict)
    """queue name → task types (``shorts``) or task ids routed to it."""
    max_in_flight: Annotated[int, at.Ge(1), at.Le(1024)] = 16
    """How many runs the scheduler keeps sent and unfinished at once (all workers)."""
    visibility_timeout_s: Annotated[float, at.Ge(10), at.Le(86_400)] = 120.0
    """An unacknowledged message comes back to the queue after this long."""
    heartbeat_s: Annotated[float, at.Ge(0.1), at.Le(30)] = 1.0
    """How often a worker says a run is alive; lost after 5 missed beats."""
    lease_s: Annotated[float, at.Ge(2), at.Le(60)] = 10.0
    """The scheduler lease: a standby takes over at most this long after a leader died."""
    namespace: Annotated[str, Pattern(r"^[A-Za-z0-9_.-]{1,64}$")] = "amgr"
    """Prefix of every Redis key and queue: one per home sharing a Redis."""

    def __post_init__(self) -> None:
        if self.kind == "celery":
            if not self.broker_url and not self.broker_url_env:
                raise ValueError(
                    'kind "celery" needs a broker — add "broker_url": '
                    '"redis://127.0.0.1:6379/0" or "broker_url_env": "AMGR_BROKER_URL"'
                )
            if self.broker_url and self.broker_url_env:
                raise ValueError(
                    "broker_url and broker_url_env are both set — keep one (a URL with a "
                    "password belongs in the environment variable)"
                )
            if self.broker_url and not self.broker_url.startswith(("redis://", "rediss://")):
                raise ValueError(
                    f"broker_url {self.broker_url!r} is not a redis:// URL — amgr runs on "
                    "Celery over Redis: use redis://HOST:PORT/DB"
                )

    @property
    def distributed(self) -> bool:
        return self.kind == "celery"

    def slots(self, local: int) -> int:
        """How many runs the scheduler's pool holds at once (``local``: the thread pool's)."""
        return self.max_in_flight if self.distributed else local
