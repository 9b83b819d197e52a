"""Schedules: from a schedule value to due times. Pure: every instant is passed in.

>>> from datetime import datetime, timezone
>>> s = parse_schedule({"every": "day", "at": ["09:00", "18:30"]}, default_timezone="UTC")
>>> s.next_due(datetime(2026, 1, 1, 10, tzinfo=timezone.utc)).isoformat()
'2026-01-01T18:30:00+00:00'
"""

from __future__ import annotations

from .durations import format_duration, parse_duration
from .errors import ScheduleSpecError
from .misfire import MAX_CATCH_UP, missed_due_times
from .model import Schedule
from .plan import due_times, jitter_offset
from .spec import PRESETS, parse_schedule
from .zones import local_zone_name

__all__ = [
    "MAX_CATCH_UP",
    "PRESETS",
    "Schedule",
    "ScheduleSpecError",
    "due_times",
    "format_duration",
    "jitter_offset",
    "local_zone_name",
    "missed_due_times",
    "parse_duration",
    "parse_schedule",
]
