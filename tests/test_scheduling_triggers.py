"""When schedules fall due: month ends, DST days, grids, weekdays, and cron fields."""

from __future__ import annotations

import time as stopwatch
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from automation_manager.scheduling import Schedule, due_times, parse_schedule

BERLIN = ZoneInfo("Europe/Berlin")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def parse(raw: object, zone: str = "UTC") -> Schedule:
    return parse_schedule(raw, default_timezone=zone)


def local_dates(instants: list[datetime], zone: ZoneInfo) -> list[date]:
    return [instant.astimezone(zone).date() for instant in instants]


# --- month ends ------------------------------------------------------------------------


def test_monthly_31st_runs_on_feb_28() -> None:
    schedule = parse({"every": "month", "day": 31, "at": "06:00"})
    runs = due_times(schedule, utc(2026, 1, 1), utc(2026, 5, 1))
    assert runs == [
        utc(2026, 1, 31, 6),
        utc(2026, 2, 28, 6),
        utc(2026, 3, 31, 6),
        utc(2026, 4, 30, 6),
    ]


def test_monthly_31st_runs_on_feb_29_in_a_leap_year() -> None:
    schedule = parse({"every": "month", "day": 31, "at": "06:00"})
    assert schedule.next_due(utc(2028, 2, 1)) == utc(2028, 2, 29, 6)


def test_monthly_30th_runs_on_the_30th_when_the_month_has_31_days() -> None:
    schedule = parse({"every": "month", "day": 30})
    runs = due_times(schedule, utc(2026, 1, 1), utc(2026, 4, 1))
    assert [run.day for run in runs] == [30, 28, 30]


def test_monthly_run_day_once_passed_moves_to_next_month() -> None:
    schedule = parse({"every": "month", "day": 15, "at": "06:00"})
    assert schedule.next_due(utc(2026, 12, 15, 6)) == utc(2027, 1, 15, 6)
    assert schedule.previous_due(utc(2026, 12, 15, 6)) == utc(2026, 11, 15, 6)


# --- DST -------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [{"every": "day", "at": "02:30"}, {"cron": "30 2 * * *"}])
def test_0230_in_berlin_runs_once_on_spring_forward_day_at_the_jump(raw: object) -> None:
    schedule = parse(raw, "Europe/Berlin")
    runs = due_times(schedule, utc(2026, 3, 26), utc(2026, 4, 2))
    per_day = Counter(local_dates(runs, BERLIN))
    assert set(per_day.values()) == {1}
    assert len(per_day) == 7
    assert utc(2026, 3, 29, 1) in runs  # 02:30 does not exist: 03:00 CEST, the jump
    assert utc(2026, 3, 28, 1, 30) in runs  # 02:30 CET the day before
    assert utc(2026, 3, 30, 0, 30) in runs  # 02:30 CEST the day after


@pytest.mark.parametrize("raw", [{"every": "day", "at": "02:30"}, {"cron": "30 2 * * *"}])
def test_0230_in_berlin_runs_once_on_fall_back_day_at_the_first_0230(raw: object) -> None:
    schedule = parse(raw, "Europe/Berlin")
    runs = due_times(schedule, utc(2026, 10, 22), utc(2026, 10, 29))
    per_day = Counter(local_dates(runs, BERLIN))
    assert set(per_day.values()) == {1}
    assert len(per_day) == 7
    assert utc(2026, 10, 25, 0, 30) in runs  # the first 02:30 (CEST)
    assert utc(2026, 10, 25, 1, 30) not in runs  # not the second (CET)


def test_croniter_itself_runs_0230_twice_on_fall_back_day() -> None:
    """Why cron matching is done here: croniter's own iterator repeats the hour."""
    start = datetime(2026, 10, 24, 12, tzinfo=BERLIN)
    it = croniter("30 2 * * *", start)
    runs = [it.get_next(datetime).astimezone(UTC) for _ in range(2)]
    assert runs == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)]


def test_times_inside_one_gap_run_once_at_the_jump() -> None:
    schedule = parse({"every": "day", "at": ["02:15", "02:45"]}, "Europe/Berlin")
    runs = due_times(schedule, utc(2026, 3, 28, 12), utc(2026, 3, 29, 12))
    assert runs == [utc(2026, 3, 29, 1)]


def test_next_due_from_between_the_two_0230s_skips_to_the_next_day() -> None:
    schedule = parse({"every": "day", "at": "02:30"}, "Europe/Berlin")
    assert schedule.next_due(utc(2026, 10, 25, 0, 45)) == utc(2026, 10, 26, 1, 30)


def test_hourly_fires_every_real_hour_through_both_dst_changes() -> None:
    schedule = parse("hourly", "Europe/Berlin")
    for start in (utc(2026, 3, 28, 12), utc(2026, 10, 24, 12)):
        runs = due_times(schedule, start, start + timedelta(days=2))
        gaps = {b - a for a, b in pairwise(runs)}
        assert gaps == {timedelta(hours=1)}
        assert len(runs) == 48


