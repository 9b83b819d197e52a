"""Durations as people write them: ``"30s"``, ``"15m"``, ``"1h30m"``, ``"2d"``, or seconds."""

from __future__ import annotations

import math
import re
from datetime import timedelta

from .errors import ScheduleSpecError, quoted

_FIX = (
    'write a number with a unit s, m, h or d, e.g. "30s", "15m", "1h30m", "2d" '
    "(plain numbers are seconds)"
)
_NUMBER = r"(\d+(?:\.\d+)?|\.\d+)"
_DURATION_RE = re.compile(
    rf"^(?:{_NUMBER}\s*d)?\s*(?:{_NUMBER}\s*h)?\s*(?:{_NUMBER}\s*m)?\s*(?:{_NUMBER}\s*s)?$",
    re.IGNORECASE,
)
_PLAIN_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_UNIT_SECONDS = (86_400, 3_600, 60, 1)
MAX_DURATION = timedelta(days=366)
"""No duration amgr reads (interval, jitter, grace, min_gap) may be longer: a year and a
day is past any sensible period, and far from the date overflow a longer one causes."""


def parse_duration(
    text: str | int | float, *, field: str = "", maximum: timedelta = MAX_DURATION
) -> timedelta:
    """Read a duration: ``"30s"``, ``"15m"``, ``"1h"``, ``"2d"``, ``"1h30m"``, or seconds.

    Units are case-insensitive and must come largest first; a plain number (or a string
    holding one) is a count of seconds.

    :param field: where the value sits in the schedule, for the error message.
    :param maximum: the longest duration accepted (default :data:`MAX_DURATION`).
    :raises ScheduleSpecError: on an unreadable, negative, non-finite or too long value.
    """
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ScheduleSpecError(
            field, f"a duration must be a string or a number, got {type(text).__name__}", _FIX
        )
    seconds: float
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        stripped = text.strip()
        if _PLAIN_NUMBER_RE.match(stripped):
            seconds = float(stripped)
        else:
            unsigned = stripped.removeprefix("-").strip()
            match = _DURATION_RE.match(unsigned)
            if not unsigned or match is None:
                raise ScheduleSpecError(field, f"{quoted(text, 40)} is not a duration", _FIX)
            sign = -1.0 if stripped.startswith("-") else 1.0
            seconds = sign * sum(
                float(part) * unit
                for part, unit in zip(match.groups(), _UNIT_SECONDS, strict=True)
                if part is not None
            )
    if not math.isfinite(seconds):
        raise ScheduleSpecError(field, f"{quoted(text, 40)} is not a finite duration", _FIX)
    if seconds < 0:
        raise ScheduleSpecError(
            field, f"{quoted(text, 40)} is negative; a duration must be 0 or more", _FIX
        )
    if seconds > maximum.total_seconds():
        limit = format_duration(maximum)
        raise ScheduleSpecError(
            field,
            f"{quoted(text, 40)} is longer than the limit of {limit}",
            f"use a duration of at most {limit}",
        )
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """Write a duration the way :func:`parse_duration` reads it: ``"1h30m"``, ``"45s"``."""
    total = value // timedelta(microseconds=1)
    if total == 0:
        return "0s"
    sign = "-" if total < 0 else ""
    micros = abs(total)
    seconds, micros = divmod(micros, 1_000_000)
    parts = []
    for unit, name in zip(_UNIT_SECONDS, "dhms", strict=True):
        count, seconds = divmod(seconds, unit)
        if count:
            parts.append(f"{count}{name}")
    if micros:
        fraction = f"{micros / 1_000_000:.6f}".rstrip("0").lstrip("0")
        if parts and parts[-1].endswith("s"):
            parts[-1] = parts[-1][:-1] + fraction + "s"
        else:
            parts.append(f"0{fraction}s")
    return sign + "".join(parts)
