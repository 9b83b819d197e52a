"""Publishing windows are pure: every instant is passed in, nothing sleeps."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fake_platforms import amgr, write_home

from automation_manager.config.platforms import ImmediateWindow, SlotsWindow, StaggerWindow
from automation_manager.publishers.windows import Pace, is_due, plan

UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
MON = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


def at(day: datetime, hh: int, mm: int = 0, tz: ZoneInfo = UTC_ZONE) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=tz)


def slots(*times: str, days: tuple[str, ...] = ("mon", "thu"), **kw: object) -> Pace:
    window = SlotsWindow(mode="slots", days=list(days), times=list(times))
    return Pace(window=window, tz=kw.pop("tz", UTC_ZONE), **kw)  # type: ignore[arg-type]


def test_immediate_sends_everything_now() -> None:
    now = at(MON, 10)
    planned = plan(Pace(ImmediateWindow(), UTC_ZONE), now=now, ready=[at(MON, 9)] * 3)
    assert all(is_due(p, now) for p in planned)


def test_daily_limit_moves_the_rest_to_the_next_local_day() -> None:
    now = at(MON, 10)
    pace = Pace(ImmediateWindow(), UTC_ZONE, daily_limit=2)
    planned = plan(pace, now=now, ready=[at(MON, 9)] * 3, posted=[at(MON, 8)])
    tuesday = at(MON + timedelta(days=1), 0)
    assert planned == [now, tuesday, tuesday]


def test_daily_limit_counts_the_platforms_local_day() -> None:
    # 23:30 UTC on Monday is already Tuesday 00:30 in Berlin: Monday's posts don't count.
    now = at(MON, 23, 30)
    pace = Pace(ImmediateWindow(), BERLIN, daily_limit=1)
    assert plan(pace, now=now, ready=[now], posted=[at(MON, 12)]) == [now]
    # …but a post at 23:10 UTC (Tuesday 00:10 in Berlin) does.
    later = plan(pace, now=now, ready=[now], posted=[at(MON, 23, 10)])
    assert later == [datetime(2026, 1, 7, 0, 0, tzinfo=BERLIN)]


def test_min_gap_spaces_a_burst() -> None:
    now = at(MON, 10)
    pace = Pace(ImmediateWindow(), UTC_ZONE, min_gap=timedelta(seconds=60))
    planned = plan(pace, now=now, ready=[now] * 3, posted=[now - timedelta(seconds=10)])
    assert planned == [
        now + timedelta(seconds=50),
        now + timedelta(seconds=110),
        now + timedelta(seconds=170),
    ]
    assert not is_due(planned[0], now)


def test_slots_give_one_post_per_slot() -> None:
    tuesday = MON + timedelta(days=1)
    planned = plan(slots("09:00", "17:00"), now=at(tuesday, 10), ready=[at(tuesday, 10)] * 3)
    thursday = MON + timedelta(days=3)
    assert planned == [at(thursday, 9), at(thursday, 17), at(MON + timedelta(days=7), 9)]


def test_a_missed_slot_is_used_once_not_as_a_burst() -> None:
    # Ready before Monday 09:00, but nothing ran until 12:00: one goes now, one at 17:00.
    now = at(MON, 12)
    planned = plan(slots("09:00", "17:00"), now=now, ready=[at(MON, 8)] * 2)
    assert is_due(planned[0], now)
    assert planned[1] == at(MON, 17)


def test_a_slot_already_used_is_not_used_again() -> None:
    now = at(MON, 12)
    planned = plan(slots("09:00", "17:00"), now=now, ready=[at(MON, 8)], posted=[at(MON, 9, 1)])
    assert planned == [at(MON, 17)]


def test_an_item_ready_after_a_slot_waits_for_the_next() -> None:
    now = at(MON, 12)
    planned = plan(slots("09:00", "17:00"), now=now, ready=[at(MON, 10)])
    assert planned == [at(MON, 17)]


def test_slots_follow_local_time_across_dst() -> None:
    # 29 March 2026: Berlin skips 02:00–03:00; a 02:30 slot happens at the jump (01:00 UTC).
    sunday = datetime(2026, 3, 28, 12, tzinfo=UTC)
    pace = slots("02:30", days=("sun",), tz=BERLIN)
    planned = plan(pace, now=sunday, ready=[sunday])
    assert planned == [datetime(2026, 3, 29, 1, 0, tzinfo=UTC)]


def test_stagger_spreads_posts_inside_the_window() -> None:
    window = StaggerWindow(mode="stagger", start="09:00", end="11:00", every="1h")
    planned = plan(Pace(window, UTC_ZONE), now=at(MON, 8), ready=[at(MON, 8)] * 4)
    assert planned == [at(MON, 9), at(MON, 10), at(MON, 11), at(MON + timedelta(days=1), 9)]


def test_stagger_keeps_its_spacing_from_the_last_post() -> None:
    window = StaggerWindow(mode="stagger", start="09:00", end="17:00", every="45m")
    now = at(MON, 10)
    planned = plan(Pace(window, UTC_ZONE), now=now, ready=[now], posted=[at(MON, 9, 50)])
    assert planned == [at(MON, 10, 35)]


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        plan(Pace(ImmediateWindow(), UTC_ZONE), now=datetime(2026, 1, 1), ready=[])


@pytest.mark.parametrize(
    ("window", "field", "words"),
    [
        (
            {"mode": "stagger", "start": "17:00", "end": "09:00", "every": "1h"},
            r"platforms\.site\.(filesystem\.)?window",
            "must be later than start",
        ),
        ({"mode": "slots", "times": ["25:00"]}, r"platforms\.site\.(filesystem\.)?window", "HH:MM"),
        (
            {"mode": "slots", "days": ["someday"], "times": ["09:00"]},
            r"platforms\.site\.(filesystem\.)?window",
            "unknown weekday",
        ),
    ],
)
def test_bad_windows_are_reported_by_validate(
    tmp_path: object, window: dict[str, object], field: str, words: str
) -> None:
    home = write_home(tmp_path, {"site": {"kind": "filesystem", "path": "out", "window": window}})
    result = amgr(home, "validate")
    assert result.exit_code == 2
    # The loader may still show the union tags in the path (platforms.site.filesystem...).
    assert re.search(field, result.output) and words in result.output


def test_bad_min_gap_is_reported_by_validate(tmp_path: object) -> None:
    home = write_home(tmp_path, {"site": {"kind": "filesystem", "path": "out", "min_gap": "soon"}})
    result = amgr(home, "validate")
    assert result.exit_code == 2
    assert re.search(r"platforms\.site\.(filesystem\.)?min_gap", result.output)
    assert "not a duration" in result.output
