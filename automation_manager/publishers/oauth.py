"""OAuth 2.0 for platforms that need a person's consent once (YouTube, Drive, X).

``amgr auth NAME`` runs one of two flows and keeps the result in a :class:`TokenStore`
(``.mp/auth/NAME.json``, mode 0600):

- :func:`loopback_flow`, the installed-app flow (RFC 8252): a one-shot HTTP listener on
  ``127.0.0.1``, the browser sent to the consent page with PKCE (S256) and a ``state``,
  the code from the redirect exchanged at the token endpoint;
- :func:`device_flow` (RFC 8628) when no browser is near: a code to type on another
  device, the token endpoint polled at the interval the server asks for.

Publishers call :func:`refresh_if_needed` (or use :class:`BearerAuth`, which does it
before every request): an access token is refreshed a few minutes before it expires;
a refresh token the server refuses (revoked, expired) is an :class:`AuthError` that
names ``amgr auth NAME``. Every token and the client secret are registered with
:data:`~automation_manager.secrets.REGISTRY`, so none is ever written anywhere else.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets as pysecrets
import threading
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from ..errors import AuthError, ConfigError, Problem, TaskError
from ..fsutil import atomic_write_json, read_json
from ..home import Home
from ..secrets import REGISTRY
from .base import Sleep
from .http import PlatformHttp

if TYPE_CHECKING:
    from ..config import Workspace

AUTH_DIR = "auth"
REFRESH_MARGIN = timedelta(minutes=5)
"""An access token is refreshed when it has less than this left."""
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


@dataclass(frozen=True)
class OAuthClient:
    """One OAuth client (an app registration) and what it asks for.

    :param platform: the platform's name in config.json, for messages and the store.
    :param device_uri: the device authorization endpoint (None: no device flow).
    :param extra: more parameters of the consent page (``access_type=offline``...).
    :param secret_setting: the setting that holds the client, for messages.
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


