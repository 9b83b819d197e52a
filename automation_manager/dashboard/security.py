"""The dashboard's guard: who may ask, from where, and what every answer carries.

* **Host**: only the names the server was started for (``127.0.0.1:PORT``,
  ``localhost:PORT``, ``[::1]:PORT``, or the ``--listen`` host): a DNS-rebinding page,
  whose requests carry its own name, gets 403.
* **Session**: ``/login?token=T`` sets an HttpOnly, SameSite=Strict cookie (a value
  derived from the token, never the token) and redirects to the overview; or
  ``Authorization: Bearer T`` on every request. Anything else gets 401.
* **State changes**: POST only, with the CSRF token (form field ``csrf`` or header
  ``X-CSRF-Token``), and an ``Origin`` (or ``Referer``), when a browser sends one, of
  this server: another origin gets 403. Bodies over :data:`MAX_BODY` get 413.
* **Headers**: a CSP without inline scripts or styles, ``frame-ancestors 'none'``,
  ``nosniff``, referrers only to itself, no caching.
* **Text**: every string shown is masked by the secrets registry and a full path
  outside the home is cut to its last part (:func:`scrub`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..secrets import REGISTRY
from .token import derive, same

COOKIE = "amgr_session"
MAX_BODY = 2 * 1024 * 1024
"""Largest request body (a keyword CSV upload) accepted, in bytes."""
PUBLIC = ("/static/", "/login", "/favicon.ico")
HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "cache-control": "no-store",
}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def allowed_hosts(host: str, port: int) -> set[str]:
    """The ``Host`` values this server answers: loopback names, or the listen address."""
    names = set(LOOPBACK_NAMES) if is_loopback(host) else {_bracket(host)}
    return {f"{n}:{port}" for n in names} | ({*names} if port == 80 else set())


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class Guard:
    """ASGI middleware doing every check above before the app sees a request."""

    def __init__(self, app: ASGIApp, *, token: str, hosts: Iterable[str] | None) -> None:
        self.app = app
        self.token = token
        self.session = derive(token, "session")
        self.hosts = set(hosts) if hosts is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self.refuse(scope, headers)
        if refusal is not None:
            await self._headed(refusal, scope, receive, send)
            return

        async def send_headed(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = [(k, v) for k, v in message.get("headers", []) if k.decode() not in HEADERS]
                raw += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                message["headers"] = raw
            await send(message)

        await self.app(scope, _limited(receive), send_headed)

    async def _headed(self, response: Response, scope: Scope, receive: Receive, send: Send) -> None:
        response.headers.update(HEADERS)
        await response(scope, receive, send)

    def refuse(self, scope: Scope, headers: Headers) -> Response | None:
        """The answer to a request that may not go on, or None."""
        host = headers.get("host", "")
        if self.hosts is not None and host not in self.hosts:
            return PlainTextResponse(f"403: this dashboard does not answer Host {host!r}", 403)
        path: str = scope["path"]
        method: str = scope["method"]
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return PlainTextResponse(f"413: request body over {MAX_BODY} bytes", 413)
        if method not in ("GET", "HEAD", "POST"):
            return PlainTextResponse("405: GET or POST only", 405)
        if method == "POST" and not self.same_origin(headers, host):
            return PlainTextResponse("403: a request from another origin changes nothing", 403)
        if path.startswith(PUBLIC) or self.signed_in(headers):
            return None
        if path.startswith("/api/") or "application/json" in headers.get("accept", ""):
            return JSONResponse({"error": "sign in: open the URL `amgr dashboard` printed"}, 401)
        return PlainTextResponse(
            "401: sign in by opening the URL `amgr dashboard` printed (it holds the token)", 401
        )

    def signed_in(self, headers: Headers) -> bool:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return same(auth[7:].strip(), self.token)
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE and same(value, self.session):
                return True
        return False

    @staticmethod
    def same_origin(headers: Headers, host: str) -> bool:
        """Whether a browser's ``Origin`` (else ``Referer``) names this server; a request
        with neither (a script with the bearer token) passes on to the CSRF check."""
        origin = headers.get("origin") or headers.get("referer")
        if origin is None:
            return True
        return urlsplit(origin).netloc == host and urlsplit(origin).scheme in ("http", "https")


def _limited(receive: Receive) -> Receive:
    """``receive`` that stops a body (chunked, no length) growing past :data:`MAX_BODY`."""
    seen = 0

    async def inner() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise ValueError(f"request body over {MAX_BODY} bytes")
        return message

    return inner


def login(token: str, given: str | None, secure: bool) -> Response:
    """The answer to ``/login?token=``: the session cookie and the overview, or 401."""
    if not same(given, token):
        return PlainTextResponse("401: wrong or old token (see `amgr dashboard`)", 401)
    response = RedirectResponse("/", 303)
    response.set_cookie(
        COOKIE, derive(token, "session"), httponly=True, samesite="strict", secure=secure
    )
    return response


def csrf_ok(token: str, given: str | None) -> bool:
    return same(given, derive(token, "csrf"))


_PATH = re.compile(r"(?<![\w.:/~-])/(?:[\w.@+-]+/)+[\w.@+-]*")


def scrub(value: Any, home: str) -> Any:
    """``value`` with every secret masked and full paths outside ``home`` cut short."""
    if isinstance(value, Markup):  # built here from scrubbed parts (charts, previews)
        return value
    if isinstance(value, str):
        text = REGISTRY.mask(value) if REGISTRY.forms else value
        if "/" not in text:
            return text
        return _PATH.sub(lambda m: _short(m.group(0), home), text)
    if isinstance(value, dict):
        return {k: scrub(v, home) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v, home) for v in value]
    return value


def _short(path: str, home: str) -> str:
    if path == home or path.startswith(home.rstrip("/") + "/"):
        return path
    return "…/" + path.rstrip("/").rsplit("/", 1)[-1]
