"""E-mail notifications through the ``smtp`` section of config.json, to ``notification_email``.

``security`` picks the transport: ``starttls`` (plain connection upgraded before login),
``ssl`` (TLS from the first byte, usually port 465) or ``none`` (local relays and tests).
The password is read from ``password_env`` at send time and never leaves this module.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import TYPE_CHECKING

from ..secrets import secret_from_env
from .notice import Notice, NotifyError

if TYPE_CHECKING:
    from ..config.models import SmtpConfig


def message_domain(smtp: SmtpConfig | None) -> str:
    """The domain for ``Message-ID`` values: the sender's, else ``amgr.invalid``.

    Taken from the address so that making an id never waits on a DNS lookup.
    """
    if smtp is not None:
        _, address = parseaddr(smtp.from_)
        domain = address.rpartition("@")[2].strip()
        if domain:
            return domain
    return "amgr.invalid"


def new_message_id(smtp: SmtpConfig | None) -> str:
    """A fresh ``Message-ID`` such as ``<1700…@example.com>``."""
    return make_msgid(domain=message_domain(smtp))


class EmailChannel:
    """Sends each notice as one plain-text message.

    :param smtp: the ``smtp`` section.
    :param to: ``notification_email`` (one address, or several separated by commas).
    """

    name = "email"

    def __init__(self, smtp: SmtpConfig, to: str) -> None:
        self.smtp = smtp
        self.to = to

    def build(self, notice: Notice) -> EmailMessage:
        """The message for ``notice`` (no network)."""
        msg = EmailMessage()
        msg["Subject"] = notice.subject
        msg["From"] = self.smtp.from_
        msg["To"] = self.to
        msg["Date"] = format_datetime(notice.at)
        msg["Message-ID"] = notice.message_id
        if notice.in_reply_to:
            msg["In-Reply-To"] = notice.in_reply_to
            msg["References"] = notice.in_reply_to
        # RFC 3834: tells vacation responders not to answer.
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Amgr-Event"] = notice.event
        msg["X-Amgr-Key"] = notice.key
        msg.set_content(notice.body)
        return msg

    def password(self) -> str | None:
        """The SMTP password, or None when no login is configured."""
        if not (self.smtp.user and self.smtp.password_env):
            return None
        return secret_from_env(
            self.smtp.password_env,
            "smtp.password_env",
            "the SMTP password",
            error=NotifyError,
            user=self.smtp.user,
        )

    def send(self, notice: Notice) -> None:
        """Connect, secure, log in when configured, send, quit. Raises on any failure."""
        import smtplib
        import ssl

        smtp = self.smtp
        password = self.password()
        client: smtplib.SMTP
        if smtp.security == "ssl":
            context = ssl.create_default_context()
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_s, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.user and password is not None:
                client.login(smtp.user, password)
            client.send_message(self.build(notice))
