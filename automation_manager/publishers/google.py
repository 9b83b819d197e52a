"""What YouTube and Drive share: the OAuth client, the bearer token, Google's errors.

Both read the client JSON named by ``google_credentials_path`` and the token that
``amgr auth NAME`` stored; the access token is refreshed before it expires
(:class:`~.oauth.BearerAuth`). A Google 403 is not always about credentials: quota and
rate reasons (``quotaExceeded``, ``rateLimitExceeded``...) mean "later", not "fix it".
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import httpx

from ..config.platforms_google import GDrivePlatform, YouTubePlatform
from ..errors import AuthError, ConfigError, Problem, TransientError
from ..home import Home
from .base import Publisher
from .http import PlatformHttp, platform_message
from .oauth import BearerAuth, OAuthClient, TokenStore

GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"

LATER_REASONS = frozenset(
    {
        "quotaExceeded",
        "dailyLimitExceeded",
        "rateLimitExceeded",
        "userRateLimitExceeded",
        "uploadLimitExceeded",
    }
)


def google_client(
    home: Home,
    platform: str,
    path: str | None,
    scopes: tuple[str, ...],
    setting: str,
) -> OAuthClient:
    """The OAuth client in Google's client secret JSON (``installed`` or ``web``).

    :raises ConfigError: no path, a missing or unreadable file, or not a client file.
    """
    get = (
        "download the OAuth client (type Desktop app) from Google Cloud Console → APIs & "
        "Services → Credentials and set its path"
    )
    if not path:
        raise ConfigError([Problem("config.json", setting, "not set", get)])
    file = Path(path) if Path(path).is_absolute() else home.root / path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            [Problem("config.json", setting, f"{file} does not exist", get)]
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(
            [Problem("config.json", setting, f"cannot read {file}: {exc}", get)]
        ) from None
    section = (data.get("installed") or data.get("web")) if isinstance(data, dict) else None
    if not isinstance(section, dict) or not section.get("client_id"):
        raise ConfigError(
            [Problem("config.json", setting, f"{file} is not an OAuth client file", get)]
        )
    token_uri = str(section.get("token_uri") or GOOGLE_TOKEN_URI)
    device_uri = token_uri.removesuffix("/token") + "/device/code"
    return OAuthClient(
        platform=platform,
        client_id=str(section["client_id"]),
        client_secret=section.get("client_secret"),
        auth_uri=str(section.get("auth_uri") or GOOGLE_AUTH_URI),
        token_uri=token_uri,
        scopes=scopes,
        device_uri=device_uri,
        extra={"access_type": "offline", "prompt": "consent"},
        secret_setting=setting,
    )


def google_reason(response: httpx.Response) -> str:
    """The first ``error.errors[].reason`` of a Google error answer ('' when none)."""
    try:
        data: Any = response.json()
    except ValueError:
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    errors = error.get("errors") if isinstance(error, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("reason") or "")
    return ""


def raise_for_forbidden(platform: str, response: httpx.Response, what: str, hint: str) -> None:
    """A 403 answer (accepted by the caller) as the error it means."""
    reason = google_reason(response)
    message = platform_message(response)
    if reason in LATER_REASONS:
        raise TransientError(
            f"{platform}: Google's {reason} when trying to {what} ({message}); amgr tries "
            "again on a later run (quotas reset at midnight Pacific time)"
        )
    raise AuthError(f"{platform}: access refused (403: {message}) when trying to {what}: {hint}")


class GooglePublisher(Publisher):
    """A platform behind Google OAuth (``youtube``, ``gdrive``)."""

    scopes: ClassVar[tuple[str, ...]]
    config: YouTubePlatform | GDrivePlatform

    def oauth_scopes(self) -> tuple[str, ...]:
        """What the consent page asks for."""
        return self.scopes

    def oauth_client(self) -> OAuthClient:
        """The OAuth client that ``amgr auth NAME`` and the token refresh use."""
        return google_client(
            self.env.home,
            self.name,
            self.config.google_credentials_path,
            self.oauth_scopes(),
            self.setting("google_credentials_path"),
        )

    @property
    def tokens(self) -> TokenStore:
        return TokenStore(self.env.home, self.name)

    @property
    def auth_hint(self) -> str:
        return (
            f"the connection made by `amgr auth {self.name}` (run it again if access was "
            f"revoked) and the OAuth client in {self.setting('google_credentials_path')}"
        )

    @cached_property
    def http(self) -> PlatformHttp:
        auth = BearerAuth(self.tokens, self.oauth_client(), self.env.now, self.env.sleep)
        return PlatformHttp(
            self.name,
            auth_hint=self.auth_hint,
            sleep=self.env.sleep,
            attempts=self.env.attempts,
            timeout_s=self.config.timeout_s,
            auth=auth,
        )

    @property
    def api(self) -> str:
        return self.config.api_base.rstrip("/")

    def close(self) -> None:
        if "http" in self.__dict__:
            self.http.close()

    def describe(self) -> str:
        return f"{self.name} ({self.kind} {self.api})"