def test_cron_every_15_minutes_keeps_firing_through_the_repeated_hour() -> None:
    schedule = parse({"cron": "*/15 * * * *"}, "Europe/Berlin")
    runs = due_times(schedule, utc(2026, 10, 24, 22), utc(2026, 10, 25, 4))
    assert len(runs) == 6 * 4
    assert {b - a for a, b in pairwise(runs)} == {timedelta(minutes=15)}


def test_daily_in_new_york_stays_at_local_time_across_dst() -> None:
    schedule = parse({"every": "day", "at": "09:00"}, "America/New_York")
    assert schedule.next_due(utc(2026, 3, 7, 15)) == utc(2026, 3, 8, 13)  # EDT
    assert schedule.previous_due(utc(2026, 3, 8, 13)) == utc(2026, 3, 7, 14)  # EST


def test_daily_at_midnight_in_a_zone_that_skips_midnight_runs_at_the_jump() -> None:
    # America/Santiago springs from 00:00 to 01:00 on 2026-09-06.
    schedule = parse({"every": "day", "at": "00:00"}, "America/Santiago")
    runs = due_times(schedule, utc(2026, 9, 4, 12), utc(2026, 9, 7, 12))
    zone = ZoneInfo("America/Santiago")
    assert [r.astimezone(zone).strftime("%d %H:%M") for r in runs] == [
        "05 00:00",
        "06 01:00",
        "07 00:00",
    ]


def test_daily_on_a_skipped_calendar_day_runs_once_at_the_start_of_the_next() -> None:
    # Samoa skipped 2011-12-30 entirely.
    zone = ZoneInfo("Pacific/Apia")
    schedule = parse({"every": "day", "at": "09:00"}, "Pacific/Apia")
    start = datetime(2011, 12, 29, 10, tzinfo=zone)
    runs = due_times(schedule, start, start + timedelta(days=2))
    assert [r.astimezone(zone).strftime("%d %H:%M") for r in runs] == ["31 00:00", "31 09:00"]


# --- interval grid ---------------------------------------------------------------------


def test_interval_15m_fires_at_quarter_hours() -> None:
    schedule = parse({"interval": "15m"})
    runs = due_times(schedule, utc(2026, 5, 11, 10, 7), utc(2026, 5, 11, 11, 7))
    assert runs == [utc(2026, 5, 11, 10, m) for m in (15, 30, 45)] + [utc(2026, 5, 11, 11)]


def test_interval_nth_run_is_first_plus_n_intervals_without_drift() -> None:
    schedule = parse({"interval": "7m13s"})
    runs = due_times(schedule, utc(2026, 1, 1), utc(2026, 3, 1))
    every = timedelta(minutes=7, seconds=13)
    assert all(run == runs[0] + n * every for n, run in enumerate(runs))
    assert runs[-1] == schedule.next_due(runs[-1] - timedelta(microseconds=1))


def test_interval_next_due_depends_only_on_after() -> None:
    schedule = parse({"interval": "2h"})
    after = utc(2026, 5, 11, 9, 59, 59)
    assert schedule.next_due(after) == utc(2026, 5, 11, 10)
    assert parse({"interval": "2h"}).next_due(after) == schedule.next_due(after)
    assert schedule.next_due(after.astimezone(BERLIN)) == utc(2026, 5, 11, 10)


def test_interval_grid_ignores_the_zone_and_dst() -> None:
    schedule = parse({"interval": "1h"}, "Europe/Berlin")
    runs = due_times(schedule, utc(2026, 10, 24, 23), utc(2026, 10, 25, 4))
    assert runs == [utc(2026, 10, 25, h) for h in range(5)]


def test_interval_previous_due_is_the_grid_point_before() -> None:
    schedule = parse({"interval": "15m"})
    assert schedule.previous_due(utc(2026, 5, 11, 10, 15)) == utc(2026, 5, 11, 10)
    assert schedule.previous_due(utc(2026, 5, 11, 10, 16)) == utc(2026, 5, 11, 10, 15)


# --- hourly, weekly --------------------------------------------------------------------


def test_hourly_in_kolkata_is_on_the_local_hour() -> None:
    schedule = parse("hourly", "Asia/Kolkata")
    due = schedule.next_due(utc(2026, 5, 11, 10, 0))
    assert due == utc(2026, 5, 11, 10, 30)
    assert due.astimezone(ZoneInfo("Asia/Kolkata")).minute == 0


def test_weekly_runs_on_each_named_day() -> None:
    schedule = parse({"every": "week", "days": ["mon", "thu"], "at": "07:15"})
    runs = due_times(schedule, utc(2026, 5, 10), utc(2026, 5, 24))
    assert [r.strftime("%a %d %H:%M") for r in runs] == [
        "Mon 11 07:15",
        "Thu 14 07:15",
        "Mon 18 07:15",
        "Thu 21 07:15",
    ]


