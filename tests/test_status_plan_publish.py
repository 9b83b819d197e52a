"""Issue 11 points 14, 17, 9: status timers, grouped plan lines, counted wording."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from automation_manager.cli import cli
from automation_manager.manager import AutomationManager
from automation_manager.text import plural, span


def amgr(home: Path, *args: str, now: datetime | None = None) -> Result:
    obj: dict[str, Any] | None = None
    if now is not None:
        obj = {"manager": AutomationManager(home, clock=lambda: now)}
    result = CliRunner().invoke(cli, ["--home", str(home), *args], obj=obj)
    return result


def test_status_shows_next_left_last_passed_and_last_result(home: Path) -> None:
    ran = amgr(home, "exec-now", "publishing", "pending", "--task", "publish-pending")
    assert ran.exit_code == 0, ran.output
    later = datetime.now(UTC) + timedelta(hours=2)
    result = amgr(home, "status", "--json", now=later)
    assert result.exit_code == 0, result.output
    tasks = {t["id"]: t for t in json.loads(result.output)["tasks"]}
    row = tasks["publish-pending"]
    assert row["last_result"] == "success"
    assert row["last_run"] is not None
    assert 7200 <= row["passed_s"] < 7260 and row["passed"].startswith("2h")
    assert 0 < row["left_s"] <= 3600 and row["left"]
    assert {"next_due", "fire_at", "last_due"} <= set(row)  # the pinned keys stay
    never = tasks["weekly-blog"]
    assert never["last_run"] is None and never["last_result"] is None
    assert never["passed_s"] is None and never["left_s"] > 0
    text = amgr(home, "status", now=later)
    assert text.exit_code == 0, text.output
    header = next(line for line in text.output.splitlines() if line.startswith("task\t"))
    assert header.split("\t")[3:] == [
        "next",
        "next (UTC)",
        "left",
        "last",
        "passed",
        "last result",
    ]
    line = next(line for line in text.output.splitlines() if line.startswith("publish-pending"))
    assert line.split("\t")[-2:] == [f"{row['passed']} ago", "success"]


def test_wording_helpers_count_and_shorten() -> None:
    assert plural(1, "run") == "1 run" and plural(2, "run") == "2 runs"
    assert plural(0, "chapter") == "0 chapters" and plural(1.0, "day") == "1 day"
    assert plural(1.5, "day") == "1.5 days"
    assert span(timedelta(hours=2, minutes=5, seconds=9)) == "2h 5m"
    assert span(timedelta(days=3, minutes=4)) == "3d"
    assert span(timedelta(seconds=42)) == "42s" and span(timedelta(seconds=-3)) == "0s"


def test_plan_groups_an_hourly_task_unless_all_and_json_keeps_every_firing(home: Path) -> None:
    now = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    args = ("plan", "--days", "2", "--task", "publish-pending")
    grouped = amgr(home, *args, now=now)
    assert grouped.exit_code == 0, grouped.output
    lines = grouped.output.splitlines()
    assert lines[0].startswith("plan for the next 2 days")
    firing_lines = [line for line in lines if line.startswith("  2026-")]
    assert firing_lines == []
    (summary,) = [line for line in lines if "48 firings" in line]
    assert "first 2026-12-01 11:00:00" in summary and "last 2026-12-03 10:00:00" in summary
    every = amgr(home, *args, "--all", now=now)
    assert every.exit_code == 0, every.output
    assert len([line for line in every.output.splitlines() if line.startswith("  2026-")]) == 48
    data = json.loads(amgr(home, *args, "--json", now=now).output)
    assert len(data["tasks"][0]["firings"]) == 48
    one_day = amgr(home, "plan", "--days", "1", "--task", "daily-shorts", now=now)
    assert one_day.output.startswith("plan for the next 1 day (")
    assert "firing:" not in one_day.output and "  2026-12-02 09:00:00" in one_day.output


def test_a_reload_after_a_topic_edit_counts_one_changed_and_keeps_the_firing(
    home: Path,
) -> None:
    from automation_manager.config import load_workspace
    from automation_manager.engine.daemon import Daemon
    from automation_manager.home import Home

    now = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    daemon = Daemon(Home(home), clock=lambda: now)
    daemon.setup()
    before = daemon.scheduler.job("weekly-blog")
    assert before is not None
    fire_at = before.fire_at
    tasks = json.loads((home / "tasks.json").read_text())
    (blog,) = [t for t in tasks["content_creation"] if t["id"] == "weekly-blog"]
    blog["topic"] = "a brand new topic"
    (home / "tasks.json").write_text(json.dumps(tasks))
    assert daemon.apply(load_workspace(Home(home)), now + timedelta(minutes=1)) == (0, 1, 0)
    after = daemon.scheduler.job("weekly-blog")
    assert after is before and after.fire_at == fire_at
    assert after.spec.task.topic == "a brand new topic"  # type: ignore[attr-defined]


def test_exec_now_publishing_a_kind_without_platform_sends_to_every_accepting_one(
    tmp_path: Path,
) -> None:
    from fake_platforms import add_item, item_json, write_home

    site = {"kind": "filesystem", "path": "site", "accepts": ["blog"]}
    mirror = {"kind": "filesystem", "path": "mirror", "accepts": ["blog"]}
    other = {"kind": "filesystem", "path": "other", "accepts": ["social"]}
    root = write_home(tmp_path / "h", {"site": site, "mirror": mirror, "other": other})
    blog = add_item(root, "blog", "Deep work")
    social = add_item(root, "social", "A thread")
    result = CliRunner().invoke(cli, ["--home", str(root), "exec-now", "publishing", "blog"])
    assert result.exit_code == 0, result.output
    assert item_json(root, blog)["status"] == "published"
    assert item_json(root, social)["status"] == "pending"
    assert any((root / "site").rglob("*")) and any((root / "mirror").rglob("*"))
    assert not (root / "other").exists() or not any((root / "other").rglob("*"))


def test_a_one_chapter_ebook_says_1_chapter(home: Path) -> None:
    result = amgr(
        home, "exec-now", "content_creation", "ebook", "-p", "topic=focus", "-p", "chapters=1"
    )
    assert result.exit_code == 0, result.output
    assert "1 chapter," in result.output and "1 chapters" not in result.output
