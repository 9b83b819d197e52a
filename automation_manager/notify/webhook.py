"""Webhook notifications: a signed JSON ``POST`` to ``notification_webhook.url``.

Signed exactly like the webhook platform (see :mod:`automation_manager.signing`):
``X-Amgr-Delivery`` (stable across retries of one message), ``X-Amgr-Timestamp`` (unix
seconds at send time) and ``X-Amgr-Signature: sha256=…``. Any 2xx is delivered.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .. import __version__
from ..secrets import secret_from_env
from ..signing import sign
from .notice import Notice, NotifyError

if TYPE_CHECKING:
    from ..config.models import NotifyWebhook


def describe_url(url: str) -> str:
    """``scheme://host[:port]`` only: paths of chat webhooks often embed a token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else "(bad url)"


class WebhookChannel:
    """Posts each notice's :meth:`~Notice.payload` as JSON."""

    name = "webhook"

    def __init__(self, config: NotifyWebhook) -> None:
        self.config = config

    def secret(self) -> str | None:
        """The signing secret, or None when ``secret_env`` is not configured."""
        if not self.config.secret_env:
            return None
        return secret_from_env(
            self.config.secret_env,
            "notification_webhook.secret_env",
            "the shared webhook secret",
            error=NotifyError,
        )

    def request(self, notice: Notice, *, timestamp: str) -> tuple[bytes, dict[str, str]]:
        """The body and headers for ``notice`` signed at ``timestamp`` (no network)."""
        body = json.dumps(notice.payload(), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"amgr/{__version__}",
            "X-Amgr-Event": notice.event,
            "X-Amgr-Delivery": notice.delivery_id,
            "X-Amgr-Timestamp": timestamp,
        }
        secret = self.secret()
        if secret is not None:
            headers["X-Amgr-Signature"] = sign(secret, timestamp, body)
        return body, headers

    def send(self, notice: Notice) -> None:
        """Post once. Raises :class:`NotifyError` on a non-2xx answer, httpx errors as they come."""
        import httpx

        body, headers = self.request(notice, timestamp=str(int(time.time())))
        response = httpx.post(
            self.config.url, content=body, headers=headers, timeout=self.config.timeout_s
        )
        if not response.is_success:
            raise NotifyError(
                f"notification_webhook {describe_url(self.config.url)} answered "
                f"HTTP {response.status_code}"
            )
