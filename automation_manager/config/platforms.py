"""Publishing targets named in config.json ``platforms``.

The seed's list form (``["youtube", "twitter"]``) becomes ``outbox`` platforms:
ready-to-post files, never claimed as posted. Every platform has a publishing
``window`` (``immediate``, ``slots`` or ``stagger``), an optional ``daily_limit``, a
``min_gap`` between posts and ``max_concurrent`` sends, and ``accepts``: the content
kinds it takes when an item names no targets of its own.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, Union, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
    model_validator,
)

from ..secrets import is_secret_name
from .limits import (
    MAX_DAILY_LIMIT,
    MAX_NAME,
    MAX_PATH,
    MAX_PLATFORM_CONCURRENT,
    Name,
    Url,
    line,
)
from .limits import MAX_HTTP_TIMEOUT_S as _HTTP

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_SLOTS = 100
"""Publishing slots a day (``window.times``)."""
ContentKind = Literal["shorts", "blog", "ebook", "social"]
CONTENT_KINDS: tuple[ContentKind, ...] = ("shorts", "blog", "ebook", "social")

# What a seed-style outbox takes by its name; any other name takes every kind.
_OUTBOX_ACCEPTS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("youtube", "tiktok", "shorts", "reels"), ("shorts",)),
    "instagram": ("shorts", "social"),
    **dict.fromkeys(
        ("twitter", "x", "threads", "bluesky", "linkedin", "facebook", "mastodon"), ("social",)
    ),
    **dict.fromkeys(("amazon_kdp", "kdp", "gumroad", "leanpub", "payhip"), ("ebook",)),
    **dict.fromkeys(("medium", "substack", "devto", "dev.to", "ghost", "hashnode"), ("blog",)),
}
_KIND_ACCEPTS: dict[str, tuple[str, ...]] = {
    "filesystem": ("blog",),
    "wordpress": ("blog",),
    "mastodon": ("social",),
    "webhook": CONTENT_KINDS,
    "youtube": ("shorts",),
    "gdrive": ("ebook", "shorts"),
    "dropbox": ("ebook", "shorts"),
}


def check_env_name(value: str | None) -> str | None:
    """Refuse a secret pasted where the NAME of its environment variable belongs, and a
    name the system sets (``HOME``, ``PATH``, ``LC_ALL``...): its value would be sent as
    the credential, and masked everywhere amgr writes, as if it were one."""
    if value is None:
        return None
    if len(value) > MAX_NAME or not ENV_NAME.match(value):
        raise ValueError(
            "must be the NAME of an environment variable (letters, digits, _), "
            "not the secret itself"
        )
    if not is_secret_name(value):
        raise ValueError(
            f"{value} is set by the system, it does not hold a secret — name the variable "
            "you export the secret in, e.g. OPENAI_API_KEY, WP_APP_PASSWORD, MASTODON_TOKEN"
        )
    return value


def _hhmm(value: str) -> str:
    if not HHMM.match(value):
        raise ValueError(f"{value!r} is not HH:MM in 24-hour time, e.g. 09:00")
    return value


def _duration(value: str | None) -> str | None:
    if value is not None:
        from ..scheduling import parse_duration

        parse_duration(value)  # raises ScheduleSpecError (a ValueError) with the fix
    return value


def _within_a_day(value: str) -> str:
    from ..scheduling import parse_duration

    parse_duration(value, maximum=timedelta(days=1))
    return value


def _weekdays(value: list[str]) -> list[str]:
    if len(value) > len(WEEKDAYS):
        raise ValueError(f"lists {len(value)} days; a week has 7: name each day once")
    out = []
    for day in value:
        short = day.strip().lower()[:3]
        if short not in WEEKDAYS:
            raise ValueError(f"unknown weekday {day!r}: use mon, tue, wed, thu, fri, sat, sun")
        out.append(short)
    if not out:
        raise ValueError('needs at least one day, e.g. ["mon", "thu"]')
    return out


class _Strict(BaseModel):
    # Built on first use: a daemon builds the validators of the kinds it has, not all 12.
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ImmediateWindow(_Strict):
    """Send as soon as an item is approved (still subject to ``daily_limit``/``min_gap``)."""

    mode: Literal["immediate"] = "immediate"


class SlotsWindow(_Strict):
    """Publish only at these local times on these days: one post per slot."""

    mode: Literal["slots"]
    days: list[str] = Field(default_factory=lambda: list(WEEKDAYS))
    times: list[str]

    _d = field_validator("days")(_weekdays)

    @field_validator("times")
    @classmethod
    def _times(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError('needs at least one time, e.g. ["09:00", "17:00"]')
        if len(value) > MAX_SLOTS:
            raise ValueError(f"lists {len(value)} times; at most {MAX_SLOTS} slots a day")
        return sorted({_hhmm(t) for t in value})


class StaggerWindow(_Strict):
    """Spread posts between ``start`` and ``end`` local time, at most one per ``every``."""

    mode: Literal["stagger"]
    start: str
    end: str
    every: str
    days: list[str] = Field(default_factory=lambda: list(WEEKDAYS))

    _t = field_validator("start", "end")(_hhmm)
    _e = field_validator("every")(_within_a_day)
    _d = field_validator("days")(_weekdays)

    @model_validator(mode="after")
    def _order(self) -> StaggerWindow:
        if self.end <= self.start:
            raise ValueError(
                f"end {self.end} must be later than start {self.start} on the same day"
            )
        from ..scheduling import parse_duration

        if parse_duration(self.every) <= timedelta(0):
            raise ValueError('every must be longer than 0, e.g. "45m"')
        return self


Window = Annotated[ImmediateWindow | SlotsWindow | StaggerWindow, Field(discriminator="mode")]


class _PlatformBase(_Strict):
    window: Window = Field(default_factory=ImmediateWindow)
    daily_limit: Annotated[int, Field(ge=1, le=MAX_DAILY_LIMIT)] | None = None
    max_concurrent: Annotated[int, Field(ge=1, le=MAX_PLATFORM_CONCURRENT)] = 1
    min_gap: str | None = None
    timezone: Name | None = None
    accepts: list[ContentKind] | None = None
    """Content kinds sent here by ``publishing pending``; default depends on the kind."""

    _g = field_validator("min_gap")(_duration)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        if value is not None:
            from ..scheduling.zones import load_zone

            load_zone(value, field="")  # a ValueError naming close matches
        return value

    def gap(self) -> timedelta:
        """``min_gap`` as a duration (zero when unset)."""
        from ..scheduling import parse_duration

        return parse_duration(self.min_gap) if self.min_gap else timedelta(0)

    def accepted_kinds(self, name: str) -> tuple[str, ...]:
        """The content kinds this platform takes: ``accepts``, else the kind's default."""
        if self.accepts is not None:
            return tuple(self.accepts)
        kind = getattr(self, "kind", "outbox")
        if kind == "outbox":
            return _OUTBOX_ACCEPTS.get(name.lower(), CONTENT_KINDS)
        return _KIND_ACCEPTS.get(kind, CONTENT_KINDS)


