"""The Celery app of one home, built lazily: ``celery`` is imported only here.

Settings that keep amgr's promises on Celery:

- ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged after
  its run, so a worker that dies mid-run leaves it to be delivered again (the run's
  ``started`` key then makes the new worker refuse it: the scheduler records the first
  attempt ``interrupted``; a message that never started runs elsewhere).
- ``visibility_timeout`` (``executor.visibility_timeout_s``, default 120 s instead of
  Redis' one hour): how soon an unacknowledged message of a dead worker comes back.
- ``worker_prefetch_multiplier = 1``: a worker holds no more messages than it has slots,
  so a killed worker strands nothing that could run elsewhere.
- results over the Redis result backend (:mod:`.backend`: polled, never subscribed),
  JSON only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config.base import dump
from .settings import RUN_TASK, Keys

if TYPE_CHECKING:
    from celery import Celery

    from ..config.executor import ExecutorConfig


def build_app(url: str, ex: ExecutorConfig, *, home: str | None = None) -> Celery:
    """A Celery app on broker ``url`` for ``ex``, with amgr's one task registered.

    :param home: the home a worker runs tasks of (unset on the scheduler).
    """
    from celery import Celery

    keys = Keys(ex.namespace)
    app = Celery(
        f"amgr-{ex.namespace}",
        broker=url,
        backend="automation_manager.distributed.backend:PolledRedisBackend",
        set_as_current=False,
    )
    app.conf.amgr_result_url = url
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_track_started=False,
        result_expires=86_400,
        task_default_queue=keys.queue("default"),
        task_create_missing_queues=True,  # amgr worker --queues names them
        broker_transport_options={
            "visibility_timeout": ex.visibility_timeout_s,
            "socket_timeout": 5,
            "socket_connect_timeout": 5,
        },
        result_backend_transport_options={"socket_timeout": 5},
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=1.0,
        broker_connection_max_retries=None,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        worker_enable_remote_control=True,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    app.conf.amgr_home = home
    app.conf.amgr_executor = dump(ex)

    @app.task(name=RUN_TASK, bind=True, acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]
    def run(self: Any, payload: dict[str, Any]) -> dict[str, Any]:
        from .worker import run_payload

        return run_payload(self.app, payload, hostname=str(self.request.hostname or "worker"))

    return app
