"""A config that validates never crashes later: every bound is checked at validation.

Each refusal is ``FILE: field: what — fix`` with exit 2 and the three files unchanged
(hashed before and after); never exit 1, never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_platforms import run
from test_daemon import Daemon, daemons, every_second, make_home, records, wait_for

from automation_manager.config import limits
from automation_manager.scheduling.cron import MAX_CRON_LENGTH
from automation_manager.scheduling.durations import MAX_DURATION
from automation_manager.scheduling.spec import MAX_TIMES
from automation_manager.scheduling.zones import MAX_ZONE_NAME

__all__ = ["daemons"]  # the fixture, shared with test_daemon.py

FILES = ("config.json", "tasks.json", "schedules.json")
ROOT = Path(__file__).resolve().parent.parent


def hashes(home: Path) -> dict[str, str]:
    return {name: hashlib.sha256((home / name).read_bytes()).hexdigest() for name in FILES}


def load(home: Path, name: str) -> Any:
    return json.loads((home / name).read_text())


def save(home: Path, name: str, data: Any) -> None:
    (home / name).write_text(json.dumps(data, indent=2))


def refused(home: Path, *args: str) -> str:
    """Run ``amgr ARGS``: exit 2, no traceback, the three files unchanged; its stderr."""
    before = hashes(home)
    result = run(home, *args)
    assert result.exit_code == 2, (args, result.output, result.exception)
    assert "Traceback" not in result.output
    assert hashes(home) == before
    return str(result.stderr)


def add_blog(*extra: str) -> list[str]:
    return ["tasks", "add", "content_creation", "--type", "blog", "--topic", "x", *extra]


def edit(home: Path, name: str, change: Callable[[Any], None]) -> None:
    data = load(home, name)
    change(data)
    save(home, name, data)


# --- durations in schedules ------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "fragments"),
    [
        ({"interval": "99999999d"}, ["schedule.interval", "'99999999d'", "366d"]),
        ({"interval": "1h", "jitter": "9999999d"}, ["schedule.jitter", "366d"]),
        ({"interval": "1h", "jitter": "1h1s"}, ["schedule.jitter", "at most 1h"]),
        ({"every": "day", "jitter": "25h"}, ["schedule.jitter", "period (1d)"]),
        ({"every": "hour", "jitter": "61m"}, ["schedule.jitter", "period (1h)"]),
        ({"every": "day", "grace": "400d"}, ["schedule.grace", "366d"]),
        ({"every": "month", "day": 32}, ["schedule.day", "1..31"]),
        ({"every": "month", "day": 10**30}, ["--schedule", "digits"]),
        ({"every": "week", "days": ["mon"] * 8}, ["schedule.days", "a week has 7"]),
        ({"every": "day", "at": ["09:00"] * (MAX_TIMES + 1)}, ["schedule.at", str(MAX_TIMES)]),
        ({"cron": "0," * 100 + "0 9 * * *"}, ["schedule.cron", str(MAX_CRON_LENGTH)]),
    ],
)
def test_tasks_add_refuses_a_schedule_past_its_bounds(
    home: Path, schedule: dict[str, Any], fragments: list[str]
) -> None:
    message = refused(home, *add_blog("--schedule", json.dumps(schedule)))
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert "tasks.json" in message or "--schedule" in message


def test_the_largest_allowed_values_validate_and_plan_400_days(home: Path) -> None:
    longest = f"{MAX_DURATION.days}d"
    schedule = {"interval": longest, "jitter": longest, "grace": longest, "misfire": "all"}
    added = run(home, *add_blog("--schedule", json.dumps(schedule), "--id", "edge"))
    assert added.exit_code == 0, added.output
    monthly = {"every": "month", "day": 31, "at": [f"{h:02d}:00" for h in range(24)]}
    assert run(home, *add_blog("--schedule", json.dumps(monthly))).exit_code == 0
    for args in (["plan", "--days", "400"], ["status"], ["tasks", "list"], ["validate"]):
        result = run(home, *args)
        assert result.exit_code == 0, (args, result.output, result.exception)
    assert "edge" in run(home, "plan", "--days", "400").output


def test_a_platform_min_gap_or_stagger_past_its_bound_is_refused(home: Path) -> None:
    edit(home, "config.json", lambda d: d["platforms"]["twitter"].update(min_gap="400d"))
    assert "config.json: platforms.twitter.min_gap" in refused(home, "validate")
    window = {"mode": "stagger", "start": "08:00", "end": "20:00", "every": "2d"}
    edit(home, "config.json", lambda d: d["platforms"]["twitter"].update(min_gap="1h"))
    edit(home, "config.json", lambda d: d["platforms"]["twitter"].update(window=window))
    assert "platforms.twitter.window.every" in refused(home, "validate")


# --- counts and seconds ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "bound"),
    [
        ("max_daily_content", limits.MAX_DAILY_CONTENT + 1, limits.MAX_DAILY_CONTENT),
        ("max_daily_ebooks", limits.MAX_DAILY_EBOOKS + 1, limits.MAX_DAILY_EBOOKS),
        ("retry_base_delay_s", 86_401, limits.MAX_RETRY_BASE_DELAY_S),
        ("retry_max_delay_s", 1e9, limits.MAX_RETRY_MAX_DELAY_S),
        ("shutdown_grace_s", 1e15, limits.MAX_SHUTDOWN_GRACE_S),
        ("log_retention_days", 10**9, limits.MAX_LOG_RETENTION_DAYS),
        ("max_items_per_run", 10**6, limits.MAX_ITEMS_PER_RUN),
        ("bundle_min_ebooks", 5_000, limits.MAX_BUNDLE_MIN_EBOOKS),
        ("llm.timeout_s", 1e7, limits.MAX_LLM_TIMEOUT_S),
        ("llm.daily_budget_usd", 1e12, limits.MAX_BUDGET_USD),
        ("platforms.twitter.daily_limit", 10**7, limits.MAX_DAILY_LIMIT),
        ("notification_webhook.timeout_s", 601, limits.MAX_HTTP_TIMEOUT_S),
        ("smtp.timeout_s", 10**6, limits.MAX_HTTP_TIMEOUT_S),
    ],
)
def test_config_counts_and_seconds_have_upper_bounds(
    home: Path, path: str, value: float, bound: int
) -> None:
    def change(data: dict[str, Any]) -> None:
        data["notification_webhook"] = {"url": "http://127.0.0.1:9/hook"}
        data["smtp"] = {"host": "127.0.0.1", "from": "amgr@example.com"}
        *parents, last = path.split(".")
        for part in parents:
            data = data[part]
        data[last] = value

    edit(home, "config.json", change)
    message = refused(home, "validate")
    assert f"config.json: {path}: " in message and f"≤ {bound}" in message, message


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("--timeout", "604801", "timeout_s"),
        ("--timeout", "inf", "timeout_s"),
        ("--priority", "10001", "priority"),
        ("--priority", "9" * 40, "priority"),
        ("--max-retries", "21", "max_retries"),
    ],
)
def test_task_counts_and_seconds_have_upper_bounds(
    home: Path, option: str, value: str, field: str
) -> None:
    message = refused(home, *add_blog(option, value))
    assert f"tasks.json: content_creation[4].{field}: " in message, message


# --- JSON shape in each of the three files ----------------------------------------------


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


SHAPES: dict[str, Callable[[str], str]] = {
    # Each takes a file's valid text and returns it with one poisoned top-level entry.
    "5000 deep": lambda text: text.replace("{", '{"poison": ' + _deep(5000) + ",", 1),
    "5000 digits": lambda text: text.replace("{", '{"poison": ' + "7" * 5000 + ",", 1),
    "NaN": lambda text: text.replace("{", '{"poison": NaN,', 1),
    "1e999": lambda text: text.replace("{", '{"poison": -1e999,', 1),
    "NUL": lambda text: text.replace("{", '{"poison": "a\\u0000b",', 1),
    "lone surrogate": lambda text: text.replace("{", '{"poison": "\\ud800",', 1),
}


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("shape", SHAPES)
def test_json_shape_is_refused_in_each_file_naming_it(home: Path, name: str, shape: str) -> None:
    path = home / name
    path.write_text(SHAPES[shape](path.read_text()))
    for args in (["validate"], ["exec-now", "--task", "weekly-blog"], ["tasks", "disable", "x"]):
        message = refused(home, *args)
        assert re.search(rf"(^|\n)(amgr: )?{re.escape(name)}: ", message), message
    # read-only commands warn once, naming the file, and go on (issue 11 point 18)
    for args in (["status"], ["tasks", "list"], ["plan"]):
        result = run(home, *args)
        assert result.exit_code == 0, (args, result.output)
        assert re.match(rf"warning: {re.escape(name)}: ", result.stderr), result.stderr


def test_a_task_field_nested_900_deep_names_its_path(home: Path) -> None:
    text = (home / "tasks.json").read_text()
    poisoned = text.replace('"id": "weekly-blog",', '"id": "weekly-blog", "x": ' + _deep(900) + ",")
    (home / "tasks.json").write_text(poisoned)
    message = refused(home, "validate")
    assert "tasks.json: content_creation[1].x[0][0]" in message
    assert f"nested more than {limits.MAX_DEPTH} levels" in message


def test_set_and_schedule_values_are_bounded_on_the_command_line(home: Path) -> None:
    assert "--set: line 1" in refused(home, *add_blog("--set", f"x={_deep(5000)}"))
    assert "--set: line 1" in refused(home, *add_blog("--set", "x=" + "1" * 5000))
    assert "--json-data: line 1" in refused(home, *add_blog("--json-data", _deep(5000)))
    message = refused(home, "tasks", "update", "daily-shorts", "--set", f"x={_deep(100)}")
    assert "tasks.json: content_creation[0].x" in message
    assert "--schedule" in refused(home, *add_blog("--schedule", '{"interval": NaN}'))


def test_a_file_too_large_or_not_a_plain_file_is_refused(home: Path) -> None:
    big = {"content_creation": [], "padding": "x" * (limits.MAX_FILE_BYTES + 1)}
    save(home, "tasks.json", big)
    assert "tasks.json: is larger than the limit" in refused(home, "validate")
    save(home, "tasks.json", {})
    os.unlink(home / "schedules.json")
    os.mkfifo(home / "schedules.json")
    result = run(home, "validate")  # a FIFO would block a plain read forever
    assert result.exit_code == 2 and "schedules.json: is not a regular file" in result.stderr


# --- text -------------------------------------------------------------------------------


def test_topic_longer_than_300_characters_states_the_limit(home: Path) -> None:
    message = refused(
        home, "tasks", "add", "content_creation", "--type", "blog", "--topic", "t" * 301
    )
    assert "content_creation[4].topic: is 301 characters long" in message
    assert "limit of 300" in message
    ok = run(home, "tasks", "add", "content_creation", "--type", "blog", "--topic", "t" * 300)
    assert ok.exit_code == 0, ok.output


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("topic", "morning\troutines", "U+0009 (tab)"),
        ("topic", "a\nb", "U+000A (line feed)"),
        ("description", "a\x00b", "U+0000 (NUL)"),
        ("description", "bell\x07", "U+0007"),
        ("description", "d" * (limits.MAX_DESCRIPTION + 1), "limit of 2000"),
        ("platform", "p" * 200, "limit of 128"),
    ],
)
def test_text_fields_refuse_control_characters_and_overlong_values(
    home: Path, field: str, value: str, fragment: str
) -> None:
    edit(home, "tasks.json", lambda d: d["content_creation"][0].update({field: value}))
    message = refused(home, "validate")
    assert f"tasks.json: content_creation[0].{field}: " in message and fragment in message


def test_a_zone_name_of_hundreds_of_parts_is_refused_not_a_recursion(home: Path) -> None:
    zone = "Europe/" * 300 + "Berlin"  # zoneinfo imports a package per part
    edit(home, "config.json", lambda d: d.update(timezone="Europe/" * 17 + "Berlin"))
    assert "config.json: timezone: unknown time zone" in refused(home, "validate")
    edit(home, "config.json", lambda d: d.update(timezone="UTC"))
    schedule = json.dumps({"every": "day", "timezone": zone})
    message = refused(home, *add_blog("--schedule", schedule))
    assert f"schedule.timezone: a time zone name of {len(zone)} characters" in message


def test_long_text_keeps_tabs_and_newlines(home: Path) -> None:
    text = "line one\n\tindented\r\nline three"
    edit(home, "tasks.json", lambda d: d["content_creation"][0].update(description=text))
    result = run(home, "validate")
    assert result.exit_code == 0, result.output


# --- *_env that names no secret ---------------------------------------------------------


@pytest.mark.parametrize("name", ["HOME", "PATH", "USER", "LANG", "LC_ALL", "AMGR_HOME", "path"])
@pytest.mark.parametrize(
    ("where", "setup"),
    [
        ("llm.api_key_env", lambda d, n: d["llm"].update(api_key_env=n)),
        (
            "platforms.blog.password_env",
            lambda d, n: d["platforms"].update(
                blog={"kind": "wordpress", "url": "http://x", "user": "u", "password_env": n}
            ),
        ),
        (
            "platforms.social.token_env",
            lambda d, n: d["platforms"].update(
                social={"kind": "mastodon", "url": "http://x", "token_env": n}
            ),
        ),
        (
            "notification_webhook.secret_env",
            lambda d, n: d.update(notification_webhook={"url": "http://x", "secret_env": n}),
        ),
        (
            "platforms.hook.secret_env",
            lambda d, n: d["platforms"].update(
                hook={"kind": "webhook", "url": "http://x", "secret_env": n}
            ),
        ),
        (
            "smtp.password_env",
            lambda d, n: d.update(smtp={"host": "h", "from": "a@b.c", "password_env": n}),
        ),
    ],
)
def test_an_env_setting_naming_a_system_variable_is_refused(
    home: Path, name: str, where: str, setup: Callable[[Any, str], None]
) -> None:
    edit(home, "config.json", lambda d: setup(d, name))
    message = refused(home, "validate")
    assert f"config.json: {where}: {name} is set by the system" in message
    assert "OPENAI_API_KEY" in message  # the fix names a real secret's variable


@pytest.mark.parametrize("name", ["MY_HOME_LLM_KEY", "AMGR_HOMEPAGE_TOKEN", "PYTHONANYWHERE_TOKEN"])
def test_an_env_setting_naming_a_secret_variable_validates(home: Path, name: str) -> None:
    edit(home, "config.json", lambda d: d["llm"].update(api_key_env=name))
    result = run(home, "validate")
    assert result.exit_code == 0, result.output


# --- the README lists every limit -------------------------------------------------------


def test_readme_limits_section_states_every_bound() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Limits", 1)[1].split("\n## ", 1)[0]
    numbers = {
        f"{v:,}" for k, v in vars(limits).items() if k.startswith("MAX_") and k != "MAX_NUMBER"
    }
    numbers |= {str(MAX_TIMES), str(MAX_CRON_LENGTH), str(MAX_ZONE_NAME), "2^53"}
    numbers.add(f"{MAX_DURATION.days} d")
    text = re.sub(r"\s+", " ", section)
    missing = sorted(n for n in numbers if n not in text)
    assert not missing, f"README Limits does not state: {missing}"


# --- a running daemon ---------------------------------------------------------------------


def test_an_overflowing_interval_never_reaches_a_running_daemon(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    home = make_home(tmp_path / "h", [every_second("a")])
    daemon = Daemon(home)
    daemons.append(daemon)
    daemon.wait_ready()
    schedule = json.dumps({"interval": "99999999d"})
    args = ["tasks", "add", "maintenance", "--type", "pending_report", "--schedule", schedule]
    assert "366d" in refused(home, *args)
    # The same written by hand, then a 5000-digit number: each reload fails and says why.
    text = (home / "tasks.json").read_text()
    overflowing = text.replace('"1s"', '"99999999d"')
    assert overflowing != text
    (home / "tasks.json").write_text(overflowing)
    wait_for(lambda: "366d" in daemon.stderr, 4, lambda: daemon.stderr)
    (home / "tasks.json").write_text(text.replace('"1s"}', '"1s", "n": ' + "7" * 5000 + "}"))
    wait_for(lambda: "5000 digits" in daemon.stderr, 4, lambda: daemon.stderr)
    count = len(records(home))
    wait_for(lambda: len(records(home)) >= count + 2, 4, lambda: daemon.stderr)  # still firing
    assert daemon.proc.poll() is None and "OverflowError" not in daemon.stderr
    assert daemon.stop() == 0
