"""The notifier: one message when an incident opens, one when it recovers, never a crash.

The daemon's workers and ``amgr exec-now`` call it after a run; the daemon also calls it
after each credential check. The incident is recorded before anything is sent (so a
notifier that dies mid-send never sends twice), messages go out outside the lock, and a
channel that failed is retried on the incident's next occurrence. Every failure is a
``logging`` warning with secrets masked; nothing here raises into the caller.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from ..secrets import mask, secret_values
from .events import Closing, Opening, credentials_failed, credentials_ok, run_event, when
from .incidents import Incident, IncidentKind, IncidentsFile, IncidentStore
from .mail import EmailChannel, new_message_id
from .notice import RECOVERED, Channel, Notice, clean_subject
from .webhook import WebhookChannel

if TYPE_CHECKING:
    from ..config.models import Config
    from ..home import Home
    from ..logs.records import RunRecord

log = logging.getLogger(__name__)

_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning(message)


def channels_for(config: Config) -> list[Channel]:
    """The channels config.json asks for: e-mail, webhook, both or none."""
    channels: list[Channel] = []
    if config.smtp is not None:
        if config.notification_email:
            channels.append(EmailChannel(config.smtp, config.notification_email))
        else:
            _warn_once("config.json has an smtp section but no notification_email: no e-mail")
    elif config.notification_email:
        _warn_once(
            "config.json sets notification_email but has no smtp section "
            "(host, port, security, user, password_env, from): no e-mail is sent"
        )
    if config.notification_webhook is not None:
        channels.append(WebhookChannel(config.notification_webhook))
    return channels


class Notifier:
    """Opens and closes incidents for one home and tells the user through its channels.

    :param home: the home whose ``.mp/state/incidents.json`` remembers open incidents.
    :param config: config.json (``smtp``, ``notification_email``, ``notification_webhook``).
    :param channels: override the channels built from ``config`` (tests, embedding).
    """

    _failing: ClassVar[bool] = False
    """An incident could not be handled (e.g. a full disk); said once until one works."""

    def __init__(
        self, home: Home, config: Config, *, channels: Sequence[Channel] | None = None
    ) -> None:
        self.home = home
        self.config = config
        self.store = IncidentStore(home)
        self.channels: list[Channel] = (
            list(channels) if channels is not None else channels_for(config)
        )

    # -- the two verbs ----------------------------------------------------------------------

    def incident(
        self, key: str, kind: IncidentKind | str, subject: str, body: str, now: datetime
    ) -> bool:
        """Record that incident ``key`` happened at ``now``; tell the user if it is new.

        A repeat of an open incident sends nothing, except to a channel that failed to
        deliver the first message. Returns True when this call opened the incident.

        :param key: what identifies the incident, e.g. ``task:daily-blog`` (see
            :func:`~automation_manager.notify.incidents.task_key` and its siblings).
        :param kind: ``task_failed``, ``interrupted``, ``budget`` or ``credentials``.
        """
        try:
            opened = self._incident(key, IncidentKind(kind), subject, body, now)
        except Exception as exc:
            # Once per outage (a full disk fails every incident until it has space).
            level = logging.DEBUG if Notifier._failing else logging.WARNING
            Notifier._failing = True
            log.log(level, "amgr: could not handle incident %s: %s", key, self._describe(exc))
            return False
        Notifier._failing = False
        return opened

    def recovered(self, key: str, subject: str, body: str, now: datetime) -> bool:
        """Close incident ``key`` and send one recovery message, if it was open.

        Returns True when an open incident was closed (and its message attempted).
        """
        try:
            return self._recovered(key, subject, body, now)
        except Exception as exc:
            log.warning("amgr: could not close incident %s: %s", key, self._describe(exc))
            return False

    # -- conveniences over the verbs --------------------------------------------------------

    def notify_run(self, record: RunRecord, *, final: bool, now: datetime | None = None) -> bool:
        """Open or close the incident a finished run implies (see :func:`run_event`).

        :param final: no retry follows this attempt (retries used up, a permanent error,
            or a manual run).
        :param now: when the run ended; default its start plus its duration.
        :returns: True when an incident was opened or closed.
        """
        try:
            event = run_event(record, final=final)
            at = now or record.timestamp + timedelta(milliseconds=record.duration_ms)
        except Exception as exc:
            log.warning("amgr: could not read run %s: %s", record.id, self._describe(exc))
            return False
        return self._apply(event, at)

    def credentials_failed(self, platform: str, error: str, now: datetime) -> bool:
        """A credential check of ``platform`` failed: open ``platform:<name>``."""
        return self._apply(credentials_failed(platform, error, now), now)

    def credentials_ok(self, platform: str, now: datetime) -> bool:
        """A credential check of ``platform`` passed: close ``platform:<name>`` if open."""
        return self._apply(credentials_ok(platform, now), now)

    def open_incidents(self) -> dict[str, Incident]:
        """The open incidents by key (for ``status``)."""
        return self.store.open_incidents()

    # -- internals --------------------------------------------------------------------------

    def _apply(self, event: Opening | Closing | None, at: datetime) -> bool:
        if isinstance(event, Opening):
            return self.incident(event.key, event.kind, event.subject, event.body, at)
        if isinstance(event, Closing):
            return self.recovered(event.key, event.subject, event.body, at)
        return False

    def _incident(
        self, key: str, kind: IncidentKind, subject: str, body: str, now: datetime
    ) -> bool:
        subject = clean_subject(subject)
        names = [channel.name for channel in self.channels]

        def claim(state: IncidentsFile) -> tuple[Incident, list[str], bool]:
            current = state.open.get(key)
            if current is None:
                current = state.open[key] = Incident(
                    kind=kind,
                    subject=subject,
                    opened_at=now,
                    last_seen=now,
                    message_id=new_message_id(self.config.smtp),
                    delivery_id=uuid.uuid4().hex,
                    sending=names,
                )
                return current.model_copy(), names, True
            current.occurrences += 1
            current.last_seen = now
            retry = [n for n in current.undelivered if n in names]
            current.undelivered = [n for n in current.undelivered if n not in retry]
            current.sending = [*current.sending, *retry]
            return current.model_copy(), retry, False

        incident, targets, is_new = self.store.update(claim, now)
        if not targets:
            return is_new
        notice = Notice(
            event=kind.value,
            key=key,
            subject=self._mask(subject),
            body=self._mask(self._with_footer(body)),
            at=incident.opened_at,
            message_id=incident.message_id,
            delivery_id=incident.delivery_id,
        )
        failed = self._send(notice, targets)

        def settle(state: IncidentsFile) -> None:
            current = state.open.get(key)
            if current is not None and current.delivery_id == incident.delivery_id:
                current.sending = [n for n in current.sending if n not in targets]
                current.undelivered = [*current.undelivered, *failed]

        self.store.update(settle, now)
        return is_new

    def _recovered(self, key: str, subject: str, body: str, now: datetime) -> bool:
        closed = self.store.update(lambda state: state.open.pop(key, None), now)
        if closed is None:
            return False
        times = "once" if closed.occurrences == 1 else f"{closed.occurrences} times"
        body = (
            f"{body}\n\nThis closes: {closed.subject}\n"
            f"Open since {when(closed.opened_at)}; it happened {times}."
        )
        notice = Notice(
            event=RECOVERED,
            key=key,
            subject=self._mask(clean_subject(subject)),
            body=self._mask(self._with_footer(body)),
            at=now,
            message_id=new_message_id(self.config.smtp),
            delivery_id=f"{closed.delivery_id}-recovered",
            in_reply_to=closed.message_id,
        )
        self._send(notice, [channel.name for channel in self.channels])
        return True

    def _send(self, notice: Notice, targets: Sequence[str]) -> list[str]:
        """Send through each target channel; return the names of those that failed."""
        failed: list[str] = []
        for channel in self.channels:
            if channel.name not in targets:
                continue
            try:
                channel.send(notice)
            except Exception as exc:
                failed.append(channel.name)
                log.warning(
                    "amgr: %s notification %r failed: %s",
                    channel.name,
                    notice.subject,
                    self._describe(exc),
                )
        return failed

    def _with_footer(self, body: str) -> str:
        return (
            f"{body.rstrip()}\n\n-- \nSent by amgr on {socket.gethostname()} for {self.home.root}\n"
        )

    def _mask(self, text: str) -> str:
        return mask(text, secret_values(self.config))

    def _describe(self, exc: BaseException) -> str:
        return self._mask(f"{type(exc).__name__}: {exc}")
