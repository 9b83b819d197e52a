"""Settings of the social platforms: X, Instagram, Bluesky and Telegram.

Each has an ``api_base`` (default: the public endpoint) so tests and compatible servers
work, and names the environment variables that hold its secrets (never the secrets).
``twitter`` is accepted as another name of kind ``x``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import annotated_types as at

from .base import After, Before
from .limits import MAX_HTTP_TIMEOUT_S as _HTTP
from .limits import MAX_PATH, Name, Url, line
from .platforms import _KIND_ACCEPTS, _PlatformBase, check_env_name

KIND_ALIASES = {"twitter": "x"}
"""Other names a platform's ``kind`` may be given by."""
SOCIAL_ACCEPTS: dict[str, tuple[str, ...]] = {
    "x": ("social", "shorts"),
    "bluesky": ("social",),
    "instagram": ("shorts", "social"),
    "telegram": ("social", "shorts"),
}
_KIND_ACCEPTS.update(SOCIAL_ACCEPTS)  # what accepted_kinds reads for these kinds
_CHAT_ID = re.compile(r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|-?\d{1,20})$")
_DIGITS = re.compile(r"^\d{1,30}$")

_X_REAL = (
    '{"kind": "x", "token_env": "X_USER_TOKEN"} (an OAuth 2.0 user token; or "client_id" '
    "and run `amgr auth x`; or api_key_env, api_secret_env, access_token_env and "
    "access_secret_env: OAuth 1.0a user keys)"
)
SOCIAL_REAL_KINDS: dict[str, str] = {
    "x": _X_REAL,
    "twitter": _X_REAL,
    "instagram": '{"kind": "instagram", "user_id": "...", "token_env": "IG_ACCESS_TOKEN", '
    '"public_media_dir": "...", "public_media_base_url": "https://..."}',
    "bluesky": '{"kind": "bluesky", "handle": "you.bsky.social", '
    '"password_env": "BSKY_APP_PASSWORD"} (an app password)',
    "telegram": '{"kind": "telegram", "token_env": "TELEGRAM_BOT_TOKEN", '
    '"chat_id": "@yourchannel"} (a bot from @BotFather)',
}
"""What makes a seed-style outbox named after a social platform post for real."""


def _user_id(value: object) -> object:
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not _DIGITS.match(value):
        raise ValueError(
            "must be the Instagram account id (digits), from GET /me/accounts → "
            "instagram_business_account"
        )
    return value


