"""The installed-app consent flow (RFC 8252) with PKCE (RFC 7636).

A one-shot HTTP listener on ``127.0.0.1`` (a free port), the browser sent to the consent
page with a PKCE S256 challenge and a random ``state``; the code from the redirect is
exchanged at the token endpoint with the verifier.
"""

from __future__ import annotations

import base64
import hashlib
import secrets as pysecrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ...errors import AuthError
from ..base import Sleep
from .tokens import OAuthClient, Token, TokenStore, grant_token, reason


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

    def __init__(self, state: str, port: int = 0, path: str = "/") -> None:
        self.state = state
        self.path = path
        self.params: dict[str, str] | None = None
        self.done = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                if (
                    parts.path != owner.path
                    or params.get("state") != owner.state
                    or not ("code" in params or "error" in params)
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

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self.done.is_set():
            self.server.handle_request()

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"

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
    try:
        listener = _Redirect(state, client.redirect_port, client.redirect_path)
    except OSError as exc:
        raise AuthError(
            f"{client.platform}: cannot listen on 127.0.0.1:{client.redirect_port} for the "
            f"consent page's answer ({exc.strerror}): stop what uses that port and run "
            f"`amgr auth {client.platform}` again"
        ) from None
    with listener as redirect:
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
    return keep_token(client, store, got)


def keep_token(client: OAuthClient, store: TokenStore, got: Token | dict[str, Any]) -> Token:
    if isinstance(got, dict):
        raise AuthError(
            f"{client.platform}: the token endpoint refused the code ({reason(got)}): check "
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