# -- the client file ---------------------------------------------------------------------------


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
        raise ConfigError([Problem("config.json", setting, f"not set — {get}")])
    file = Path(path) if Path(path).is_absolute() else home.root / path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            [Problem("config.json", setting, f"{file} does not exist — {get}")]
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(
            [Problem("config.json", setting, f"cannot read {file}: {exc} — {get}")]
        ) from None
    section = (data.get("installed") or data.get("web")) if isinstance(data, dict) else None
    if not isinstance(section, dict) or not section.get("client_id"):
        raise ConfigError(
            [Problem("config.json", setting, f"{file} is not an OAuth client file — {get}")]
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


# -- the token endpoint -----------------------------------------------------------------------


def _token_http(client: OAuthClient, sleep: Sleep, timeout_s: float = 30.0) -> PlatformHttp:
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
    if client.client_secret:
        body["client_secret"] = client.client_secret
    http = _token_http(client, sleep)
    try:
        response = http.request(
            "POST",
            client.token_uri,
            what=what,
            repeatable=True,
            accept=(400, 401, 403, 428),
            data=body,
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


def _reason(error: dict[str, Any]) -> str:
    from ..secrets import mask

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
    if token.expires_at is None or token.expires_at - now > margin:
        return token
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
            f"{client.platform}: the refresh token was refused ({_reason(got)}); it was "
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


# -- consent: the loopback (installed app) flow ------------------------------------------------


@dataclass(frozen=True)
class Pkce:
    """A PKCE verifier and its S256 challenge (RFC 7636)."""

    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = pysecrets.token_urlsafe(64)[:96]
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


class _Redirect:
    """The one-shot listener on 127.0.0.1 that the consent page redirects to."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.params: dict[str, str] | None = None
        self.done = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                params = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
                if params.get("state") != owner.state or not (
                    "code" in params or "error" in params
                ):
                    self.send_response(400)
                    self.end_headers()
                    self.wfile.write(b"amgr: this is not the answer amgr is waiting for")
                    return
                owner.params = params
                ok = "code" in params
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                text = "connected" if ok else "not connected: " + params.get("error", "?")
                page = f"<html><body><p>amgr: {text}. You can close this tab.</p></body></html>"
                self.wfile.write(page.encode())
                owner.done.set()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self.done.is_set():
            self.server.handle_request()

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self) -> _Redirect:
        self.server.timeout = 0.5
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join(2)
        self.server.server_close()


def consent_url(client: OAuthClient, redirect_uri: str, state: str, pkce: Pkce) -> str:
    """The consent page's address for this client, redirect, state and PKCE challenge."""
    query = {
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(client.scopes),
        "state": state,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        **client.extra,
    }
    joiner = "&" if "?" in client.auth_uri else "?"
    return client.auth_uri + joiner + urlencode(query)


def loopback_flow(
    client: OAuthClient,
    store: TokenStore,
    *,
    open_url: Callable[[str], object],
    now: Callable[[], datetime],
    sleep: Sleep,
    timeout_s: float = 300.0,
) -> Token:
    """Send the person to the consent page and wait for its redirect to 127.0.0.1.

    :param open_url: opens the consent page (a browser); the caller also shows it.
    :raises AuthError: the person declined, or no redirect came within ``timeout_s``.
    """
    pkce, state = Pkce.new(), pysecrets.token_urlsafe(24)
    with _Redirect(state) as redirect:
        open_url(consent_url(client, redirect.uri, state, pkce))
        if not redirect.done.wait(timeout_s):
            raise AuthError(
                f"{client.platform}: no answer from the consent page within {timeout_s:.0f} s: "
                f"run `amgr auth {client.platform}` again, or `--device` to type a code instead"
            )
        params = redirect.params or {}
    if "code" not in params:
        raise AuthError(
            f"{client.platform}: consent was not given ({params.get('error', '?')}): run "
            f"`amgr auth {client.platform}` again and allow access"
        )
    got = grant_token(
        client,
        {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": redirect.uri,
            "code_verifier": pkce.verifier,
        },
        now=now(),
        sleep=sleep,
        what="exchange the consent code for tokens",
    )
    return _keep(client, store, got)


def _keep(client: OAuthClient, store: TokenStore, got: Token | dict[str, Any]) -> Token:
    if isinstance(got, dict):
        raise AuthError(
            f"{client.platform}: the token endpoint refused the code ({_reason(got)}): check "
            f"the OAuth client in {client.secret_setting} and run `amgr auth "
            f"{client.platform}` again"
        )
    if not got.refresh_token:
        raise AuthError(
            f"{client.platform}: the server granted no refresh token, so amgr could not post "
            "unattended: remove amgr's access in the account's security settings, then run "
            f"`amgr auth {client.platform}` again"
        )
    store.save(got)
    return got


# -- consent: the device flow ------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceCode:
    """What the device endpoint answered: the code a person types, and where."""

    device_code: str
    user_code: str
    verification_url: str
    expires_in: float
    interval: float


def device_flow(
    client: OAuthClient,
    store: TokenStore,
    *,
    show: Callable[[DeviceCode], object],
    now: Callable[[], datetime],
    sleep: Sleep,
) -> Token:
    """Ask for a user code, show it, and poll the token endpoint until it is entered.

    :raises AuthError: declined, or the code expired before it was entered.
    """
    if not client.device_uri:
        raise TaskError(
            f"{client.platform}: this platform has no device flow; run without --device"
        )
    http = _token_http(client, sleep)
    try:
        response = http.request(
            "POST",
            client.device_uri,
            what="ask for a device code",
            repeatable=True,
            data={"client_id": client.client_id, "scope": " ".join(client.scopes)},
        )
    finally:
        http.close()
    data: Any = response.json()
    code = DeviceCode(
        device_code=str(data["device_code"]),
        user_code=str(data["user_code"]),
        verification_url=str(data.get("verification_url") or data.get("verification_uri")),
        expires_in=float(data.get("expires_in") or 1800),
        interval=float(data.get("interval") or 5),
    )
    REGISTRY.register(code.device_code)
    show(code)
    deadline = now() + timedelta(seconds=code.expires_in)
    interval = code.interval
    while now() < deadline:
        sleep(interval)
        got = grant_token(
            client,
            {"grant_type": DEVICE_GRANT, "device_code": code.device_code},
            now=now(),
            sleep=sleep,
            what="wait for the code to be entered",
        )
        if isinstance(got, Token):
            return _keep(client, store, got)
        error = str(got.get("error"))
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += 5
            continue
        raise AuthError(
            f"{client.platform}: the device code was not accepted ({_reason(got)}): run "
            f"`amgr auth {client.platform} --device` again"
        )
    raise AuthError(
        f"{client.platform}: the code {code.user_code} was not entered in time: run "
        f"`amgr auth {client.platform} --device` again"
    )


# -- connecting a configured platform (``amgr auth NAME``) ------------------------------------


@runtime_checkable
class OAuthPublisher(Protocol):
    """A publisher connected with ``amgr auth``: it names its OAuth client."""

    name: str

    def oauth_client(self) -> OAuthClient: ...


def oauth_platform_name(ws: Workspace, name: str) -> str:
    """The configured platform ``amgr auth NAME`` means: NAME itself, or the one platform
    of kind NAME (``amgr auth youtube`` with a platform called ``channel``)."""
    platforms = ws.config.platforms
    config = platforms.get(name)
    if config is None:
        of_kind = [n for n, c in platforms.items() if c.kind == name]
        if len(of_kind) == 1:
            return of_kind[0]
        known = ", ".join(sorted(platforms)) or "none"
        fix = f"add it to platforms in config.json (configured: {known})"
        if of_kind:
            fix = f"name one of {', '.join(of_kind)}"
        raise ConfigError([Problem("config.json", f"platforms.{name}", f"not configured — {fix}")])
    if config.kind == "outbox":
        kind = "x" if name in ("twitter", "x") else name
        raise ConfigError(
            [
                Problem(
                    "config.json",
                    f"platforms.{name}",
                    f'is an outbox (no connection) — set it to {{"kind": "{kind}", ...}} as the '
                    "README's section for the platform shows, then run amgr auth again",
                )
            ]
        )
    return name


def connect(
    ws: Workspace,
    name: str,
    *,
    device: bool,
    open_url: Callable[[str], object],
    show_code: Callable[[DeviceCode], object],
    now: Callable[[], datetime],
    sleep: Sleep,
    timeout_s: float = 300.0,
) -> tuple[str, Token]:
    """Run the consent flow for platform ``name``; its name and the stored token."""
    from . import publisher_for
    from .base import PublishEnv

    name = oauth_platform_name(ws, name)
    config = ws.config.platforms[name]
    publisher = publisher_for(name, config, PublishEnv(home=ws.home, now=now, sleep=sleep))
    if not isinstance(publisher, OAuthPublisher):
        raise ConfigError(
            [
                Problem(
                    "config.json",
                    f"platforms.{name}",
                    f"kind {config.kind} does not connect with amgr auth — set the credentials "
                    "its README section names",
                )
            ]
        )
    client = publisher.oauth_client()
    store = TokenStore(ws.home, name)
    if device:
        token = device_flow(client, store, show=show_code, now=now, sleep=sleep)
    else:
        token = loopback_flow(
            client, store, open_url=open_url, now=now, sleep=sleep, timeout_s=timeout_s
        )
    return name, token
