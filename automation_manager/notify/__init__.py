"""Notifications: one message when something goes wrong, one when it recovers.

An *incident* is a task failing after its retries (``task:<id>``), an interrupted run
(``interrupted:<record id>``), the day's model budget reached (``budget:<date>``) or a
platform's credentials failing (``platform:<name>``). :class:`Notifier` remembers open
incidents in ``.mp/state/incidents.json`` and tells the user by e-mail (``smtp`` +
``notification_email``) and/or a signed webhook (``notification_webhook``) once per
incident, never raising into the run that caused it.

Typical use, after every finished attempt::

    Notifier(ws.home, ws.config).notify_run(record, final=no_retry_follows)
"""

from __future__ import annotations

from .events import Closing, Opening, run_event
from .incidents import (
    Incident,
    IncidentKind,
    IncidentStore,
    budget_key,
    interrupted_key,
    platform_key,
    task_key,
)
from .notice import RECOVERED, Channel, Notice, NotifyError
from .notifier import Notifier, channels_for

__all__ = [
    "RECOVERED",
    "Channel",
    "Closing",
    "Incident",
    "IncidentKind",
    "IncidentStore",
    "Notice",
    "Notifier",
    "NotifyError",
    "Opening",
    "budget_key",
    "channels_for",
    "interrupted_key",
    "platform_key",
    "run_event",
    "task_key",
]
