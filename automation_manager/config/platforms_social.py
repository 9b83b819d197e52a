"""Settings of the social platforms: X, Instagram, Bluesky and Telegram.

Each has an ``api_base`` (default: the public endpoint) so tests and compatible servers
work, and names the environment variables that hold its secrets (never the secrets).
``twitter`` is accepted as another name of kind ``x``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .limits import MAX_HTTP_TIMEOUT_S as _HTTP
from .limits import MAX_PATH, Name, Url, line
from .platforms import _PlatformBase, check_env_name

KIND_ALIASES = {"twitter": "x"}
"""Other names a platform's ``kind`` may be given by."""
SOCIAL_ACCEPTS: dict[str, tuple[str, ...]] = {
    "x": ("social", "shorts"),
    "bluesky": ("social",),
    "instagram": ("shorts", "social"),
    "telegram": ("social", "shorts"),
}
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


class XPlatform(_PlatformBase):
    """X (Twitter) API v2: ``POST /2/tweets`` and the chunked media upload."""

    kind: Literal["x"]
    api_base: Url = "https://api.x.com"
    token_env: str | None = None
    """An OAuth 2.0 user-context access token (scopes tweet.read tweet.write users.read
    media.write)."""
    client_id: Name | None = None
    """An OAuth 2.0 client id: ``amgr auth x`` stores and refreshes the tokens itself."""
    client_secret_env: str | None = None
    """The client secret, for a confidential client (web app); none for a public one."""
    auth_url: Url = "https://x.com/i/oauth2/authorize"
    redirect_port: Annotated[int, Field(ge=1024, le=65535)] = 8765
    """``amgr auth x`` listens on http://127.0.0.1:PORT/callback: register that exact
    callback URI in the app's settings."""
    api_key_env: str | None = None
    api_secret_env: str | None = None
    access_token_env: str | None = None
    access_secret_env: str | None = None
    max_characters: Annotated[int, Field(ge=1, le=25_000)] = 280
    """280 for most accounts; up to 25,000 for subscribers."""
    processing_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 600.0
    timeout_s: Annotated[float, Field(gt=0, le=_HTTP)] = 30.0

    _e = field_validator(
        "token_env",
        "client_secret_env",
        "api_key_env",
        "api_secret_env",
        "access_token_env",
        "access_secret_env",
    )(check_env_name)

    @model_validator(mode="after")
    def _credentials(self) -> XPlatform:
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
        return self

    def oauth1(self) -> bool:
        return self.api_key_env is not None


class InstagramPlatform(_PlatformBase):
    """Instagram Graph API content publishing (a professional account)."""

    kind: Literal["instagram"]
    api_base: Url = "https://graph.instagram.com"
    api_version: Annotated[str, line(12)] = "v21.0"
    user_id: str
    """The Instagram professional account id (``ig-user-id``), digits."""
    token_env: str
    public_media_base_url: Url | None = None
    """Where ``public_media_dir`` is served on the web, e.g. https://cdn.example.com/amgr."""
    public_media_dir: Annotated[str, line(MAX_PATH)] | None = None
    """A folder published at ``public_media_base_url`` (relative: under the home)."""
    media_wordpress: Name | None = None
    """Instead: the name of a ``wordpress`` platform whose media library takes the files."""
    token_refresh: bool = True
    """Refresh the long-lived token (``ig_refresh_token``) before it expires and keep the
    new one in ``.mp/auth/``; off for tokens that do not expire (Facebook Page tokens)."""
    processing_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 600.0
    timeout_s: Annotated[float, Field(gt=0, le=_HTTP)] = 30.0

    _e = field_validator("token_env")(check_env_name)

    @model_validator(mode="before")
    @classmethod
    def _public_media(cls, value: object) -> object:
        if isinstance(value, dict) and not value.get("media_wordpress"):
            missing = [k for k in ("public_media_dir", "public_media_base_url") if k not in value]
            if missing:
                raise ValueError(
                    f"{' and '.join(missing)} not set — Instagram fetches media from the web: "
                    "public_media_dir is a folder amgr copies the media to, "
                    "public_media_base_url the address where that folder is served; or set "
                    "media_wordpress to a wordpress platform whose media library takes them"
                )
        return value

    @field_validator("user_id", mode="before")
    @classmethod
    def _user_id(cls, value: object) -> object:
        if isinstance(value, int):
            value = str(value)
        if not isinstance(value, str) or not _DIGITS.match(value):
            raise ValueError(
                "must be the Instagram account id (digits), from GET /me/accounts → "
                "instagram_business_account"
            )
        return value

    @field_validator("public_media_base_url")
    @classmethod
    def _public(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL Instagram can fetch the media from")
        return value.rstrip("/")


class BlueskyPlatform(_PlatformBase):
    """Bluesky (AT Protocol) through the account's PDS."""

    kind: Literal["bluesky"]
    api_base: Url = "https://bsky.social"
    """The PDS; https://bsky.social for accounts hosted by Bluesky."""
    handle: Name
    """The account's handle (alice.bsky.social) or DID."""
    password_env: str
    """An app password (Settings → Privacy and security → App passwords)."""
    langs: list[Annotated[str, line(16)]] = Field(default_factory=list, max_length=3)
    timeout_s: Annotated[float, Field(gt=0, le=_HTTP)] = 30.0

    _e = field_validator("password_env")(check_env_name)

    @field_validator("handle")
    @classmethod
    def _handle(cls, value: str) -> str:
        value = value.strip().lstrip("@")
        if not (value.startswith("did:") or "." in value):
            raise ValueError(f"{value!r} is not a handle: use the full one, e.g. alice.bsky.social")
        return value


class TelegramPlatform(_PlatformBase):
    """A Telegram bot posting to a channel or chat."""

    kind: Literal["telegram"]
    api_base: Url = "https://api.telegram.org"
    token_env: str
    chat_id: str
    """``@channelname`` or a numeric chat id (``-100…`` for channels)."""
    disable_notification: bool = False
    timeout_s: Annotated[float, Field(gt=0, le=_HTTP)] = 30.0

    _e = field_validator("token_env")(check_env_name)

    @field_validator("chat_id", mode="before")
    @classmethod
    def _chat(cls, value: object) -> object:
        if isinstance(value, int):
            value = str(value)
        if not isinstance(value, str) or not _CHAT_ID.match(value.strip()):
            raise ValueError(
                "must be @channelname or a numeric chat id like -1001234567890 (forward a "
                "message of the chat to @userinfobot to learn it)"
            )
        return value.strip()


SOCIAL_KINDS = ("x", "instagram", "bluesky", "telegram")