def _public(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL Instagram can fetch the media from")
    return value.rstrip("/")


def _handle(value: str) -> str:
    value = value.strip().lstrip("@")
    if not (value.startswith("did:") or "." in value):
        raise ValueError(f"{value!r} is not a handle: use the full one, e.g. alice.bsky.social")
    return value


def _chat(value: object) -> object:
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not _CHAT_ID.match(value.strip()):
        raise ValueError(
            "must be @channelname or a numeric chat id like -1001234567890 (forward a "
            "message of the chat to @userinfobot to learn it)"
        )
    return value.strip()


_EnvName = Annotated[str | None, After(check_env_name)]
"""An optional ``*_env`` field: the NAME of the variable that holds a secret."""


@dataclass(kw_only=True)
class XPlatform(_PlatformBase):
    """X (Twitter) API v2: ``POST /2/tweets`` and the chunked media upload."""

    kind: Literal["x"]
    api_base: Url = "https://api.x.com"
    token_env: _EnvName = None
    """An OAuth 2.0 user-context access token (scopes tweet.read tweet.write users.read
    media.write)."""
    client_id: Name | None = None
    """An OAuth 2.0 client id: ``amgr auth x`` stores and refreshes the tokens itself."""
    client_secret_env: _EnvName = None
    """The client secret, for a confidential client (web app); none for a public one."""
    auth_url: Url = "https://x.com/i/oauth2/authorize"
    redirect_port: Annotated[int, at.Ge(1024), at.Le(65535)] = 8765
    """``amgr auth x`` listens on http://127.0.0.1:PORT/callback: register that exact
    callback URI in the app's settings."""
    api_key_env: _EnvName = None
    api_secret_env: _EnvName = None
    access_token_env: _EnvName = None
    access_secret_env: _EnvName = None
    max_characters: Annotated[int, at.Ge(1), at.Le(25_000)] = 280
    """280 for most accounts; up to 25,000 for subscribers."""
    processing_timeout_s: Annotated[float, at.Gt(0), at.Le(3600)] = 600.0
    timeout_s: Annotated[float, at.Gt(0), at.Le(_HTTP)] = 30.0

    def __post_init__(self) -> None:
        keys = (self.api_key_env, self.api_secret_env, self.access_token_env)
        oauth1 = (*keys, self.access_secret_env)
        if any(oauth1) and not all(oauth1):
            missing = [
                n
                for n, v in zip(
                    ("api_key_env", "api_secret_env", "access_token_env", "access_secret_env"),
                    oauth1,
                    strict=True,
                )
                if not v
            ]
            raise ValueError(
                f"OAuth 1.0a needs all four key variables; missing {', '.join(missing)}"
            )
        if not any(oauth1) and not self.token_env and not self.client_id:
            raise ValueError(
                "no credentials — set token_env (an OAuth 2.0 user token), client_id (then run "
                "`amgr auth x`), or api_key_env, api_secret_env, access_token_env and "
                "access_secret_env (OAuth 1.0a user keys)"
            )

    def oauth1(self) -> bool:
        return self.api_key_env is not None


@dataclass(kw_only=True)
class InstagramPlatform(_PlatformBase):
    """Instagram Graph API content publishing (a professional account)."""

    kind: Literal["instagram"]
    api_base: Url = "https://graph.instagram.com"
    api_version: Annotated[str, line(12)] = "v21.0"
    user_id: Annotated[str, Before(_user_id)]
    """The Instagram professional account id (``ig-user-id``), digits."""
    token_env: Annotated[str, After(check_env_name)]
    public_media_base_url: Annotated[Url | None, After(_public)] = None
    """Where ``public_media_dir`` is served on the web, e.g. https://cdn.example.com/amgr."""
    public_media_dir: Annotated[str, line(MAX_PATH)] | None = None
    """A folder published at ``public_media_base_url`` (relative: under the home)."""
    media_wordpress: Name | None = None
    """Instead: the name of a ``wordpress`` platform whose media library takes the files."""
    token_refresh: bool = True
    """Refresh the long-lived token (``ig_refresh_token``) before it expires and keep the
    new one in ``.mp/auth/``; off for tokens that do not expire (Facebook Page tokens)."""
    processing_timeout_s: Annotated[float, at.Gt(0), at.Le(3600)] = 600.0
    timeout_s: Annotated[float, at.Gt(0), at.Le(_HTTP)] = 30.0

    @classmethod
    def before(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("media_wordpress"):
            missing = [k for k in ("public_media_dir", "public_media_base_url") if k not in data]
            if missing:
                raise ValueError(
                    f"{' and '.join(missing)} not set — Instagram fetches media from the web: "
                    "public_media_dir is a folder amgr copies the media to, "
                    "public_media_base_url the address where that folder is served; or set "
                    "media_wordpress to a wordpress platform whose media library takes them"
                )
        return data


@dataclass(kw_only=True)
class BlueskyPlatform(_PlatformBase):
    """Bluesky (AT Protocol) through the account's PDS."""

    kind: Literal["bluesky"]
    api_base: Url = "https://bsky.social"
    """The PDS; https://bsky.social for accounts hosted by Bluesky."""
    handle: Annotated[Name, After(_handle)]
    """The account's handle (alice.bsky.social) or DID."""
    password_env: Annotated[str, After(check_env_name)]
    """An app password (Settings → Privacy and security → App passwords)."""
    langs: Annotated[list[Annotated[str, line(16)]], at.MaxLen(3)] = field(default_factory=list)
    timeout_s: Annotated[float, at.Gt(0), at.Le(_HTTP)] = 30.0


@dataclass(kw_only=True)
class TelegramPlatform(_PlatformBase):
    """A Telegram bot posting to a channel or chat."""

    kind: Literal["telegram"]
    api_base: Url = "https://api.telegram.org"
    token_env: Annotated[str, After(check_env_name)]
    chat_id: Annotated[str, Before(_chat)]
    """``@channelname`` or a numeric chat id (``-100…`` for channels)."""
    disable_notification: bool = False
    timeout_s: Annotated[float, at.Gt(0), at.Le(_HTTP)] = 30.0


SOCIAL_KINDS = ("x", "instagram", "bluesky", "telegram")
