"""Time zones: the machine's zone, loading a named zone, and the DST rule for wall times.

The DST rule, used by every wall-clock trigger: a local time that does not exist (it
falls in a spring-forward gap) runs at the first instant that does, the moment the
clock jumps; a local time that occurs twice (fall-back) resolves to its first
occurrence unless the caller asks for the second (``fold=1``).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .errors import ScheduleSpecError

_ONE_SECOND = timedelta(seconds=1)


def as_utc(value: datetime, name: str = "after") -> datetime:
    """``value`` as an aware UTC datetime.

    :raises ValueError: if ``value`` is naive: its instant is unknowable.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} must be an aware datetime (with a time zone), got naive {value!r}; "
            "e.g. datetime.now(timezone.utc)"
        )
    return value.astimezone(UTC)


MAX_ZONE_NAME = 64
"""Characters in a zone name (the longest IANA name has 32). zoneinfo imports one
package per ``/``-separated part from tzdata, so a name with hundreds of parts ends in
RecursionError instead of "unknown zone"."""


def is_zone(name: str) -> bool:
    """Whether ``name`` is a zone zoneinfo can load, as written (not stripped)."""
    if len(name) > MAX_ZONE_NAME:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _zone_from_path(path: str) -> str | None:
    marker = "zoneinfo/"
    if marker not in path:
        return None
    name = path.rsplit(marker, 1)[1]
    return name if is_zone(name) else None


def local_zone_name() -> str:
    """The machine's IANA zone name: ``$TZ``, ``/etc/timezone``, ``/etc/localtime``, else UTC."""
    tz_env = os.environ.get("TZ", "").strip().removeprefix(":")
    if tz_env:
        if tz_env.startswith("/"):
            found = _zone_from_path(os.path.realpath(tz_env))
            if found:
                return found
        elif is_zone(tz_env):
            return tz_env
    try:
        name = Path("/etc/timezone").read_text(encoding="utf-8").strip()
    except OSError:
        name = ""
    if name and is_zone(name):
        return name
    try:
        found = _zone_from_path(os.path.realpath("/etc/localtime"))
    except OSError:
        found = None
    return found or "UTC"


@lru_cache(maxsize=1)
def _all_zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def load_zone(name: object, field: str = "timezone") -> ZoneInfo:
    """The zone called ``name`` (an IANA name such as ``"Europe/Berlin"``).

    :raises ScheduleSpecError: if ``name`` is not a string or names no known zone.
    """
    fix = 'use an IANA zone name, e.g. "Europe/Berlin", "America/New_York" or "UTC"'
    if not isinstance(name, str):
        raise ScheduleSpecError(
            field, f"a time zone must be a string, got {type(name).__name__}", fix
        )
    if name.strip() and is_zone(name.strip()):
        return ZoneInfo(name.strip())
    if len(name) > MAX_ZONE_NAME:
        raise ScheduleSpecError(
            field, f"a time zone name of {len(name)} characters is not a zone", fix
        )
    by_lower = {zone.lower(): zone for zone in _all_zone_names()}
    import difflib  # only when there is a mistake to name

    close = by_lower.get(name.strip().lower()) or next(
        iter(difflib.get_close_matches(name, _all_zone_names(), n=1)), None
    )
    if close:
        fix = f'did you mean "{close}"? ' + fix
    raise ScheduleSpecError(field, f"unknown time zone {name!r}", fix)


def resolve_wall(naive: datetime, tz: ZoneInfo, fold: int = 0) -> datetime:
    """The UTC instant at which the local wall time ``naive`` happens in ``tz``.

    A time in a spring-forward gap resolves to the instant the gap ends; a time that
    happens twice resolves to the first occurrence (``fold=0``) or the second (``fold=1``).
    """
    instant = naive.replace(tzinfo=tz, fold=fold).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == naive:
        return instant
    return _gap_end(naive, tz)


def _gap_end(naive: datetime, tz: ZoneInfo) -> datetime:
    """The instant a spring-forward gap containing ``naive`` ends (the clock jump)."""
    # PEP 495: in a gap, fold=1 uses the offset after the jump (an earlier instant),
    # fold=0 the offset before it (a later one); the jump lies between the two.
    low = naive.replace(tzinfo=tz, fold=1).astimezone(UTC).replace(microsecond=0)
    high = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if low > high:
        low, high = high.replace(microsecond=0), low
    after_offset = high.astimezone(tz).utcoffset()
    steps = int((high - low) / _ONE_SECOND) + 1
    # Binary search for the first whole second that already has the new offset.
    lo, hi = 0, steps
    while lo < hi:
        mid = (lo + hi) // 2
        if (low + mid * _ONE_SECOND).astimezone(tz).utcoffset() == after_offset:
            hi = mid
        else:
            lo = mid + 1
    return low + lo * _ONE_SECOND
