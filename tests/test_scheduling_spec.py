"""Reading schedule values: presets, object forms, options, and the errors for bad ones."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from importlib.resources import files
from pathlib import Path

import pytest

from automation_manager.enums import MisfirePolicy
from automation_manager.scheduling import (
    Schedule,
    ScheduleSpecError,
    format_duration,
    local_zone_name,
    parse_duration,
    parse_schedule,
)
from automation_manager.scheduling.triggers import (
    CronTrigger,
    DailyTrigger,
    HourlyTrigger,
    IntervalTrigger,
    MonthlyTrigger,
    WeeklyTrigger,
)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def parse(raw: object, **kwargs: str) -> Schedule:
    kwargs.setdefault("default_timezone", "UTC")
    return parse_schedule(raw, **kwargs)


def spec_error(raw: object, **kwargs: str) -> ScheduleSpecError:
    with pytest.raises(ScheduleSpecError) as info:
        parse(raw, **kwargs)
    return info.value


# --- durations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("2d", timedelta(days=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1H 30M", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("1.5h", timedelta(minutes=90)),
        ("90", timedelta(seconds=90)),
        (90, timedelta(seconds=90)),
        (0.5, timedelta(milliseconds=500)),
        ("0s", timedelta(0)),
    ],
)
def test_parse_duration_reads_units_and_plain_seconds(
    text: str | int | float, expected: timedelta
) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["", "abc", "5x", "m5", "30m1h", "1h1h", "-5", "-5m", True])
def test_parse_duration_rejects_bad_or_negative_input_naming_the_field(bad: object) -> None:
    with pytest.raises(ScheduleSpecError) as info:
        parse_duration(bad, field="jitter")  # type: ignore[arg-type]
    assert info.value.field == "jitter"
    assert "30s" in info.value.fix


def test_parse_duration_rejects_infinite_and_huge_values() -> None:
    with pytest.raises(ScheduleSpecError):
        parse_duration(float("inf"))
    with pytest.raises(ScheduleSpecError):
        parse_duration("99999999999d")


def test_format_duration_writes_what_parse_duration_reads() -> None:
    for text in ("30s", "15m", "1h30m", "2d", "1d2h3m4s"):
        assert format_duration(parse_duration(text)) == text
    assert format_duration(timedelta(0)) == "0s"
    assert format_duration(timedelta(seconds=1.5)) == "1.5s"


# --- presets ---------------------------------------------------------------------------


def test_presets_fire_at_default_time_on_their_days() -> None:
    monday = utc(2026, 5, 11)  # a Monday
    assert parse("daily").next_due(monday) == utc(2026, 5, 11, 9)
    assert parse("weekly").next_due(utc(2026, 5, 11, 10)) == utc(2026, 5, 18, 9)
    assert parse("biweekly").next_due(utc(2026, 5, 11, 10)) == utc(2026, 5, 14, 9)
    assert parse("monthly").next_due(monday) == utc(2026, 6, 1, 9)
    assert parse("hourly").next_due(utc(2026, 5, 11, 10, 5)) == utc(2026, 5, 11, 11)


def test_presets_use_the_given_default_time() -> None:
    schedule = parse("daily", default_time="06:45")
    assert schedule.next_due(utc(2026, 5, 11)) == utc(2026, 5, 11, 6, 45)


def test_preset_names_ignore_case_and_spaces() -> None:
    assert parse(" Daily ") == parse("daily")


def test_preset_equals_its_object_form_and_hashes_alike() -> None:
    assert parse("daily") == parse({"every": "day", "at": "09:00"})
    assert hash(parse("weekly")) == hash(parse({"every": "week", "days": "mon"}))
    assert parse("daily") != parse("daily", default_timezone="Europe/Berlin")


def test_unknown_preset_lists_the_valid_ones_and_suggests_the_closest() -> None:
    error = spec_error("dayly")
    assert error.field == ""
    assert "dayly" in error.message
    assert '"daily"' in error.fix
    for preset in ("hourly", "daily", "weekly", "biweekly", "monthly"):
        assert preset in error.fix


def test_bare_cron_string_suggests_the_cron_form() -> None:
    assert '{"cron": "0 9 * * 1-5"}' in spec_error("0 9 * * 1-5").fix


def test_bare_duration_string_suggests_the_interval_form() -> None:
    assert '{"interval": "15m"}' in spec_error("15m").fix


@pytest.mark.parametrize("raw", [None, 5, ["daily"], True])
def test_schedule_of_the_wrong_type_is_rejected(raw: object) -> None:
    error = spec_error(raw)
    assert error.field == ""
    assert "preset" in error.message


# --- object forms ----------------------------------------------------------------------


def test_every_day_at_several_times_builds_a_daily_trigger() -> None:
    schedule = parse({"every": "day", "at": ["18:30", "09:00"]})
    assert schedule.trigger == DailyTrigger((time(9), time(18, 30)), schedule.tz)


def test_at_times_are_sorted_and_deduplicated() -> None:
    schedule = parse({"every": "day", "at": ["18:30", "09:00", "18:30", "9:00"]})
    assert schedule.trigger.times == (time(9), time(18, 30))  # type: ignore[union-attr]


def test_at_may_be_one_string() -> None:
    assert parse({"every": "day", "at": "07:05"}).trigger.times == (time(7, 5),)  # type: ignore[union-attr]


def test_every_day_without_at_uses_default_time() -> None:
    schedule = parse({"every": "day"}, default_time="10:15")
    assert schedule.trigger.times == (time(10, 15),)  # type: ignore[union-attr]


def test_weekly_days_accept_short_and_full_names_in_any_case() -> None:
    schedule = parse({"every": "week", "days": ["THU", "monday", "Mon", "sunDAY"], "at": "07:15"})
    assert isinstance(schedule.trigger, WeeklyTrigger)
    assert schedule.trigger.days == (0, 3, 6)


def test_weekly_days_may_be_one_string() -> None:
    assert parse({"every": "week", "days": "fri"}).trigger.days == (4,)  # type: ignore[union-attr]


def test_every_month_builds_a_monthly_trigger() -> None:
    schedule = parse({"every": "month", "day": 31, "at": "06:00"})
    assert isinstance(schedule.trigger, MonthlyTrigger)
    assert schedule.trigger.day == 31


def test_every_hour_is_the_hourly_preset() -> None:
    assert parse({"every": "hour"}) == parse("hourly")
    assert isinstance(parse("hourly").trigger, HourlyTrigger)


def test_interval_form_builds_an_interval_trigger() -> None:
    assert parse({"interval": "15m"}).trigger == IntervalTrigger(timedelta(minutes=15))
    assert parse({"interval": 90}).trigger == IntervalTrigger(timedelta(seconds=90))


def test_cron_form_builds_a_cron_trigger() -> None:
    schedule = parse({"cron": "0 9 * * 1-5"})
    assert isinstance(schedule.trigger, CronTrigger)
    assert schedule.trigger.expression == "0 9 * * 1-5"


def test_options_are_read() -> None:
    schedule = parse(
        {
            "every": "day",
            "timezone": "Europe/Berlin",
            "jitter": "5m",
            "misfire": "all",
            "grace": "1h",
        }
    )
    assert schedule.timezone_name == "Europe/Berlin"
    assert schedule.tz.key == "Europe/Berlin"
    assert schedule.jitter == timedelta(minutes=5)
    assert schedule.misfire is MisfirePolicy.ALL
    assert schedule.grace == timedelta(hours=1)


def test_options_default_to_no_jitter_misfire_once_and_no_grace() -> None:
    schedule = parse({"interval": "1h"})
    assert schedule.jitter == timedelta(0)
    assert schedule.misfire is MisfirePolicy.ONCE
    assert schedule.grace is None


def test_null_options_mean_not_given() -> None:
    nulls = {"every": "day", "timezone": None, "jitter": None, "misfire": None, "grace": None}
    tokyo = "Asia/Tokyo"
    assert parse(nulls, default_timezone=tokyo) == parse("daily", default_timezone=tokyo)


def test_raw_keeps_the_value_as_written() -> None:
    raw = {"every": "day", "at": "09:00"}
    assert parse(raw).raw is raw
    assert parse("daily").raw == "daily"


def test_parsing_a_schedule_returns_it_unchanged() -> None:
    schedule = parse("daily")
    assert parse_schedule(schedule) is schedule


# --- time zones ------------------------------------------------------------------------


def test_schedule_timezone_beats_the_default_timezone() -> None:
    schedule = parse({"every": "day", "timezone": "Asia/Tokyo"}, default_timezone="Europe/Paris")
    assert schedule.timezone_name == "Asia/Tokyo"
    assert schedule.next_due(utc(2026, 5, 11)) == utc(2026, 5, 12, 0)  # 09:00 JST


def test_default_timezone_applies_when_the_schedule_names_none() -> None:
    assert parse("daily", default_timezone="Europe/Paris").timezone_name == "Europe/Paris"


def test_machine_zone_applies_when_nothing_names_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/Chicago")
    assert parse_schedule("daily").timezone_name == "America/Chicago"


def test_unknown_timezone_is_rejected_with_a_suggestion() -> None:
    error = spec_error({"every": "day", "timezone": "europe/berlin"})
    assert error.field == "timezone"
    assert "europe/berlin" in error.message
    assert '"Europe/Berlin"' in error.fix


def test_unknown_default_timezone_is_reported_against_timezone() -> None:
    error = spec_error("daily", default_timezone="Mars/Olympus")
    assert error.field == "timezone"
    assert "Mars/Olympus" in error.message


def test_local_zone_name_reads_tz_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", ":Europe/Lisbon")
    assert local_zone_name() == "Europe/Lisbon"


def test_local_zone_name_reads_a_tz_env_path(monkeypatch: pytest.MonkeyPatch) -> None:
    zone_file = Path(str(files("tzdata") / "zoneinfo" / "Asia" / "Tokyo"))
    monkeypatch.setenv("TZ", str(zone_file))
    assert local_zone_name() == "Asia/Tokyo"


def test_local_zone_name_is_a_loadable_zone_even_with_a_posix_tz(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")
    name = local_zone_name()
    assert parse("daily", default_timezone=name).timezone_name == name


# --- rejections ------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["25:00", "9am", "09:60", "0900", "", "24:00", "9:00pm"])
def test_bad_at_time_says_hh_mm_24_hour(bad: str) -> None:
    error = spec_error({"every": "day", "at": bad})
    assert error.field == "at"
    assert repr(bad) in error.message
    assert "HH:MM, 24-hour" in error.fix
    assert "09:00" in error.fix


def test_bad_time_in_a_list_names_its_index() -> None:
    assert spec_error({"every": "day", "at": ["09:00", "25:00"]}).field == "at[1]"


@pytest.mark.parametrize("bad", [[], 900, None])
def test_at_of_the_wrong_type_is_rejected(bad: object) -> None:
    assert spec_error({"every": "day", "at": bad}).field == "at"


def test_bad_default_time_is_reported_when_used() -> None:
    error = spec_error("daily", default_time="9am")
    assert "9am" in error.message
    assert "HH:MM" in error.fix
    assert parse({"every": "day", "at": "10:00"}, default_time="9am")  # not used: fine


def test_unknown_weekday_names_its_index_and_lists_valid_names() -> None:
    error = spec_error({"every": "week", "days": ["mon", "funday"]})
    assert error.field == "days[1]"
    assert "funday" in error.message
    assert "mon, tue, wed" in error.fix


def test_empty_weekday_list_is_rejected() -> None:
    assert spec_error({"every": "week", "days": []}).field == "days"


@pytest.mark.parametrize("bad", [0, 32, -1])
def test_month_day_outside_1_to_31_is_rejected(bad: int) -> None:
    error = spec_error({"every": "month", "day": bad})
    assert error.field == "day"
    assert "1..31" in error.message
    assert "31" in error.fix


@pytest.mark.parametrize("bad", ["15", 1.5, True])
def test_month_day_must_be_a_whole_number(bad: object) -> None:
    assert spec_error({"every": "month", "day": bad}).field == "day"


@pytest.mark.parametrize(
    ("cron", "says"),
    [
        ("0 9 * *", "fields"),
        ("0 9 * * * *", "fields"),
        ("61 * * * *", "not a valid cron"),
        ("0 25 * * *", "not a valid cron"),
        ("0 9 * * funday", "not a valid cron"),
        ("0 0 31 4 *", "never matches"),
        ("0 0 30 2 *", "never matches"),
        ("H * * * *", "not supported"),
        ("0 0 15W * *", "not supported"),
        ("@reboot", "fields"),
    ],
)
def test_bad_cron_is_rejected_with_the_reason(cron: str, says: str) -> None:
    error = spec_error({"cron": cron})
    assert error.field == "cron"
    assert says in error.message
    assert "0 9 * * 1-5" in error.fix


def test_cron_must_be_a_string() -> None:
    assert spec_error({"cron": 5}).field == "cron"


def test_cron_aliases_are_accepted() -> None:
    assert parse({"cron": "@daily"}).next_due(utc(2026, 5, 11, 1)) == utc(2026, 5, 12)


@pytest.mark.parametrize("bad", ["0s", "0", 0, "0.5s"])
def test_interval_must_be_at_least_a_second(bad: object) -> None:
    error = spec_error({"interval": bad})
    assert error.field == "interval"
    assert "15m" in error.fix


def test_negative_interval_is_rejected() -> None:
    assert spec_error({"interval": "-5m"}).field == "interval"


def test_every_and_cron_together_are_rejected() -> None:
    error = spec_error({"every": "day", "cron": "0 9 * * *"})
    assert error.field == "cron"
    assert "one form" in error.message


def test_object_without_a_form_is_rejected() -> None:
    error = spec_error({"at": "09:00"})
    assert error.field == ""
    assert '"every"' in error.fix


def test_unknown_key_is_rejected_with_a_suggestion() -> None:
    error = spec_error({"every": "day", "timezon": "UTC"})
    assert error.field == "timezon"
    assert '"timezone"' in error.fix


def test_key_of_another_form_is_rejected() -> None:
    error = spec_error({"every": "day", "days": ["mon"]})
    assert error.field == "days"
    assert '{"every": "week"}' in error.message
    assert spec_error({"interval": "1h", "at": "09:00"}).field == "at"


def test_unknown_every_period_lists_the_valid_ones() -> None:
    error = spec_error({"every": "fortnight"})
    assert error.field == "every"
    assert '"week"' in error.fix
    assert '{"interval": "2h"}' in spec_error({"every": "2h"}).fix


def test_bad_misfire_lists_the_policies() -> None:
    error = spec_error({"every": "day", "misfire": "twice"})
    assert error.field == "misfire"
    assert all(policy in error.fix for policy in ('"skip"', '"once"', '"all"'))


@pytest.mark.parametrize("key", ["jitter", "grace"])
def test_bad_jitter_or_grace_names_the_field(key: str) -> None:
    assert spec_error({"every": "day", key: "soon"}).field == key
    assert spec_error({"every": "day", key: [1]}).field == key


def test_non_string_key_is_rejected() -> None:
    assert "not a string" in spec_error({"every": "day", 1: 2}).message


def test_error_text_reads_field_message_and_fix() -> None:
    error = spec_error({"every": "day", "at": "9am"})
    assert isinstance(error, ValueError)
    assert str(error) == f"at: {error.message} — {error.fix}"


# --- describe --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (
            {"every": "day", "at": ["09:00", "18:30"], "timezone": "Europe/Berlin"},
            "every day at 09:00, 18:30 (Europe/Berlin)",
        ),
        ({"every": "week", "days": ["thu", "mon"], "at": "07:15"}, "every Monday, Thursday"),
        ({"every": "month", "day": 31}, "every month on day 31 (the last day in shorter months)"),
        ({"interval": "15m"}, "every 15m"),
        ({"cron": "0 9 * * 1-5"}, "cron '0 9 * * 1-5' (UTC)"),
        ("hourly", "every hour at :00 (UTC)"),
        ({"every": "day", "jitter": "5m"}, "up to 5m later"),
        ({"every": "day", "misfire": "all", "grace": "1h"}, "missed runs: all within 1h"),
    ],
)
def test_describe_says_when_it_runs(raw: object, text: str) -> None:
    assert text in parse(raw).describe()
