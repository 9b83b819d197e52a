"""Publishing targets named in config.json ``platforms``.

The seed's list form (``["youtube", "twitter"]``) becomes ``outbox`` platforms:
ready-to-post files, never claimed as posted.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _env(value: str | None) -> str | None:
    if value is not None and not ENV_NAME.match(value):
        raise ValueError(
            "must be the NAME of an environment variable (letters, digits, _), "
            "not the secret itself"
        )
    return value


def _hhmm(value: str) -> str:
    if not HHMM.match(value):
        raise ValueError(f"{value!r} is not HH:MM in 24-hour time, e.g. 09:00")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImmediateWindow(_Strict):
    mode: Literal["immediate"] = "immediate"


class SlotsWindow(_Strict):
    """Publish only at these local times on these days."""

    mode: Literal["slots"]
    days: list[str] = Field(default_factory=lambda: list(WEEKDAYS))
    times: list[str]

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        out = []
        for day in value:
            short = day.strip().lower()[:3]
            if short not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}: use mon, tue, wed, thu, fri, sat, sun")
            out.append(short)
        return out

    @field_validator("times")
    @classmethod
    def _times(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError('needs at least one time, e.g. ["09:00", "17:00"]')
        return sorted({_hhmm(t) for t in value})


class StaggerWindow(_Strict):
    """Spread posts between ``start`` and ``end`` local time, one per ``every``."""

    mode: Literal["stagger"]
    start: str
    end: str
    every: str

    _t = field_validator("start", "end")(_hhmm)


Window = Annotated[ImmediateWindow | SlotsWindow | StaggerWindow, Field(discriminator="mode")]


class _PlatformBase(_Strict):
    window: Window = Field(default_factory=ImmediateWindow)
    daily_limit: Annotated[int, Field(ge=1)] | None = None
    max_concurrent: Annotated[int, Field(ge=1)] = 1
    min_gap: str | None = None
    timezone: str | None = None


class OutboxPlatform(_PlatformBase):
    kind: Literal["outbox"] = "outbox"


class FilesystemPlatform(_PlatformBase):
    kind: Literal["filesystem"]
    path: str


class WebhookPlatform(_PlatformBase):
    kind: Literal["webhook"]
    url: str
    secret_env: str | None = None
    timeout_s: Annotated[float, Field(gt=0)] = 30.0

    _e = field_validator("secret_env")(_env)


class WordPressPlatform(_PlatformBase):
    kind: Literal["wordpress"]
    url: str
    user: str
    password_env: str
    status: Literal["publish", "draft", "future"] = "publish"
    categories: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    timeout_s: Annotated[float, Field(gt=0)] = 30.0

    _e = field_validator("password_env")(_env)


class MastodonPlatform(_PlatformBase):
    kind: Literal["mastodon"]
    url: str
    token_env: str
    visibility: Literal["public", "unlisted", "private", "direct"] = "public"
    timeout_s: Annotated[float, Field(gt=0)] = 30.0

    _e = field_validator("token_env")(_env)


PlatformConfig = Annotated[
    OutboxPlatform | FilesystemPlatform | WebhookPlatform | WordPressPlatform | MastodonPlatform,
    Field(discriminator="kind"),
]

PLATFORM_KINDS = ("outbox", "filesystem", "webhook", "wordpress", "mastodon")


def normalize_platforms(value: Any) -> Any:
    """Turn the seed's list form into ``{name: {"kind": "outbox"}}``; default kind outbox."""
    if isinstance(value, list):
        out: dict[str, Any] = {}
        for name in value:
            if not isinstance(name, str):
                return value  # let pydantic report the type error
            out[name] = {"kind": "outbox"}
        return out
    if isinstance(value, dict):
        return {
            k: ({"kind": "outbox", **v} if isinstance(v, dict) and "kind" not in v else v)
            for k, v in value.items()
        }
    return value