def test_several_at_times_each_run_every_day() -> None:
    schedule = parse({"every": "day", "at": ["09:00", "18:30"]}, "Europe/Berlin")
    runs = due_times(schedule, utc(2026, 5, 11), utc(2026, 5, 13))
    assert len(runs) == 4
    assert [r.astimezone(BERLIN).strftime("%H:%M") for r in runs] == ["09:00", "18:30"] * 2


# --- next_due contract -----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "hourly",
        "daily",
        "weekly",
        "biweekly",
        "monthly",
        {"interval": "15m"},
        {"cron": "0 9 * * 1-5"},
        {"every": "month", "day": 31},
    ],
)
def test_next_due_is_strictly_after_and_utc(raw: object) -> None:
    schedule = parse(raw, "Europe/Berlin")
    due = schedule.next_due(utc(2026, 5, 11, 9, 30))
    assert due.tzinfo is UTC
    assert schedule.next_due(due) > due
    assert schedule.next_due(due - timedelta(microseconds=1)) == due
    assert schedule.previous_due(due + timedelta(microseconds=1)) == due
    assert schedule.previous_due(due) < due


def test_next_due_accepts_any_zone_for_after() -> None:
    schedule = parse("daily", "Europe/Berlin")
    after = utc(2026, 5, 11, 5)
    other = after.astimezone(timezone(timedelta(hours=-7)))
    assert schedule.next_due(other) == schedule.next_due(after) == utc(2026, 5, 11, 7)


@pytest.mark.parametrize("raw", ["daily", {"interval": "1h"}, {"cron": "* * * * *"}])
def test_naive_after_is_rejected(raw: object) -> None:
    with pytest.raises(ValueError, match="aware"):
        parse(raw).next_due(datetime(2026, 5, 11, 9))
    with pytest.raises(ValueError, match="aware"):
        parse(raw).previous_due(datetime(2026, 5, 11, 9))


# --- cron fields -----------------------------------------------------------------------


CRON_EXPRESSIONS = [
    "0 9 * * 1-5",
    "*/15 * * * *",
    "5 4 * * sun",
    "0 0 L * *",
    "0 6 * * L5",
    "0 0 * * fri#2",
    "0 0 1,15 * mon",
    "0 12 * jan-mar,dec *",
    "0 0 29 2 *",
    "30 23 31 * *",
    "0 0 1-7 * 1",
    "0 8-18/2 * * *",
    "0 0 ? * 7",
]


@pytest.mark.parametrize("expression", CRON_EXPRESSIONS)
def test_cron_fields_match_croniter_in_utc(expression: str) -> None:
    schedule = parse({"cron": expression})
    start = utc(2026, 1, 1)
    it = croniter(expression, start)
    due = start
    for _ in range(60):
        due = schedule.next_due(due)
        assert due == it.get_next(datetime)


def test_cron_with_both_day_fields_runs_on_either() -> None:
    schedule = parse({"cron": "0 0 13 * fri"})
    runs = due_times(schedule, utc(2026, 2, 1), utc(2026, 3, 1))
    assert [r.day for r in runs] == [6, 13, 20, 27]  # Fridays, and the 13th (also a Friday)


def test_cron_sunday_may_be_0_or_7() -> None:
    sunday_0, sunday_7 = parse({"cron": "0 0 * * 0"}), parse({"cron": "0 0 * * 7"})
    assert sunday_0.next_due(utc(2026, 5, 11)) == sunday_7.next_due(utc(2026, 5, 11))
    assert sunday_0.next_due(utc(2026, 5, 11)) == utc(2026, 5, 17)
    assert sunday_0 == sunday_7


def test_cron_previous_due_walks_back_across_months() -> None:
    schedule = parse({"cron": "0 0 29 2 *"})
    assert schedule.previous_due(utc(2027, 1, 1)) == utc(2024, 2, 29)
    assert schedule.next_due(utc(2024, 3, 1)) == utc(2028, 2, 29)


# --- speed -----------------------------------------------------------------------------


def test_ten_thousand_schedules_parse_and_compute_next_due_in_well_under_two_seconds() -> None:
    raws: list[object] = [
        "hourly",
        "daily",
        "weekly",
        {"every": "day", "at": ["09:00", "18:30"]},
        {"every": "week", "days": ["mon", "thu"], "at": "07:15"},
        {"every": "month", "day": 31, "at": "06:00"},
        {"interval": "15m"},
        {"cron": "0 9 * * 1-5"},
        {"cron": "*/10 * * * *"},
        {"every": "day", "at": "02:30", "timezone": "America/New_York"},
    ]
    now = utc(2026, 5, 11, 9, 17)
    begin = stopwatch.perf_counter()
    for i in range(10_000):
        parse(raws[i % len(raws)], "Europe/Berlin").next_due(now + timedelta(seconds=i))
    assert stopwatch.perf_counter() - begin < 1.0
