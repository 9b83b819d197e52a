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
    import httpx

    auth = None
    if cfg.client_secret_env:
        secret = secret_from_env(
            cfg.client_secret_env, publisher.setting("client_secret_env"), "the client secret"
        )
        auth = (str(cfg.client_id), secret)
    response = httpx.post(
        f"{cfg.api_base.rstrip('/')}/2/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": cfg.client_id,
        },
        auth=auth,
        timeout=cfg.timeout_s,
    )
    if response.status_code >= 400:
        raise AuthError(
            f"{name}: X refused to refresh the token ({response.status_code}): run "
            f"`amgr auth x --platform {name}` again"
        )
    fresh = response.json()
    save_tokens(home, name, fresh, now)
    REGISTRY.register(str(fresh["access_token"]))
    return str(fresh["access_token"])
