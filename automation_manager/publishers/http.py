"""HTTP for publishers: retries that are safe, and errors a person can act on.

One :class:`PlatformHttp` per platform wraps an ``httpx.Client``:

- a connection that never opened is retried with backoff (nothing was sent);
- 429 waits for ``Retry-After`` (bounded), then gives up with a :class:`TransientError`;
- 5xx and lost answers are retried only for requests that are safe to repeat (reads,
  and sends carrying an idempotency key); for other sends they raise
  :class:`PublishUncertain`, and the caller reconciles before anything is resent;
- 401/403 raise :class:`AuthError` naming the setting to fix, never the secret;
- other 4xx raise :class:`TaskError` with the platform's own message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from .. import __version__
from ..backoff import Jitter, backoff_delay, parse_retry_after
from ..errors import AuthError, PublishUncertain, TaskError, TransientError
from ..secrets import mask
from .base import Sleep

USER_AGENT = f"amgr/{__version__}"
_UNSURE = "; it may have gone through, so amgr checks with the platform before any resend"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try within one call before handing the failure back."""

    attempts: int = 4
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    max_retry_after_s: float = 120.0
    """A ``Retry-After`` longer than this is not waited out within the run."""
    jitter: Jitter = Jitter.NONE
    """None by default: one run sends to one platform in sequence, so there is no herd of
    clients to spread, and the waits stay predictable in logs and tests."""

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Delay before retry number ``attempt`` (1-based): 1, 2, 4, … capped; a server's
        ``retry_after`` replaces it (:func:`~automation_manager.backoff.backoff_delay`)."""
        return backoff_delay(
            attempt,
            base_s=self.base_delay_s,
            cap_s=self.max_delay_s,
            jitter=self.jitter,
            retry_after=retry_after,
        )


def retry_after(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta seconds or an HTTP date)."""
    return parse_retry_after(response.headers.get("retry-after"), now)


def platform_message(response: httpx.Response) -> str:
    """The platform's own explanation of an error response, on one short line, with
    every secret masked before it is cut or joined (a server may echo the credentials
    it was sent)."""
    try:
        data: Any = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("message", "error_description", "error", "detail", "errors"):
            value = data.get(key)
            if value:
                text = mask(value if isinstance(value, str) else str(value))
                return " ".join(text.split())[:300]
    text = re.sub(r"<[^>]+>", " ", mask(response.text or ""))
    return " ".join(text.split())[:200] or response.reason_phrase


class PlatformHttp:
    """An ``httpx.Client`` for one platform with amgr's retry and error rules.

    :param platform: the platform's name, used in every message.
    :param auth_hint: what to check when credentials are refused, e.g.
        ``"WP_APP_PASSWORD (platforms.blog.password_env) and platforms.blog.user"``.
    :param sleep: waits between retries.
    """

    def __init__(
        self,
        platform: str,
        *,
        auth_hint: str,
        sleep: Sleep,
        timeout_s: float,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        attempts: int = 4,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.platform = platform
        self.auth_hint = auth_hint
        self.sleep = sleep
        self.policy = policy or RetryPolicy(attempts=attempts)
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            auth=auth,
            follow_redirects=False,
        )

    def close(self) -> None:
        self.client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        repeatable: bool,
        accept: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request with retries; return a 2xx response (or one in ``accept``).

        :param what: what the request does, for messages ("create the post").
        :param repeatable: sending it twice does no harm (a read, or a send the
            platform deduplicates); only then are lost answers and 5xx retried here.
        :param accept: non-2xx statuses the caller handles itself (e.g. 404).
        """
        policy = self.policy
        failure: TransientError | None = None
        maybe_sent = False
        for attempt in range(1, policy.attempts + 1):
            if failure is not None:
                self.sleep(policy.backoff(attempt - 1, failure.retry_after))
            try:
                response = self.client.request(method, url, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                failure = TransientError(
                    f"{self.platform}: cannot connect to {_origin(url)} to {what} ({exc}); "
                    "is the url right and the server up?"
                )
                continue
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                lost = f"{self.platform}: no answer from {_origin(url)} to {what} ({exc})"
                if not repeatable:
                    raise PublishUncertain(lost + _UNSURE) from None
                failure, maybe_sent = TransientError(lost), True
                continue
            status = response.status_code
            if status < 300 or status in accept:
                return response
            failure = self._failure(response, what, repeatable, attempt)
            maybe_sent = maybe_sent or status >= 500
        assert failure is not None
        if maybe_sent and method not in ("GET", "HEAD"):
            raise PublishUncertain(str(failure) + _UNSURE, retry_after=failure.retry_after)
        raise failure

    def _failure(
        self, response: httpx.Response, what: str, repeatable: bool, attempt: int
    ) -> TransientError:
        """The retryable failure a response means, or raise the final one."""
        status = response.status_code
        message = platform_message(response)
        if 300 <= status < 400:
            where = response.headers.get("location", "?")
            raise TaskError(
                f"{self.platform}: {_origin(str(response.request.url))} redirects ({status}) to "
                f"{where}: set platforms.{self.platform}.url to the address it redirects to"
            )
        if status in (401, 403):
            raise AuthError(
                f"{self.platform}: credentials refused ({status}: {message}) when trying to "
                f"{what}: check {self.auth_hint}"
            )
        if status == 429:
            wait = retry_after(response)
            if wait is not None and wait > self.policy.max_retry_after_s:
                raise TransientError(
                    f"{self.platform}: rate limited (429); the platform asks to wait {wait:.0f} s",
                    retry_after=wait,
                )
            if attempt == self.policy.attempts:
                raise TransientError(
                    f"{self.platform}: still rate limited (429) after {attempt} tries",
                    retry_after=wait,
                )
            return TransientError(f"{self.platform}: rate limited (429)", retry_after=wait)
        if status >= 500:
            text = f"{self.platform}: server error {status} when trying to {what}: {message}"
            if not repeatable:
                raise PublishUncertain(text + _UNSURE)
            return TransientError(text)
        raise TaskError(f"{self.platform} refused to {what} ({status}): {message}")


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode()}"
