"""X OAuth 2.0 user tokens kept by amgr: ``.mp/auth/<platform>.json`` (0600).

The store is two functions, :func:`load_tokens` and :func:`save_tokens`, so it can be
folded onto the shared token store later. :func:`access_token` returns a token valid for
at least five more minutes, refreshing it (``grant_type=refresh_token`` at
``{api_base}/2/oauth2/token``) when needed; X rotates the refresh token on every refresh,
so the new pair is saved before it is used.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AuthError
from ..fsutil import atomic_write_json, ensure_dir, read_json
from ..home import Home
from ..secrets import REGISTRY, secret_from_env

if TYPE_CHECKING:
    from .x import XPublisher

MARGIN = timedelta(minutes=5)


def tokens_path(home: Home, platform: str) -> Path:
    return home.mp / "auth" / f"{platform}.json"


def load_tokens(home: Home, platform: str) -> dict[str, Any] | None:
    """The stored tokens of ``platform`` (registered as secrets), or None."""
    try:
        data = read_json(tokens_path(home, platform))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    for key in ("access_token", "refresh_token"):
        if data.get(key):
            REGISTRY.register(str(data[key]))
    return data


def save_tokens(home: Home, platform: str, tokens: dict[str, Any], now: datetime) -> None:
    """Store a token answer (``access_token``, ``refresh_token``, ``expires_in``) 0600."""
    path = tokens_path(home, platform)
    ensure_dir(path.parent)
    data = dict(tokens)
    if "expires_in" in data:
        data["expires_at"] = (now + timedelta(seconds=float(data["expires_in"]))).isoformat()
    atomic_write_json(path, data, private=True)


def access_token(publisher: XPublisher) -> str:
    """A current access token from the store, refreshed when it is about to expire."""
    home, name, cfg = publisher.env.home, publisher.name, publisher.config
    tokens = load_tokens(home, name)
    if not tokens or not tokens.get("access_token"):
        raise AuthError(
            f"{name}: no X tokens yet for client {publisher.setting('client_id')}: run "
            f"`amgr auth x --platform {name}` once"
        )
    now = publisher.env.now()
    expires = tokens.get("expires_at")
    if expires and datetime.fromisoformat(str(expires)) - MARGIN > now:
        return str(tokens["access_token"])
    if not tokens.get("refresh_token"):
        raise AuthError(f"{name}: the X token expired: run `amgr auth x --platform {name}`")
    fresh = token_request(
        home,
        name,
        cfg,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        now,
        refused=f"X refused to refresh the token: run `amgr auth x --platform {name}` again",
    )
    return str(fresh["access_token"])


def token_request(
    home: Home, name: str, cfg: Any, grant: dict[str, str], now: datetime, *, refused: str
) -> dict[str, Any]:
    """POST ``grant`` to ``{api_base}/2/oauth2/token`` (Basic auth for a confidential
    client); the tokens, registered as secrets and stored."""
    import httpx

    from .http import platform_message

    auth = None
    if cfg.client_secret_env:
        secret = secret_from_env(
            cfg.client_secret_env, f"platforms.{name}.client_secret_env", "the client secret"
        )
        auth = (str(cfg.client_id), secret)
    url = f"{cfg.api_base.rstrip('/')}/2/oauth2/token"
    try:
        response = httpx.post(
            url, data={**grant, "client_id": str(cfg.client_id)}, auth=auth, timeout=cfg.timeout_s
        )
    except httpx.HTTPError as exc:
        from ..errors import TransientError

        raise TransientError(f"{name}: no answer from {url} ({exc}); try again later") from None
    if response.status_code >= 400:
        raise AuthError(f"{name}: {refused} ({response.status_code}: {platform_message(response)})")
    tokens: dict[str, Any] = response.json()
    for key in ("access_token", "refresh_token"):
        if tokens.get(key):
            REGISTRY.register(str(tokens[key]))
    save_tokens(home, name, tokens, now)
    return tokens


SCOPES = "tweet.read tweet.write users.read media.write offline.access"


def pkce_pair() -> tuple[str, str]:
    """A PKCE ``code_verifier`` and its S256 ``code_challenge`` (RFC 7636)."""
    import base64
    import hashlib
    import secrets

    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(
    home: Home,
    name: str,
    cfg: Any,
    *,
    port: int,
    now: Any,
    show: Any,
    open_browser: bool,
    timeout_s: float = 300.0,
) -> dict[str, Any]:
    """``amgr auth x``: the OAuth 2.0 authorization-code flow with PKCE and a loopback
    redirect to ``http://127.0.0.1:PORT/callback``; the tokens, stored 0600.

    :param show: prints one line for the person (the address to open).
    """
    import http.server
    import secrets
    import threading
    from urllib.parse import parse_qs, urlencode, urlsplit

    from ..errors import TaskError

    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)
    redirect = f"http://127.0.0.1:{port}/callback"
    answer: dict[str, str] = {}
    done = threading.Event()

    class Callback(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            if parts.path != "/callback":
                self.send_error(404)
                return
            answer.update(query)
            ok = query.get("state") == state and "code" in query
            body = (
                b"amgr is connected to X. You can close this tab."
                if ok
                else b"amgr did not get an authorization; look at the terminal."
            )
            self.send_response(200 if ok else 400)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            done.set()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    try:
        server = http.server.HTTPServer(("127.0.0.1", port), Callback)
    except OSError as exc:
        raise TaskError(f"{name}: cannot listen on 127.0.0.1:{port} ({exc}): use --port") from None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = (
        cfg.auth_url
        + "?"
        + urlencode(
            {
                "response_type": "code",
                "client_id": cfg.client_id,
                "redirect_uri": redirect,
                "scope": SCOPES,
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
    )
    show(f"open this address, sign in and allow amgr (callback {redirect}):\n{url}")
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        if not done.wait(timeout_s):
            raise TaskError(f"{name}: no answer on {redirect} within {timeout_s:.0f} s")
    finally:
        server.shutdown()
        server.server_close()
    if answer.get("state") != state:
        raise AuthError(f"{name}: the answer on {redirect} has the wrong state: try again")
    if "code" not in answer:
        raise AuthError(f"{name}: X did not authorize amgr ({answer.get('error', 'no code')})")
    return token_request(
        home,
        name,
        cfg,
        {
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": redirect,
            "code_verifier": verifier,
        },
        now(),
        refused=f"X refused the authorization code: check platforms.{name}.client_id",
    )
