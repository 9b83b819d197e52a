"""Reading a schedule value (a preset name or an object) into a :class:`Schedule`.

Every rejection is a :class:`ScheduleSpecError` naming the field, what is wrong and a
valid example, so a person can fix the file from the message alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from ..enums import MisfirePolicy
from .cron import CronTrigger
from .durations import format_duration, parse_duration
from .errors import ScheduleSpecError, quoted
from .model import Schedule
from .triggers import (
    DailyTrigger,
    HourlyTrigger,
    IntervalTrigger,
    MonthlyTrigger,
    Trigger,
    WeeklyTrigger,
)
from .zones import load_zone, local_zone_name

PRESETS = ("hourly", "daily", "weekly", "biweekly", "monthly")
FORMS = ("every", "interval", "cron")
COMMON_KEYS = ("timezone", "jitter", "misfire", "grace")
EVERY_KEYS: dict[str, tuple[str, ...]] = {
    "hour": (),
    "day": ("at",),
    "week": ("days", "at"),
    "month": ("day", "at"),
}
TIME_FIX = 'use HH:MM, 24-hour, e.g. "09:00" or "18:30"'
DAYS_FIX = 'use mon, tue, wed, thu, fri, sat, sun (or full names), e.g. ["mon", "thu"]'
EXAMPLE = '{"every": "day", "at": "09:00"}'
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_NUMBERS = {name: i for i, name in enumerate(WEEKDAYS)} | {
    name[:3]: i for i, name in enumerate(WEEKDAYS)
}
_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_MIN_INTERVAL = timedelta(seconds=1)
MAX_TIMES = 100
"""Times of day in one ``at`` list; more is a cron expression's job."""
_PERIODS: dict[type, timedelta] = {
    HourlyTrigger: timedelta(hours=1),
    DailyTrigger: timedelta(days=1),
    CronTrigger: timedelta(days=1),
    WeeklyTrigger: timedelta(days=7),
    MonthlyTrigger: timedelta(days=28),
}


def parse_schedule(
    raw: object, *, default_time: str = "09:00", default_timezone: str | None = None
) -> Schedule:
    """Validate a schedule value and build its :class:`Schedule`.

    :param raw: a preset (``"hourly"``, ``"daily"``, ``"weekly"``, ``"biweekly"``,
        ``"monthly"``) or an object: ``{"every": "day", "at": ["09:00", "18:30"]}``,
        ``{"every": "week", "days": ["mon", "thu"], "at": "07:15"}``,
        ``{"every": "month", "day": 31, "at": "06:00"}``, ``{"interval": "15m"}``,
        ``{"cron": "0 9 * * 1-5"}``, each optionally with ``timezone``, ``jitter``,
        ``misfire`` and ``grace``.
    :param default_time: the time of day for presets and objects without ``at``.
    :param default_timezone: the zone when the value names none; else the machine's.
    :raises ScheduleSpecError: naming the field, the problem and a fix.
    """
    if isinstance(raw, Schedule):
        return raw
    if isinstance(raw, str):
        tz = _default_zone(default_timezone)
        trigger = _preset(raw, tz, lambda: _default_time(default_time))
        return Schedule(trigger=trigger, tz=tz, timezone_name=tz.key, raw=raw)
    if not isinstance(raw, Mapping):
        kind = "nothing" if raw is None else f"{type(raw).__name__} {raw!r}"
        raise ScheduleSpecError(
            "",
            f"a schedule must be a preset name or an object, got {kind}",
            f"use one of {', '.join(PRESETS)} or an object such as {EXAMPLE}",
        )
    return _parse_object(raw, default_time, default_timezone)


def _parse_object(
    raw: Mapping[object, object], default_time: str, default_timezone: str | None
) -> Schedule:
    for key in raw:
        if not isinstance(key, str):
            raise ScheduleSpecError("", f"key {key!r} is not a string", f"e.g. {EXAMPLE}")
    value: Mapping[str, object] = {str(k): v for k, v in raw.items()}
    forms = [form for form in FORMS if form in value]
    if not forms:
        wants_every = any(k in value for k in ("at", "days", "day"))
        fix = 'add "every": "day", "week" or "month"' if wants_every else f"e.g. {EXAMPLE}"
        raise ScheduleSpecError(
            "",
            'the schedule has no form: give one of "every", "interval" or "cron"',
            f'{fix}, or {{"interval": "15m"}}, or {{"cron": "0 9 * * 1-5"}}',
        )
    if len(forms) > 1:
        raise ScheduleSpecError(
            forms[1],
            f'"{forms[0]}" and "{forms[1]}" cannot be combined: a schedule has one form',
            f'keep one of them, e.g. {EXAMPLE} or {{"cron": "0 9 * * 1-5"}}',
        )
    form = forms[0]
    unit = _every_unit(value["every"]) if form == "every" else ""
    _check_keys(value, form, unit)
    # The options may be null, meaning "not given".
    zone, jitter, misfire, grace = (value.get(key) for key in COMMON_KEYS)
    tz = _default_zone(default_timezone) if zone is None else load_zone(zone, "timezone")
    trigger = _build_trigger(value, form, unit, tz, lambda: _default_time(default_time))
    return Schedule(
        trigger=trigger,
        tz=tz,
        timezone_name=tz.key,
        jitter=timedelta(0) if jitter is None else _jitter(jitter, trigger),
        misfire=MisfirePolicy.ONCE if misfire is None else _misfire(misfire),
        grace=None if grace is None else _duration(grace, "grace"),
        raw=raw,
    )


