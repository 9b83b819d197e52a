"""``amgr plan``: every firing in the next days and what a start now would catch up."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from automation_manager.cli import cli
from automation_manager.config import load_workspace
from automation_manager.config.defaults import default_config, default_schedules
from automation_manager.engine.overview import plan_report
from automation_manager.engine.state import StateStore
from automation_manager.home import Home

NOW = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)  # Friday before the Berlin spring-forward


def make_home(root: Path, tasks: list[dict[str, Any]]) -> Home:
    root.mkdir(parents=True, exist_ok=True)
    cfg = default_config() | {"timezone": "Europe/Berlin"}
    (root / "config.json").write_text(json.dumps(cfg))
    (root / "schedules.json").write_text(json.dumps(default_schedules()))
    (root / "tasks.json").write_text(json.dumps({"maintenance": tasks}))
    return Home(root)


def test_plan_lists_firings_in_local_time_and_utc_across_dst(tmp_path: Path) -> None:
    home = make_home(
        tmp_path,
        [{"id": "night", "type": "pending_report", "schedule": {"every": "day", "at": "02:30"}}],
    )
    report = plan_report(load_workspace(home), NOW, days=3)
    (task,) = report["tasks"]
    locals_ = [f["due"]["local"] for f in task["firings"]]
    assert locals_ == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-29T03:00:00+02:00",  # 02:30 does not exist: runs once, at the jump
        "2026-03-30T02:30:00+02:00",
    ]
    assert [f["due"]["utc"][11:16] for f in task["firings"]] == ["01:30", "01:00", "00:30"]
    assert task["more"] is False and task["jitter"] is None


def test_plan_shows_jitter_ranges_and_the_exact_start(tmp_path: Path) -> None:
    home = make_home(
        tmp_path,
        [{"id": "j", "type": "pending_report", "schedule": {"interval": "6h", "jitter": "10m"}}],
    )
    (task,) = plan_report(load_workspace(home), NOW, days=1)["tasks"]
    assert task["jitter"] == "10m" and task["jitter_s"] == 600
    for f in task["firings"]:
        due = datetime.fromisoformat(f["due"]["utc"])
        start = datetime.fromisoformat(f["fire_at"]["utc"])
        latest = datetime.fromisoformat(f["latest"]["utc"])
        assert due <= start <= latest == due + timedelta(minutes=10)


@pytest.mark.parametrize(("policy", "count"), [("skip", 0), ("once", 1), ("all", 4)])
def test_plan_shows_what_a_start_would_catch_up(tmp_path: Path, policy: str, count: int) -> None:
    home = make_home(
        tmp_path,
        [{"id": "h", "type": "pending_report", "schedule": {"interval": "1h", "misfire": policy}}],
    )
    state = StateStore(home)
    state.advance("h", NOW - timedelta(hours=3, minutes=30))  # missed 09, 10, 11 and 12:00
    state.flush()
    (task,) = plan_report(load_workspace(home), NOW, days=1)["tasks"]
    assert len(task["catch_up"]) == count
    assert task["misfire"] == policy
    assert (policy in task["catch_up_note"]) or count == 0


def test_a_task_never_seen_catches_up_nothing(tmp_path: Path) -> None:
    home = make_home(
        tmp_path,
        [{"id": "h", "type": "pending_report", "schedule": {"interval": "1h", "misfire": "all"}}],
    )
    (task,) = plan_report(load_workspace(home), NOW, days=1)["tasks"]
    assert task["catch_up"] == [] and "never scheduled" in task["catch_up_note"]


def test_plan_limits_firings_per_task(tmp_path: Path) -> None:
    home = make_home(
        tmp_path, [{"id": "fast", "type": "pending_report", "schedule": {"interval": "1m"}}]
    )
    (task,) = plan_report(load_workspace(home), NOW, days=7, limit=50)["tasks"]
    assert len(task["firings"]) == 50 and task["more"] is True


def test_plan_cli_json_and_text(tmp_path: Path) -> None:
    home = make_home(
        tmp_path,
        [
            {"id": "a", "type": "pending_report", "schedule": "daily"},
            {"id": "b", "type": "health_check", "schedule": "weekly", "enabled": False},
        ],
    )
    result = CliRunner().invoke(cli, ["--home", str(home.root), "plan", "--days", "2", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"now", "days", "timezone", "end", "tasks"}
    assert [t["id"] for t in data["tasks"]] == ["a", "b"]
    assert len(data["tasks"][0]["firings"]) == 2
    assert data["tasks"][1]["enabled"] is False  # plan a schedule before enabling it
    only = CliRunner().invoke(cli, ["--home", str(home.root), "plan", "--task", "b"])
    assert only.exit_code == 0 and "b [disabled]" in only.output and "\na " not in only.output
    missing = CliRunner().invoke(cli, ["--home", str(home.root), "plan", "--task", "zzz"])
    assert missing.exit_code == 2