class OutboxPlatform(_PlatformBase):
    kind: Literal["outbox"] = "outbox"


class FilesystemPlatform(_PlatformBase):
    kind: Literal["filesystem"]
    path: Annotated[str, line(MAX_PATH)]
    """Folder for the Markdown files; relative paths are under the home folder."""


class WebhookPlatform(_PlatformBase):
    kind: Literal["webhook"]
    url: Url
    secret_env: str | None = None
    timeout_s: Annotated[float, Field(gt=0, le=_HTTP)] = 30.0
    include_files: Literal["base64", "urls", "none"] = "base64"
    """Binary files (images, video): inline base64, ``file://`` URLs on this machine, or
    listed by name, size and hash only."""

    _e = field_validator("secret_env")(check_env_name)


class WordPressPlatform(_PlatformBase):
    kind: Literal["wordpress"]
    url: Url
    user: Name
    password_env: str
    status: Literal["publish", "draft", "future"] = "publish"
    """``future``: sent right away with the window's planned time as the post's date."""
    categories: list[Name] = Field(default_factory=list)
    tags: list[Name] = Field(default_factory=list)
    timeout_s: Annotated[float, Field(gt=0, le=_HTTP)] = 30.0

    _e = field_validator("password_env")(check_env_name)


class MastodonPlatform(_PlatformBase):
    kind: Literal["mastodon"]
    url: Url
    token_env: str
    visibility: Literal["public", "unlisted", "private", "direct"] = "public"
    timeout_s: Annotated[float, Field(gt=0, le=_HTTP)] = 30.0

    _e = field_validator("token_env")(check_env_name)


