"""What a channel sends, and the small interface every channel implements."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ..errors import AmgrError

RECOVERED = "recovered"
"""The ``event`` of a recovery message (an incident's event is its kind)."""

SUBJECT_PREFIX = "[amgr] "


class NotifyError(AmgrError):
    """A notification could not be delivered. Logged by the notifier, never raised to callers."""


@dataclass(frozen=True)
class Notice:
    """One message about one incident, independent of the channel that carries it.

    :param event: the incident kind (``task_failed`` …) or ``recovered``.
    :param key: the incident key, e.g. ``task:daily-blog``.
    :param at: when it happened (the event time, not the send time).
    :param message_id: the e-mail ``Message-ID``; a recovery replies to the opening one.
    :param delivery_id: stable across retries of the same message (``X-Amgr-Delivery``).
    :param in_reply_to: the opening message's id, on a recovery.
    """

    event: str
    key: str
    subject: str
    body: str
    at: datetime
    message_id: str
    delivery_id: str
    in_reply_to: str | None = None

    def payload(self) -> dict[str, Any]:
        """The JSON document a webhook receives."""
        return {
            "event": self.event,
            "key": self.key,
            "subject": self.subject,
            "body": self.body,
            "at": self.at.isoformat(),
        }


class Channel(Protocol):
    """A way to reach the user. ``send`` raises on failure; the notifier catches it."""

    name: str

    def send(self, notice: Notice) -> None: ...


def clean_subject(subject: str) -> str:
    """One line (a header cannot hold a newline), prefixed ``[amgr]`` once, at most 200 chars."""
    line = re.sub(r"\s+", " ", subject).strip()
    if not line.startswith(SUBJECT_PREFIX.strip()):
        line = SUBJECT_PREFIX + line
    return line if len(line) <= 200 else line[:199] + "…"
