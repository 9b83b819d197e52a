"""Due-time lists, jitter, and which missed runs a restarted daemon catches up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from automation_manager.scheduling import (
    MAX_CATCH_UP,
    Schedule,
    due_times,
    jitter_offset,
    missed_due_times,
    parse_schedule,
)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def parse(raw: object) -> Schedule:
    return parse_schedule(raw, default_timezone="UTC")


HOURLY_ONCE = {"interval": "1h", "misfire": "once"}
HOURLY_ALL = {"interval": "1h", "misfire": "all"}


# --- due_times -------------------------------------------------------------------------


def test_due_times_covers_start_exclusive_end_inclusive() -> None:
    schedule = parse({"interval": "1h"})
    assert due_times(schedule, utc(2026, 1, 1, 0), utc(2026, 1, 1, 3)) == [
        utc(2026, 1, 1, 1),
        utc(2026, 1, 1, 2),
        utc(2026, 1, 1, 3),
    ]


def test_due_times_is_empty_when_nothing_falls_due() -> None:
    assert due_times(parse("monthly"), utc(2026, 1, 2), utc(2026, 1, 30)) == []
    assert due_times(parse("daily"), utc(2026, 1, 2), utc(2026, 1, 1)) == []


def test_due_times_stops_at_limit_keeping_the_earliest() -> None:
    runs = due_times(parse({"interval": "1m"}), utc(2026, 1, 1), utc(2026, 2, 1), limit=5)
    assert runs == [utc(2026, 1, 1, 0, m) for m in range(1, 6)]


def test_due_times_rejects_naive_bounds() -> None:
    with pytest.raises(ValueError, match="aware"):
        due_times(parse("daily"), datetime(2026, 1, 1), utc(2026, 1, 2))
    with pytest.raises(ValueError, match="aware"):
        due_times(parse("daily"), utc(2026, 1, 1), datetime(2026, 1, 2))


# --- jitter ----------------------------------------------------------------------------


def test_jitter_is_zero_without_jitter() -> None:
    assert jitter_offset(parse("daily"), "task-1", utc(2026, 1, 1, 9)) == timedelta(0)


def test_jitter_is_the_same_on_every_call() -> None:
    schedule = parse({"every": "day", "jitter": "5m"})
    due = utc(2026, 1, 1, 9)
    assert jitter_offset(schedule, "task-1", due) == jitter_offset(schedule, "task-1", due)
    other_zone = due.astimezone(parse_schedule("daily", default_timezone="Asia/Tokyo").tz)
    assert jitter_offset(schedule, "task-1", other_zone) == jitter_offset(schedule, "task-1", due)


def test_jitter_stays_within_bounds_and_spreads_across_tasks() -> None:
    schedule = parse({"every": "day", "jitter": "5m"})
    due = utc(2026, 1, 1, 9)
    offsets = [jitter_offset(schedule, f"task-{i}", due) for i in range(200)]
    assert all(timedelta(0) <= o <= timedelta(minutes=5) for o in offsets)
    assert len(set(offsets)) > 190
    assert min(offsets) < timedelta(minutes=1)
    assert max(offsets) > timedelta(minutes=4)


def test_jitter_changes_from_one_due_time_to_the_next() -> None:
    schedule = parse({"every": "day", "jitter": "1h"})
    offsets = {jitter_offset(schedule, "task-1", utc(2026, 1, d, 9)) for d in range(1, 11)}
    assert len(offsets) == 10


# --- missed_due_times ------------------------------------------------------------------


def test_fresh_task_never_catches_up() -> None:
    assert missed_due_times(parse(HOURLY_ALL), None, utc(2026, 1, 2)) == []


def test_misfire_skip_catches_up_nothing() -> None:
    schedule = parse({"interval": "1h", "misfire": "skip"})
    assert missed_due_times(schedule, utc(2026, 1, 1), utc(2026, 1, 2)) == []


def test_misfire_once_is_the_default_and_runs_the_latest_missed() -> None:
    schedule = parse({"interval": "1h"})
    missed = missed_due_times(schedule, utc(2026, 1, 1, 0), utc(2026, 1, 1, 5, 30))
    assert missed == [utc(2026, 1, 1, 5)]


def test_misfire_all_runs_every_missed_one_in_order() -> None:
    missed = missed_due_times(parse(HOURLY_ALL), utc(2026, 1, 1, 0), utc(2026, 1, 1, 3, 30))
    assert missed == [utc(2026, 1, 1, 1), utc(2026, 1, 1, 2), utc(2026, 1, 1, 3)]


def test_missed_window_excludes_last_due_and_includes_now() -> None:
    missed = missed_due_times(parse(HOURLY_ALL), utc(2026, 1, 1, 1), utc(2026, 1, 1, 3))
    assert missed == [utc(2026, 1, 1, 2), utc(2026, 1, 1, 3)]


def test_nothing_missed_when_no_due_time_passed() -> None:
    schedule = parse(HOURLY_ALL)
    assert missed_due_times(schedule, utc(2026, 1, 1, 1), utc(2026, 1, 1, 1, 59)) == []
    assert missed_due_times(parse(HOURLY_ONCE), utc(2026, 1, 1, 1), utc(2026, 1, 1, 1)) == []
    assert missed_due_times(schedule, utc(2026, 1, 2), utc(2026, 1, 1)) == []


def test_grace_drops_missed_times_older_than_now_minus_grace() -> None:
    schedule = parse({"interval": "1h", "misfire": "all", "grace": "2h"})
    missed = missed_due_times(schedule, utc(2026, 1, 1, 0), utc(2026, 1, 1, 10, 30))
    assert missed == [utc(2026, 1, 1, 9), utc(2026, 1, 1, 10)]


def test_grace_boundary_is_inclusive() -> None:
    schedule = parse({"interval": "1h", "misfire": "all", "grace": "2h"})
    missed = missed_due_times(schedule, utc(2026, 1, 1, 0), utc(2026, 1, 1, 10))
    assert missed == [utc(2026, 1, 1, 8), utc(2026, 1, 1, 9), utc(2026, 1, 1, 10)]


def test_once_with_grace_runs_nothing_when_the_latest_is_too_old() -> None:
    schedule = parse({"every": "day", "at": "09:00", "grace": "1h"})
    assert missed_due_times(schedule, utc(2026, 1, 1, 9), utc(2026, 1, 3, 12)) == []
    assert missed_due_times(schedule, utc(2026, 1, 1, 9), utc(2026, 1, 3, 9, 30)) == [
        utc(2026, 1, 3, 9)
    ]


def test_misfire_all_caps_at_the_latest_thousand() -> None:
    schedule = parse({"interval": "1m", "misfire": "all"})
    now = utc(2026, 1, 10)
    missed = missed_due_times(schedule, utc(2026, 1, 1), now)
    assert len(missed) == MAX_CATCH_UP == 1000
    assert missed[-1] == now
    assert missed[0] == now - timedelta(minutes=999)


def test_misfire_once_after_a_year_down_is_quick_and_the_latest() -> None:
    schedule = parse({"cron": "* * * * *"})
    missed = missed_due_times(schedule, utc(2025, 1, 1), utc(2026, 1, 1, 12, 0, 30))
    assert missed == [utc(2026, 1, 1, 12)]


def test_misfire_uses_wall_clock_schedules_too() -> None:
    schedule = parse({"every": "week", "days": ["mon", "thu"], "at": "07:15", "misfire": "all"})
    missed = missed_due_times(schedule, utc(2026, 5, 11, 7, 15), utc(2026, 5, 22))
    assert missed == [utc(2026, 5, 14, 7, 15), utc(2026, 5, 18, 7, 15), utc(2026, 5, 21, 7, 15)]


def test_missed_due_times_rejects_naive_input() -> None:
    with pytest.raises(ValueError, match="aware"):
        missed_due_times(parse(HOURLY_ALL), datetime(2026, 1, 1), utc(2026, 1, 2))
    with pytest.raises(ValueError, match="aware"):
        missed_due_times(parse(HOURLY_ALL), utc(2026, 1, 1), datetime(2026, 1, 2))