# Defined in their own module on top of _PlatformBase (so imported only here, below it).
from .platforms_google import DropboxPlatform, GDrivePlatform, YouTubePlatform  # noqa: E402
from .platforms_social import (  # noqa: E402  (they build on _PlatformBase above)
    KIND_ALIASES,
    SOCIAL_ACCEPTS,
    SOCIAL_KINDS,
    BlueskyPlatform,
    InstagramPlatform,
    TelegramPlatform,
    XPlatform,
)

_KIND_ACCEPTS.update(SOCIAL_ACCEPTS)
SocialPlatform = XPlatform | InstagramPlatform | BlueskyPlatform | TelegramPlatform

AnyPlatform: TypeAlias = (
    OutboxPlatform
    | FilesystemPlatform
    | WebhookPlatform
    | WordPressPlatform
    | MastodonPlatform
    | YouTubePlatform
    | GDrivePlatform
    | DropboxPlatform
    | SocialPlatform
)

PlatformConfig = Annotated[AnyPlatform, Field(discriminator="kind")]
"""One platform, by its ``kind`` (every kind; see :data:`Platforms` for the lazy form)."""

_MODELS: dict[str, type[_PlatformBase]] = {
    get_args(model.model_fields["kind"].annotation)[0]: model for model in get_args(AnyPlatform)
}


@lru_cache(maxsize=32)
def _adapter(kinds: tuple[str, ...] | None) -> TypeAdapter[dict[str, AnyPlatform]]:
    """The validator of a ``platforms`` map whose entries are of ``kinds`` (None: any)."""
    members = tuple(m for k, m in _MODELS.items() if kinds is None or k in kinds)
    union = Annotated[Union[members], Field(discriminator="kind")]  # type: ignore[valid-type]  # noqa: UP007
    return TypeAdapter(dict[str, union])


def validate_platforms(value: dict[str, Any]) -> dict[str, AnyPlatform]:
    """Validate ``platforms`` (already :func:`normalize_platforms`-ed) with the models of
    the kinds it names only, so a home with an outbox and a folder does not build the
    validators of YouTube, Instagram and the rest. A kind that is not one (or not a
    string) goes through the union of every kind: the same errors as one union."""
    if not value:
        return {}
    kinds: set[str] = set()
    for entry in value.values():
        kind = entry.get("kind") if isinstance(entry, dict) else getattr(entry, "kind", None)
        if not (isinstance(kind, str) and kind in _MODELS):
            return _adapter(None).validate_python(value)  # the errors of the whole union
        kinds.add(kind)
    return _adapter(tuple(sorted(kinds))).validate_python(value)


if TYPE_CHECKING:
    Platforms: TypeAlias = dict[str, AnyPlatform]
else:
    Platforms = Annotated[dict[str, Any], AfterValidator(validate_platforms)]
"""config.json ``platforms``: a name → platform map, validated by :func:`validate_platforms`."""

PLATFORM_KINDS = (
    "outbox",
    "filesystem",
    "webhook",
    "wordpress",
    "mastodon",
    "youtube",
    "gdrive",
    "dropbox",
    *SOCIAL_KINDS,
)
WINDOW_MODES = ("immediate", "slots", "stagger")


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
            k: ({"kind": "outbox", **v} if isinstance(v, dict) and "kind" not in v else _alias(v))
            for k, v in value.items()
        }
    return value


def _alias(value: Any) -> Any:
    """``{"kind": "twitter"}`` is kind ``x`` (:data:`KIND_ALIASES`)."""
    kind = value.get("kind") if isinstance(value, dict) else None
    if isinstance(kind, str) and kind in KIND_ALIASES:
        return {**value, "kind": KIND_ALIASES[value["kind"]]}
    return value
