"""Publishing targets named in config.json ``platforms``.

The seed's list form (``["youtube", "twitter"]``) becomes ``outbox`` platforms:
ready-to-post files, never claimed as posted. Every platform has a publishing
``window`` (``immediate``, ``slots`` or ``stagger``), an optional ``daily_limit``, a
``min_gap`` between posts and ``max_concurrent`` sends, and ``accepts``: the content
kinds it takes when an item names no targets of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache, lru_cache
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    ClassVar,
    Literal,
    TypeAlias,
    get_args,
    get_type_hints,
)

import annotated_types as at

from ..secrets import is_secret_name
from . import base
from .base import After, Model, Tagged
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


def _times(value: list[str]) -> list[str]:
    if not value:
        raise ValueError('needs at least one time, e.g. ["09:00", "17:00"]')
    if len(value) > MAX_SLOTS:
        raise ValueError(f"lists {len(value)} times; at most {MAX_SLOTS} slots a day")
    return sorted({_hhmm(t) for t in value})


def _tz(value: str | None) -> str | None:
    if value is not None:
        from ..scheduling.zones import load_zone

        load_zone(value, field="")  # a ValueError naming close matches
    return value


class _Strict(Model):
    # Defaults are not checked (they are valid); an unknown key is refused.
    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}


_Days = Annotated[list[str], After(_weekdays)]
_Clock = Annotated[str, After(_hhmm)]


@dataclass(kw_only=True)
class ImmediateWindow(_Strict):
    """Send as soon as an item is approved (still subject to ``daily_limit``/``min_gap``)."""

    mode: Literal["immediate"] = "immediate"


@dataclass(kw_only=True)
class SlotsWindow(_Strict):
    """Publish only at these local times on these days: one post per slot."""

    mode: Literal["slots"]
    days: _Days = field(default_factory=lambda: list(WEEKDAYS))
    times: Annotated[list[str], After(_times)]


@dataclass(kw_only=True)
class StaggerWindow(_Strict):
    """Spread posts between ``start`` and ``end`` local time, at most one per ``every``."""

    mode: Literal["stagger"]
    start: _Clock
    end: _Clock
    every: Annotated[str, After(_within_a_day)]
    days: _Days = field(default_factory=lambda: list(WEEKDAYS))

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(
                f"end {self.end} must be later than start {self.start} on the same day"
            )
        from ..scheduling import parse_duration

        if parse_duration(self.every) <= timedelta(0):
            raise ValueError('every must be longer than 0, e.g. "45m"')


Window = Annotated[
    ImmediateWindow | SlotsWindow | StaggerWindow,
    Tagged("mode", {"immediate": ImmediateWindow, "slots": SlotsWindow, "stagger": StaggerWindow}),
]


@dataclass(kw_only=True)
class _PlatformBase(_Strict):
    window: Window = field(default_factory=ImmediateWindow)
    daily_limit: Annotated[int, at.Ge(1), at.Le(MAX_DAILY_LIMIT)] | None = None
    max_concurrent: Annotated[int, at.Ge(1), at.Le(MAX_PLATFORM_CONCURRENT)] = 1
    min_gap: Annotated[str | None, After(_duration)] = None
    timezone: Annotated[Name | None, After(_tz)] = None
    accepts: list[ContentKind] | None = None
    """Content kinds sent here by ``publishing pending``; default depends on the kind."""

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


@dataclass(kw_only=True)
class OutboxPlatform(_PlatformBase):
    kind: Literal["outbox"] = "outbox"


@dataclass(kw_only=True)
class FilesystemPlatform(_PlatformBase):
    kind: Literal["filesystem"]
    path: Annotated[str, line(MAX_PATH)]
    """Folder for the Markdown files; relative paths are under the home folder."""


@dataclass(kw_only=True)
class WebhookPlatform(_PlatformBase):
    kind: Literal["webhook"]
    url: Url
    secret_env: Annotated[str | None, After(check_env_name)] = None
    timeout_s: Annotated[float, at.Gt(0), at.Le(_HTTP)] = 30.0
    include_files: Literal["base64", "urls", "none"] = "base64"
    """Binary files (images, video): inline base64, ``file://`` URLs on this machine, or
    listed by name, size and hash only."""


@dataclass(kw_only=True)
class WordPressPlatform(_PlatformBase):
    kind: Literal["wordpress"]
    url: Url
    user: Name
    password_env: Annotated[str, After(check_env_name)]
    status: Literal["publish", "draft", "future"] = "publish"
    """``future``: sent right away with the window's planned time as the post's date."""
    categories: list[Name] = field(default_factory=list)
    tags: list[Name] = field(default_factory=list)
    timeout_s: Annotated[float, at.Gt(0), at.Le(_HTTP)] = 30.0


@dataclass(kw_only=True)
class MastodonPlatform(_PlatformBase):
    kind: Literal["mastodon"]
    url: Url
    token_env: Annotated[str, After(check_env_name)]
    visibility: Literal["public", "unlisted", "private", "direct"] = "public"
    timeout_s: Annotated[float, at.Gt(0), at.Le(_HTTP)] = 30.0


# The other kinds are defined in .platforms_google and .platforms_social, on top of
# _PlatformBase above: those modules import this one, and this one imports them on the
# first use of a name below (PEP 562), so any of the three may be imported first (a
# publisher imports its own kind's module; an unpickled Dropbox platform, that of Dropbox).
_GOOGLE_NAMES = ("DropboxPlatform", "GDrivePlatform", "YouTubePlatform")
_SOCIAL_NAMES = (
    "KIND_ALIASES",
    "SOCIAL_ACCEPTS",
    "SOCIAL_KINDS",
    "BlueskyPlatform",
    "InstagramPlatform",
    "TelegramPlatform",
    "XPlatform",
)

if TYPE_CHECKING:
    from pydantic import TypeAdapter

    from .platforms_google import DropboxPlatform, GDrivePlatform, YouTubePlatform
    from .platforms_social import BlueskyPlatform, InstagramPlatform, TelegramPlatform, XPlatform

    SocialPlatform: TypeAlias = XPlatform | InstagramPlatform | BlueskyPlatform | TelegramPlatform
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
    PlatformConfig: TypeAlias = AnyPlatform
    """One platform, by its ``kind`` (every kind; see :data:`Platforms` for the lazy form)."""
    PLATFORM_KINDS: tuple[str, ...]
    """Every ``kind`` a platform may have, in the order of :data:`AnyPlatform`."""


@cache
def _elsewhere() -> dict[str, Any]:
    """The names that need .platforms_google and .platforms_social (imported once)."""
    from . import platforms_google as google
    from . import platforms_social as social

    names = {n: getattr(google, n) for n in _GOOGLE_NAMES}
    names |= {n: getattr(social, n) for n in _SOCIAL_NAMES}
    names["SocialPlatform"] = (
        social.XPlatform
        | social.InstagramPlatform
        | social.BlueskyPlatform
        | social.TelegramPlatform
    )
    names["AnyPlatform"] = (
        OutboxPlatform
        | FilesystemPlatform
        | WebhookPlatform
        | WordPressPlatform
        | MastodonPlatform
        | google.YouTubePlatform
        | google.GDrivePlatform
        | google.DropboxPlatform
        | names["SocialPlatform"]
    )
    models = {get_args(get_type_hints(m)["kind"])[0]: m for m in get_args(names["AnyPlatform"])}
    names["_MODELS"] = models
    names["PLATFORM_KINDS"] = tuple(models)
    names["PlatformConfig"] = Annotated[names["AnyPlatform"], Tagged("kind", models)]
    return names


def __getattr__(name: str) -> Any:
    try:
        value = _elsewhere()[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


def _models() -> dict[str, type[_PlatformBase]]:
    """Each platform model by its ``kind`` (read from its ``kind: Literal[...]``), in the
    order of :data:`AnyPlatform`."""
    models: dict[str, type[_PlatformBase]] = _elsewhere()["_MODELS"]
    return models


@lru_cache(maxsize=32)
def _adapter(kinds: tuple[str, ...] | None) -> TypeAdapter[dict[str, AnyPlatform]]:
    """The validator of a ``platforms`` map whose entries are of ``kinds`` (None: any)."""
    members = {k: m for k, m in _models().items() if kinds is None or k in kinds}
    # Tagged builds the validators of ``members`` only (the type it annotates is not read).
    return base.adapter(dict[str, Annotated[_PlatformBase, Tagged("kind", members)]])


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
        if not (isinstance(kind, str) and kind in _models()):
            return _adapter(None).validate_python(value)  # the errors of the whole union
        kinds.add(kind)
    return _adapter(tuple(sorted(kinds))).validate_python(value)


if TYPE_CHECKING:
    Platforms: TypeAlias = dict[str, AnyPlatform]
else:
    Platforms = Annotated[dict[str, Any], After(validate_platforms)]
"""config.json ``platforms``: a name → platform map, validated by :func:`validate_platforms`."""

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
    from .platforms_social import KIND_ALIASES

    kind = value.get("kind") if isinstance(value, dict) else None
    if isinstance(kind, str) and kind in KIND_ALIASES:
        return {**value, "kind": KIND_ALIASES[value["kind"]]}
    return value
