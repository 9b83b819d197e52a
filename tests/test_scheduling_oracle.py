"""next_due and previous_due agree with a brute-force list of due instants, near DST changes.

The brute force resolves every (matching day, time) on its own, by scanning, with the
rule the schedule promises: a wall time that does not exist runs at the first instant
that does; one that happens twice runs at its first occurrence (and also its second for
schedules that fire through a repeated hour). Then every answer of the fast search must
be the first listed instant after (or last before) the moment asked about.
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from automation_manager.scheduling import parse_schedule
from automation_manager.scheduling.wallclock import WallClockTrigger

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",  # changes at midnight
    "America/Havana",  # changes at midnight
    "Asia/Beirut",  # falls back from 00:00 to 23:00 the day before
    "Australia/Lord_Howe",  # 30-minute DST
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/St_Johns",  # -03:30 with DST
    "Asia/Kolkata",  # no DST, half-hour offset
    "Pacific/Apia",  # skipped 2011-12-30 entirely
]
SCHEDULES: list[object] = [
    {"every": "day", "at": "02:30"},
    {"every": "day", "at": ["00:00", "00:30", "01:45", "02:15", "02:45", "23:30"]},
    "hourly",
    {"every": "week", "days": ["sun", "sat", "fri"], "at": ["00:00", "02:00"]},
    {"every": "month", "day": 31, "at": ["00:00", "03:00"]},
    {"cron": "*/20 * * * *"},
    {"cron": "30 2 * * *"},
    {"cron": "15 0-3,23 * * *"},
    {"cron": "0 * * * 0"},
]
MINUTE = timedelta(minutes=1)


def brute_resolve(naive: datetime, zone: ZoneInfo) -> list[datetime]:
    """Every instant whose wall time in ``zone`` is ``naive``; for a gap, the jump."""
    found = set()
    for fold in (0, 1):
        instant = naive.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == naive:
            found.add(instant)
    if found:
        return sorted(found)
    # Both readings of a nonexistent time lie on either side of the jump: scan up from
    # the earlier one.
    probe = min(naive.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1))
    probe = probe.replace(second=0, microsecond=0) - MINUTE
    while probe.astimezone(zone).replace(tzinfo=None) < naive:
        probe += MINUTE
    # Back up to the exact second of the jump.
    while (probe - timedelta(seconds=1)).astimezone(zone).replace(tzinfo=None) >= naive:
        probe -= timedelta(seconds=1)
    return [probe]


def brute_due(trigger: WallClockTrigger, first: date, last: date) -> list[datetime]:
    instants: set[datetime] = set()
    day = first
    while day <= last:
        if trigger.day_matches(day):
            for at in trigger.times:
                resolved = brute_resolve(datetime.combine(day, at), trigger.tz)
                instants.update(resolved if trigger.repeat_folds else resolved[:1])
        day += timedelta(days=1)
    return sorted(instants)


def transitions(zone: ZoneInfo, year: int) -> list[datetime]:
    """Instants (to the hour) where the zone's UTC offset changes during ``year``."""
    found = []
    probe = datetime(year, 1, 1, tzinfo=UTC)
    offset = probe.astimezone(zone).utcoffset()
    while probe.year == year:
        probe += timedelta(hours=1)
        new = probe.astimezone(zone).utcoffset()
        if new != offset:
            found.append(probe)
            offset = new
    return found


def windows(zone: ZoneInfo) -> list[datetime]:
    centres = transitions(zone, 2026) + transitions(zone, 2011)
    return [*centres, datetime(2026, 6, 15, tzinfo=UTC)]


@pytest.mark.parametrize("zone_name", ZONES)
def test_next_and_previous_due_match_brute_force_around_every_offset_change(
    zone_name: str,
) -> None:
    zone = ZoneInfo(zone_name)
    rng = random.Random(zone_name)
    for raw in SCHEDULES:
        schedule = parse_schedule(raw, default_timezone=zone_name)
        trigger = schedule.trigger
        assert isinstance(trigger, WallClockTrigger)
        for centre in windows(zone):
            local = centre.astimezone(zone).date()
            expected = brute_due(trigger, local - timedelta(days=35), local + timedelta(days=35))
            low, high = centre - timedelta(days=3), centre + timedelta(days=3)
            probes = [low + (high - low) * rng.random() for _ in range(20)]
            near = [d for d in expected if low <= d <= high]
            near = rng.sample(near, min(len(near), 30))
            tick = timedelta(microseconds=1)
            probes += near + [d - tick for d in near] + [d + tick for d in near]
            for probe in probes:
                after = expected[bisect_right(expected, probe)]
                before = expected[bisect_left(expected, probe) - 1]
                assert schedule.next_due(probe) == after, (raw, probe)
                assert schedule.previous_due(probe) == before, (raw, probe)


def test_brute_force_sees_the_repeated_hour_it_is_checking() -> None:
    """Guard against a vacuous oracle: Berlin's fall-back hour resolves twice."""
    resolved = brute_resolve(datetime(2026, 10, 25, 2, 30), ZoneInfo("Europe/Berlin"))
    assert resolved == [
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    ]
    gap = brute_resolve(datetime(2026, 3, 29, 2, 30), ZoneInfo("Europe/Berlin"))
    assert gap == [datetime(2026, 3, 29, 1, 0, tzinfo=UTC)]