def _build_trigger(
    value: Mapping[str, object], form: str, unit: str, tz: ZoneInfo, default: Callable[[], time]
) -> Trigger:
    if form == "cron":
        return CronTrigger.parse(value["cron"], tz)
    if form == "interval":
        every = _duration(value["interval"], "interval")
        if every < _MIN_INTERVAL:
            raise ScheduleSpecError(
                "interval",
                f"interval {value['interval']!r} is too short; it must be at least 1s",
                'e.g. "30s", "15m", "1h" or "2d"',
            )
        return IntervalTrigger(every)
    if unit == "hour":
        return HourlyTrigger(tz)
    times = parse_times(value["at"], "at") if "at" in value else (default(),)
    if unit == "day":
        return DailyTrigger(times, tz)
    if unit == "week":
        days = parse_weekdays(value["days"], "days") if "days" in value else (0,)
        return WeeklyTrigger(days, times, tz)
    return MonthlyTrigger(_month_day(value.get("day", 1)), times, tz)


def _preset(raw: str, tz: ZoneInfo, default: Callable[[], time]) -> Trigger:
    name = raw.strip().lower()
    if name == "hourly":
        return HourlyTrigger(tz)
    if name == "daily":
        return DailyTrigger((default(),), tz)
    if name == "weekly":
        return WeeklyTrigger((0,), (default(),), tz)
    if name == "biweekly":
        return WeeklyTrigger((0, 3), (default(),), tz)
    if name == "monthly":
        return MonthlyTrigger(1, (default(),), tz)
    fix = f"use one of {', '.join(PRESETS)}, or an object such as {EXAMPLE}"
    at = clock_time(raw)
    if at is not None:
        fix = f'for every day at {at} write {{"every": "day", "at": "{at}"}}; or {fix}'
    elif len(raw.split()) in (5, 6):
        fix = f'for a cron expression write {{"cron": "{raw.strip()}"}}; or {fix}'
    elif re.match(r"^\s*\d", raw):
        fix = f'for a fixed interval write {{"interval": "{raw.strip()}"}}; or {fix}'
    else:
        import difflib  # only when there is a mistake to name

        close = difflib.get_close_matches(name, PRESETS, n=1)
        if close:
            fix = f'did you mean "{close[0]}"? ' + fix
    raise ScheduleSpecError("", f"unknown schedule preset {raw!r}", fix)


_CLOCK = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?\s*$", re.I)


def clock_time(text: str) -> str | None:
    """``"9am"``, ``"9:30 pm"``, ``"18:00"`` as ``HH:MM``; None when ``text`` is no time of
    day (``"15m"`` is an interval, ``"9"`` alone is ambiguous)."""
    match = _CLOCK.match(text)
    if match is None:
        return None
    hour, minute, half = int(match[1]), int(match[2] or 0), (match[3] or "").lower()
    if not half and match[2] is None:
        return None
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half.startswith("p") else 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def _every_unit(value: object) -> str:
    fix = 'use "hour", "day", "week" or "month", e.g. {"every": "week", "days": ["mon"]}'
    if not isinstance(value, str):
        raise ScheduleSpecError(
            "every", f'"every" must be a string, got {type(value).__name__}', fix
        )
    unit = value.strip().lower()
    if unit in EVERY_KEYS:
        return unit
    if re.match(r"^\s*\d", value):
        fix = f'for a fixed interval write {{"interval": "{value.strip()}"}}; or {fix}'
    raise ScheduleSpecError("every", f"unknown period {value!r}", fix)


def _check_keys(value: Mapping[str, object], form: str, unit: str) -> None:
    allowed = (form, *EVERY_KEYS.get(unit, ()), *COMMON_KEYS)
    for key in value:
        if key in allowed:
            continue
        owners = [u for u, keys in EVERY_KEYS.items() if key in keys]
        if owners:
            where = " or ".join(f'{{"every": "{u}"}}' for u in owners)
            raise ScheduleSpecError(
                key,
                f'"{key}" does not apply to this schedule; it belongs to {where}',
                f'remove "{key}" or use {where}',
            )
        known = sorted(
            set(FORMS) | set(COMMON_KEYS) | {k for ks in EVERY_KEYS.values() for k in ks}
        )
        import difflib  # only when there is a mistake to name

        close = difflib.get_close_matches(key, known, n=1)
        hint = f'did you mean "{close[0]}"? ' if close else ""
        raise ScheduleSpecError(
            key, f"unknown key {key!r}", f"{hint}valid keys here: {', '.join(allowed)}"
        )


