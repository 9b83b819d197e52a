"""Bad input gets one clear message naming file, field and fix; exit 2; nothing changes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fake_platforms import run

from automation_manager.cli import cli


def init_home(path: Path) -> Path:
    result = CliRunner().invoke(cli, ["init", str(path)])
    assert result.exit_code == 0, result.output
    return path


def snapshot(home: Path) -> dict[str, str]:
    """Hash of every file under home, to prove a failed command changed nothing."""
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file() and "locks" not in p.parts
    }


def edit_json(path: Path, change: Any) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return init_home(tmp_path / "home")


def assert_rejected(home: Path, *fragments: str) -> str:
    """validate and exec-now both exit 2 with the fragments on stderr, touching nothing."""
    before = snapshot(home)
    for args in (["validate"], ["exec-now", "content_creation", "blog", "-p", "topic=x"]):
        result = run(home, *args)
        assert result.exit_code == 2, (args, result.output)
        for fragment in fragments:
            assert fragment in result.stderr, (fragment, result.stderr)
        assert "Traceback" not in result.output
        assert snapshot(home) == before
    return str(result.stderr)


def test_fresh_home_is_valid(home: Path) -> None:
    result = run(home, "validate")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("valid:")


def test_malformed_json_names_line_and_column(home: Path) -> None:
    (home / "config.json").write_text('{\n  "enabled": true\n  "max_daily_content": 5\n}\n')
    assert_rejected(home, "config.json: line 3, column 3", "malformed JSON")


def test_truncated_json_says_the_file_ends_too_early(home: Path) -> None:
    text = (home / "tasks.json").read_text()
    (home / "tasks.json").write_text(text[: len(text) // 2])
    assert_rejected(home, "tasks.json: line", "truncated")


def test_unknown_task_type_lists_the_valid_ones(home: Path) -> None:
    edit_json(home / "tasks.json", lambda d: d["content_creation"][0].update(type="podcast"))
    assert_rejected(
        home, "tasks.json: content_creation[0].type", "'podcast'", "shorts, blog, ebook, social"
    )


def test_at_25_00_is_refused_with_the_format(home: Path) -> None:
    edit_json(
        home / "tasks.json",
        lambda d: d["content_creation"][1].update(schedule={"every": "day", "at": "25:00"}),
    )
    message = assert_rejected(home, "tasks.json: content_creation[1].schedule.at", "25:00")
    assert "HH:MM" in message


def test_unknown_timezone_is_refused(home: Path) -> None:
    edit_json(home / "config.json", lambda d: d.update(timezone="Mars/Olympus"))
    assert_rejected(home, "config.json: timezone", "Mars/Olympus", "Europe/Berlin")


def test_unknown_timezone_in_a_schedule_is_refused(home: Path) -> None:
    edit_json(
        home / "tasks.json",
        lambda d: d["content_creation"][0].update(
            schedule={"every": "day", "at": "09:00", "timezone": "Europe/Atlantis"}
        ),
    )
    assert_rejected(home, "content_creation[0].schedule.timezone", "Europe/Atlantis")


@pytest.mark.parametrize("bad_id", ["../../etc/passwd", "a/b", "..", "x\\y"])
def test_id_with_a_path_is_refused(home: Path, bad_id: str) -> None:
    edit_json(home / "tasks.json", lambda d: d["content_creation"][0].update(id=bad_id))
    assert_rejected(home, "tasks.json: content_creation[0].id", "not safe as a file name")


def test_string_where_a_number_belongs(home: Path) -> None:
    edit_json(home / "config.json", lambda d: d.update(max_daily_content="five"))
    assert_rejected(home, "config.json: max_daily_content", "whole number", '"five"')


def test_unknown_preset_in_schedules_json(home: Path) -> None:
    edit_json(home / "schedules.json", lambda d: d["content_creation"].update(blog="fortnightly"))
    assert_rejected(home, "schedules.json: content_creation.blog", "fortnightly", "daily")


def test_config_that_is_not_an_object(home: Path) -> None:
    (home / "config.json").write_text("[1, 2, 3]\n")
    assert_rejected(home, "config.json", "must be a JSON object")


def test_negative_limit(home: Path) -> None:
    edit_json(home / "config.json", lambda d: d.update(max_daily_ebooks=-1))
    assert_rejected(home, "config.json: max_daily_ebooks", "≥ 0")


def test_duplicate_task_ids(home: Path) -> None:
    edit_json(home / "tasks.json", lambda d: d["content_creation"][1].update(id="daily-shorts"))
    assert_rejected(home, "tasks.json: content_creation[1].id", "duplicate task id 'daily-shorts'")


def test_unknown_config_key_lists_the_valid_keys(home: Path) -> None:
    edit_json(home / "config.json", lambda d: d.update(max_daily_contnet=3))
    assert_rejected(home, "config.json: max_daily_contnet", "unknown key", "max_daily_content")


def test_secret_inline_instead_of_env_name(home: Path) -> None:
    edit_json(home / "config.json", lambda d: d["llm"].update(api_key_env="sk-live-abc123"))
    message = assert_rejected(home, "config.json: llm.api_key_env", "NAME of an environment")
    assert "sk-live-abc123" not in message.split("NAME")[1]


def test_every_problem_is_reported_not_just_the_first(home: Path) -> None:
    edit_json(home / "config.json", lambda d: d.update(max_daily_content=-2, timezone="Nope/Nope"))
    edit_json(home / "tasks.json", lambda d: d["monetization"][0].update(type="pyramid"))
    message = assert_rejected(home)
    assert "max_daily_content" in message
    assert "timezone" in message
    assert "pyramid" in message


def test_depends_on_an_unknown_task(home: Path) -> None:
    edit_json(home / "tasks.json", lambda d: d["publishing"][1].update(depends_on=["ghost"]))
    assert_rejected(home, "publishing[1].depends_on", "'ghost'")


def test_publishing_to_an_unconfigured_platform(home: Path) -> None:
    edit_json(home / "tasks.json", lambda d: d["publishing"][1].update(platform="myspace"))
    assert_rejected(home, "publishing[1].platform", "'myspace'", "youtube")


def test_a_missing_home_says_how_to_create_one(tmp_path: Path) -> None:
    result = run(tmp_path / "nothing-here", "validate")
    assert result.exit_code == 2
    assert "amgr init" in result.stderr


def test_init_never_overwrites(home: Path) -> None:
    (home / "tasks.json").write_text('{"content_creation": []}\n')
    result = CliRunner().invoke(cli, ["init", str(home)])
    assert result.exit_code == 0
    assert "kept" in result.output and "tasks.json" in result.output
    assert json.loads((home / "tasks.json").read_text()) == {"content_creation": []}


def test_missing_category_means_no_tasks(home: Path) -> None:
    (home / "tasks.json").write_text('{"content_creation": [{"type": "blog", "topic": "x"}]}\n')
    result = run(home, "validate")
    assert result.exit_code == 0, result.output
    assert "1 task (1 enabled)" in result.stdout


def test_bad_exec_now_param_is_usage_error(home: Path) -> None:
    before = snapshot(home)
    result = run(home, "exec-now", "content_creation", "blog", "-p", "no-equals-sign")
    assert result.exit_code == 2
    assert "KEY=VALUE" in result.stderr
    assert snapshot(home) == before


def test_exec_now_unknown_category_and_type(home: Path) -> None:
    result = run(home, "exec-now", "cooking", "blog")
    assert result.exit_code == 2
    assert "content_creation" in result.stderr
    result = run(home, "exec-now", "content_creation", "podcast")
    assert result.exit_code == 2
    assert "shorts, blog, ebook, social" in result.stderr


def test_a_platform_problem_names_the_field_as_written(home: Path) -> None:
    edit_json(
        home / "config.json",
        lambda d: d["platforms"]["site"].update(
            window={"mode": "slots", "days": ["funday"], "times": ["09:00"]}
        ),
    )
    assert_rejected(home, "config.json: platforms.site.window.days", "funday")
