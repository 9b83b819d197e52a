"""``amgr tasks``: validated, atomic edits; bad input exits 2 and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fake_platforms import run

from automation_manager.cli import cli


@pytest.fixture
def home(tmp_path: Path) -> Path:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "home")])
    assert result.exit_code == 0, result.output
    return tmp_path / "home"


def task_in_file(home: Path, task_id: str) -> dict[str, Any] | None:
    data = json.loads((home / "tasks.json").read_text())
    for tasks in data.values():
        for task in tasks:
            if task.get("id") == task_id:
                return dict(task)
    return None


def test_list_shows_every_task_with_schedule_and_next_due(home: Path) -> None:
    result = run(home, "tasks", "list", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    rows = {r["id"]: r for r in data["tasks"]}
    assert {"daily-shorts", "archive-logs", "health-check", "monthly-ebook"} <= set(rows)
    assert rows["archive-logs"]["category"] == "maintenance"
    assert rows["archive-logs"]["schedule"].startswith("every day at 09:00")
    assert rows["archive-logs"]["next_due"] is not None
    assert rows["monthly-ebook"]["enabled"] is False and rows["monthly-ebook"]["next_due"] is None
    text = run(home, "tasks", "list")
    assert text.exit_code == 0 and "health-check" in text.output


def test_add_update_disable_enable_remove_round_trip(home: Path) -> None:
    added = run(
        home,
        "tasks",
        "add",
        "content_creation",
        "--type",
        "blog",
        "--topic",
        "slow mornings",
        "--schedule",
        '{"every": "day", "at": "07:30"}',
        "--priority",
        "4",
        "--set",
        "length=900",
        "--json",
    )
    assert added.exit_code == 0, added.output
    task = json.loads(added.output)
    task_id = task["id"]
    assert task_id.startswith("blog-slow-mornings-")
    stored = task_in_file(home, task_id)
    assert stored is not None
    assert stored["schedule"] == {"every": "day", "at": "07:30"}
    assert stored["priority"] == 4 and stored["length"] == 900 and stored["enabled"] is True

    assert (
        run(
            home,
            "tasks",
            "update",
            task_id,
            "--set",
            "topic=quiet evenings",
            "--set",
            "schedule=weekly",
            "--unset",
            "length",
        ).exit_code
        == 0
    )
    stored = task_in_file(home, task_id)
    assert stored is not None and stored["topic"] == "quiet evenings"
    assert stored["schedule"] == "weekly" and "length" not in stored

    assert run(home, "tasks", "disable", task_id).exit_code == 0
    assert task_in_file(home, task_id)["enabled"] is False  # type: ignore[index]
    assert run(home, "tasks", "enable", task_id).exit_code == 0
    assert task_in_file(home, task_id)["enabled"] is True  # type: ignore[index]

    removed = run(home, "tasks", "remove", task_id)
    assert removed.exit_code == 0 and task_id in removed.output
    assert task_in_file(home, task_id) is None


def test_add_with_json_data_and_disabled(home: Path) -> None:
    result = run(
        home,
        "tasks",
        "add",
        "maintenance",
        "--type",
        "health_check",
        "--id",
        "hc2",
        "--json-data",
        '{"min_free_mb": 50, "schedule": "hourly"}',
        "--disabled",
    )
    assert result.exit_code == 0, result.output
    assert task_in_file(home, "hc2") == {
        "min_free_mb": 50,
        "schedule": "hourly",
        "type": "health_check",
        "id": "hc2",
        "enabled": False,
    }


@pytest.mark.parametrize(
    "args",
    [
        ["add", "content_creation", "--type", "podcast"],
        ["add", "nowhere", "--type", "blog"],
        ["add", "content_creation", "--type", "blog", "--schedule", '{"interval": "5x"}'],
        ["add", "content_creation", "--type", "blog", "--schedule", "{broken"],
        ["add", "content_creation", "--type", "blog", "--id", "daily-shorts"],
        ["add", "content_creation", "--type", "blog", "--id", "../escape"],
        ["add", "publishing", "--type", "blog", "--platform", "myspace"],
        ["add", "content_creation", "--type", "blog", "--json-data", "[1, 2]"],
        ["add", "content_creation", "--type", "blog", "--depends-on", "ghost"],
        ["update", "no-such-task", "--set", "priority=1"],
        ["update", "daily-shorts", "--set", "priority=high"],
        ["update", "daily-shorts", "--set", "schedule=fortnightly"],
        ["update", "daily-shorts", "--set", "novalue"],
        ["update", "daily-shorts"],
        ["update", "daily-shorts", "--unset", "type"],
        ["remove", "no-such-task"],
        ["enable", "no-such-task"],
    ],
)
def test_bad_input_exits_2_and_leaves_the_file_unchanged(home: Path, args: list[str]) -> None:
    before = (home / "tasks.json").read_bytes()
    result = run(home, "tasks", *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert (home / "tasks.json").read_bytes() == before


def test_a_bad_schedule_message_names_the_field_and_the_fix(home: Path) -> None:
    result = run(home, "tasks", "update", "daily-shorts", "--set", "schedule=fortnightly")
    assert "tasks.json: content_creation[0].schedule" in result.output
    assert "hourly" in result.output  # the valid presets are offered


@pytest.mark.parametrize(
    ("given", "at"), [("9am", "09:00"), ("6:30 pm", "18:30"), ("18:00", "18:00"), ("12am", "00:00")]
)
def test_a_time_of_day_as_schedule_suggests_every_day_at_it(
    home: Path, given: str, at: str
) -> None:
    before = (home / "tasks.json").read_bytes()
    args = ["add", "content_creation", "--type", "blog", "--schedule", given]
    result = run(home, "tasks", *args, "--set", "topic=x")
    assert result.exit_code == 2, result.output
    assert f'{{"every": "day", "at": "{at}"}}' in result.output
    assert '{"interval"' not in result.output
    assert (home / "tasks.json").read_bytes() == before


def test_an_interval_looking_schedule_still_suggests_an_interval(home: Path) -> None:
    result = run(home, "tasks", "add", "content_creation", "--type", "blog", "--schedule", "15m")
    assert result.exit_code == 2
    assert '{"interval": "15m"}' in result.output
