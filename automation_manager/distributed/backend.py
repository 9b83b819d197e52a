"""The result backend: Celery's Redis backend, polled, never subscribed.

The scheduler reads each run's result with one GET at a time
(:mod:`.remote`). Celery's Redis backend would also subscribe to every sent task's
result channel, and its subscriber gives up for good ("The Celery application must be
restarted") after a broker outage; a scheduler must outlive outages. Imported only by
Celery, when a distributed app makes its backend.
"""

from __future__ import annotations

from typing import Any

from celery.backends.redis import RedisBackend


class PolledRedisBackend(RedisBackend):  # type: ignore[misc]
    """Celery's Redis result backend without the per-task subscription."""

    def __init__(self, *args: Any, url: str | None = None, **kwargs: Any) -> None:
        app = kwargs["app"]
        super().__init__(*args, url=url or app.conf.amgr_result_url, **kwargs)

    def on_task_call(self, producer: object, task_id: str) -> None:
        return None