def _default_zone(name: str | None) -> ZoneInfo:
    if name is None:
        return load_zone(local_zone_name())
    try:
        return load_zone(name, "")
    except ScheduleSpecError as exc:
        raise ScheduleSpecError(
            "timezone",
            f"the default {exc.message} (from the config's timezone)",
            f'set "timezone" here or fix the config: {exc.fix}',
        ) from None


def _default_time(text: str) -> time:
    try:
        return parse_time(text, "")
    except ScheduleSpecError:
        raise ScheduleSpecError(
            "at",
            f'no "at" given and the default time {text!r} is not a time of day',
            f'set "at" here or fix the config\'s default_time: {TIME_FIX}',
        ) from None


def parse_time(text: object, field: str) -> time:
    """A time of day written ``"HH:MM"`` (24-hour; ``"9:00"`` is accepted too)."""
    if not isinstance(text, str):
        raise ScheduleSpecError(
            field, f"a time must be a string, got {type(text).__name__} {text!r}", TIME_FIX
        )
    match = _TIME_RE.match(text.strip())
    if match is None:
        raise ScheduleSpecError(field, f"{text!r} is not a time of day", TIME_FIX)
    return time(int(match.group(1)), int(match.group(2)))


def parse_times(value: object, field: str) -> tuple[time, ...]:
    """One ``"HH:MM"`` or a list of them: sorted, duplicates removed."""
    if isinstance(value, str):
        return (parse_time(value, field),)
    if not isinstance(value, list | tuple) or not value:
        raise ScheduleSpecError(
            field,
            f"expected a time or a non-empty list of times, got {quoted(value)}",
            f'e.g. "09:00" or ["09:00", "18:30"]; {TIME_FIX}',
        )
    if len(value) > MAX_TIMES:
        raise ScheduleSpecError(
            field,
            f"lists {len(value)} times, more than the limit of {MAX_TIMES}",
            'for many times a day use a cron expression, e.g. {"cron": "*/10 * * * *"}',
        )
    return tuple(sorted({parse_time(item, f"{field}[{i}]") for i, item in enumerate(value)}))


def parse_weekdays(value: object, field: str) -> tuple[int, ...]:
    """Weekday names (``"mon"``, ``"Thursday"``): 0 = Monday … 6 = Sunday, sorted, unique."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise ScheduleSpecError(
            field,
            f"expected a weekday or a non-empty list of weekdays, got {quoted(value)}",
            DAYS_FIX,
        )
    if len(items) > len(WEEKDAYS):
        raise ScheduleSpecError(
            field, f"lists {len(items)} days; a week has 7: name each day once", DAYS_FIX
        )
    days = set()
    for i, item in enumerate(items):
        where = field if isinstance(value, str) else f"{field}[{i}]"
        number = _WEEKDAY_NUMBERS.get(item.strip().lower()) if isinstance(item, str) else None
        if number is None:
            raise ScheduleSpecError(where, f"unknown weekday {item!r}", DAYS_FIX)
        days.add(number)
    return tuple(sorted(days))


def _month_day(value: object) -> int:
    fix = "use a day of the month from 1 to 31 (31 means the last day in shorter months)"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScheduleSpecError(
            "day", f"the day must be a whole number, got {type(value).__name__} {value!r}", fix
        )
    if not 1 <= value <= 31:
        raise ScheduleSpecError("day", f"day {value} is outside 1..31", fix)
    return value


def _misfire(value: object) -> MisfirePolicy:
    fix = 'use "skip" (drop missed runs), "once" (run the latest, the default) or "all"'
    if isinstance(value, str) and value.strip().lower() in {p.value for p in MisfirePolicy}:
        return MisfirePolicy(value.strip().lower())
    raise ScheduleSpecError("misfire", f"unknown misfire policy {value!r}", fix)


def _jitter(item: object, trigger: Trigger) -> timedelta:
    """The jitter, which may not exceed the schedule's period.

    A run delayed by more than a period would start after its next due time has passed
    (and a huge one overflows the date). The period is the interval itself, or 1 h
    (hourly), 1 d (daily, cron), 7 d (weekly), 28 d (monthly). A jitter of exactly one
    period is allowed: it spreads runs over the whole gap (bench/daemon.py's 1,000 tasks
    every 10 s with 10 s jitter).
    """
    jitter = _duration(item, "jitter")
    period = trigger.every if isinstance(trigger, IntervalTrigger) else _PERIODS[type(trigger)]
    if jitter > period:
        limit = format_duration(period)
        raise ScheduleSpecError(
            "jitter",
            f"jitter {format_duration(jitter)} is longer than the schedule's period ({limit})",
            f"use a jitter of at most {limit}, e.g. a tenth of it",
        )
    return jitter


def _duration(item: object, field: str) -> timedelta:
    if isinstance(item, str | int | float):
        return parse_duration(item, field=field)
    raise ScheduleSpecError(
        field,
        f"a duration must be a string or a number, got {type(item).__name__}",
        'e.g. "30s", "15m", "1h30m" or "2d"',
    )
