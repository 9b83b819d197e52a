"""Tokens: the client, what a token endpoint granted, the 0600 store, and the refresh.

:func:`refresh_if_needed` (and :class:`BearerAuth`, which calls it before every request)
refreshes an access token a few minutes before it expires, under a file lock so that
two processes never spend a rotating refresh token twice; a refresh token the server
refuses (revoked, expired) is an :class:`AuthError` that names ``amgr auth NAME``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from filelock import FileLock

from ...errors import AuthError
from ...fsutil import atomic_write_json, ensure_dir, read_json
from ...home import Home
from ...secrets import REGISTRY
from ..base import Sleep
from ..http import PlatformHttp

AUTH_DIR = "auth"
REFRESH_MARGIN = timedelta(minutes=5)
"""An access token is refreshed when it has less than this left."""


@dataclass(frozen=True)
class OAuthClient:
    """One OAuth client (an app registration) and what it asks for.

    :param platform: the platform's name in config.json, for messages and the store.
    :param device_uri: the device authorization endpoint (None: no device flow).
    :param extra: more parameters of the consent page (``access_type=offline``...).
    :param secret_setting: the setting that holds the client, for messages.
    :param redirect_port: the loopback port the consent page must redirect to, for
        platforms that only accept a registered redirect URI (0: any free port).
    :param redirect_path: the path of that redirect URI.
    :param basic_auth: send the client's id and secret as HTTP Basic to the token
        endpoint (RFC 6749 2.3.1, required by some platforms) instead of in the form.
    """

    platform: str
    client_id: str
    client_secret: str | None
    auth_uri: str
    token_uri: str
    scopes: tuple[str, ...]
    device_uri: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    secret_setting: str = ""
    redirect_port: int = 0
    redirect_path: str = "/"
    basic_auth: bool = False

    def __post_init__(self) -> None:
        if self.client_secret:
            REGISTRY.register(self.client_secret)


@dataclass
class Token:
    """What a token endpoint granted (``expires_at`` computed from ``expires_in``)."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scope: str = ""
    token_type: str = "Bearer"
    client_id: str = ""
    token_uri: str = ""
    obtained_at: datetime | None = None

    def expires_soon(self, now: datetime, margin: timedelta) -> bool:
        """Whether the access token has less than ``margin`` left (False: no expiry)."""
        return self.expires_at is not None and self.expires_at - now <= margin

    def register(self) -> None:
        for value in (self.access_token, self.refresh_token):
            if value:
                REGISTRY.register(value)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("expires_at", "obtained_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Token:
        def when(value: Any) -> datetime | None:
            return datetime.fromisoformat(value) if isinstance(value, str) and value else None

        return cls(
            access_token=str(data["access_token"]),
            refresh_token=data.get("refresh_token") or None,
            expires_at=when(data.get("expires_at")),
            scope=str(data.get("scope") or ""),
            token_type=str(data.get("token_type") or "Bearer"),
            client_id=str(data.get("client_id") or ""),
            token_uri=str(data.get("token_uri") or ""),
            obtained_at=when(data.get("obtained_at")),
        )


class TokenStore:
    """``.mp/auth/PLATFORM.json``: one platform's tokens, written atomically, 0600."""

    def __init__(self, home: Home, platform: str) -> None:
        self.home = home
        self.platform = platform
        self.path = home.mp / AUTH_DIR / f"{platform}.json"

    def load(self) -> Token | None:
        """The stored token (registered as a secret), or None when not connected."""
        try:
            data = read_json(self.path)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise AuthError(
                f"{self.platform}: cannot read {self.path} ({exc}): run `amgr auth "
                f"{self.platform}` to connect again"
            ) from None
        if not isinstance(data, dict) or not data.get("access_token"):
            return None
        token = Token.from_json(data)
        token.register()
        return token

    def lock(self) -> FileLock:
        """Held while the token is refreshed (``.mp/locks/auth-PLATFORM.lock``)."""
        ensure_dir(self.home.locks_dir)
        return FileLock(str(self.home.locks_dir / f"auth-{self.platform}.lock"), timeout=60)

    def save(self, token: Token) -> None:
        token.register()
        atomic_write_json(self.path, token.to_json(), private=True)

    def require(self) -> Token:
        """The stored token, or an :class:`AuthError` saying how to connect."""
        token = self.load()
        if token is None:
            raise AuthError(
                f"{self.platform}: not connected yet (no {self.path.relative_to(self.home.root)}):"
                f" run `amgr auth {self.platform}` once"
            )
        return token


# -- the token endpoint -----------------------------------------------------------------------


def token_http(client: OAuthClient, sleep: Sleep, timeout_s: float = 30.0) -> PlatformHttp:
    return PlatformHttp(
        client.platform,
        auth_hint=f"the OAuth client in {client.secret_setting or 'the client file'}",
        sleep=sleep,
        timeout_s=timeout_s,
        attempts=3,
    )


def grant_token(
    client: OAuthClient,
    form: dict[str, str],
    *,
    now: datetime,
    sleep: Sleep,
    what: str,
    previous: Token | None = None,
) -> Token | dict[str, Any]:
    """POST ``form`` to the token endpoint: a :class:`Token`, or the error document of a
    400/401 answer (``{"error": "invalid_grant", ...}``) for the caller to judge."""
    body = {"client_id": client.client_id, **form}
    auth: tuple[str, str] | None = None
    if client.client_secret and client.basic_auth:
        auth = (client.client_id, client.client_secret)
    elif client.client_secret:
        body["client_secret"] = client.client_secret
    http = token_http(client, sleep)
    try:
        response = http.request(
            "POST",
            client.token_uri,
            what=what,
            repeatable=True,
            accept=(400, 401, 403, 428),
            data=body,
            auth=auth,
            headers={"Accept": "application/json"},
        )
    finally:
        http.close()
    try:
        data: Any = response.json()
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    if response.status_code >= 400 or not data.get("access_token"):
        data.setdefault("error", f"http {response.status_code}")
        refused: dict[str, Any] = data
        return refused
    expires_in = data.get("expires_in")
    token = Token(
        access_token=str(data["access_token"]),
        refresh_token=data.get("refresh_token") or (previous.refresh_token if previous else None),
        expires_at=now + timedelta(seconds=float(expires_in))
        if isinstance(expires_in, int | float)
        else None,
        scope=str(data.get("scope") or (previous.scope if previous else "")),
        token_type=str(data.get("token_type") or "Bearer"),
        client_id=client.client_id,
        token_uri=client.token_uri,
        obtained_at=now,
    )
    token.register()
    return token


def reason(error: dict[str, Any]) -> str:
    from ...secrets import mask

    text = str(error.get("error_description") or error.get("error") or "refused")
    return " ".join(mask(text).split())[:200]


def refresh_if_needed(
    store: TokenStore,
    client: OAuthClient,
    *,
    now: datetime,
    sleep: Sleep,
    margin: timedelta = REFRESH_MARGIN,
) -> Token:
    """The stored token, refreshed (and saved) first when it expires within ``margin``.

    :raises AuthError: not connected, or the refresh token was revoked or has expired.
    """
    token = store.require()
    if not token.expires_soon(now, margin):
        return token
    with store.lock():  # another process may be refreshing: use its token, not ours
        token = store.require()
        if not token.expires_soon(now, margin):
            return token
        return _refresh(store, client, token, now=now, sleep=sleep)


def _refresh(
    store: TokenStore, client: OAuthClient, token: Token, *, now: datetime, sleep: Sleep
) -> Token:
    if not token.refresh_token:
        raise AuthError(
            f"{client.platform}: the access token expired and there is no refresh token: "
            f"run `amgr auth {client.platform}` again"
        )
    got = grant_token(
        client,
        {"grant_type": "refresh_token", "refresh_token": token.refresh_token},
        now=now,
        sleep=sleep,
        what="refresh the access token",
        previous=token,
    )
    if isinstance(got, dict):
        raise AuthError(
            f"{client.platform}: the refresh token was refused ({reason(got)}); it was "
            f"revoked or has expired: run `amgr auth {client.platform}` to connect again"
        )
    store.save(got)
    return got


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer`` with a token from :func:`refresh_if_needed`, looked at
    before every request (so a long upload outlives one access token)."""

    def __init__(
        self,
        store: TokenStore,
        client: OAuthClient,
        now: Callable[[], datetime],
        sleep: Sleep,
    ) -> None:
        self.store, self.client, self.now, self.sleep = store, client, now, sleep
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            token = refresh_if_needed(self.store, self.client, now=self.now(), sleep=self.sleep)
        return token.access_token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        yield request
