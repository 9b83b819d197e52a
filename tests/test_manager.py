"""The library face: AutomationManager keeps the seed's class API working."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from automation_manager import AutomationManager
from automation_manager.cli import cli
from automation_manager.errors import ConfigError


@pytest.fixture
def mgr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AutomationManager:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert CliRunner().invoke(cli, ["init", str(tmp_path)]).exit_code == 0
    return AutomationManager(tmp_path)


def tasks_on_disk(mgr: AutomationManager) -> dict[str, list[dict[str, object]]]:
    data: dict[str, list[dict[str, object]]] = json.loads(mgr.home.tasks_path.read_text())
    return data


def test_seed_example_usage_adds_tasks_with_generated_ids(mgr: AutomationManager) -> None:
    shorts_id = mgr.add_task(
        "content_creation",
        {"type": "shorts", "topic": "productivity tips", "schedule": "daily", "enabled": True},
    )
    social_id = mgr.add_task(
        "publishing", {"type": "social", "platform": "twitter", "schedule": "daily"}
    )
    assert shorts_id.startswith("shorts-productivity-tips-")
    assert social_id.startswith("social-")
    on_disk = tasks_on_disk(mgr)
    assert on_disk["content_creation"][-1]["id"] == shorts_id
    assert mgr.workspace.task(social_id) is not None


def test_remove_and_update_by_index_as_in_the_seed(mgr: AutomationManager) -> None:
    first = tasks_on_disk(mgr)["content_creation"][0]
    updated = mgr.update_task("content_creation", 0, {"topic": "focus"})
    assert updated["topic"] == "focus" and updated["id"] == first["id"]
    removed = mgr.remove_task("content_creation", 0)
    assert removed["id"] == first["id"]
    assert all(t.get("id") != first["id"] for t in tasks_on_disk(mgr)["content_creation"])


def test_remove_and_update_by_id(mgr: AutomationManager) -> None:
    mgr.update_task("monetization", "weekly-sales", {"period": "month"})
    assert mgr.workspace.task("weekly-sales").task.extra_fields()["period"] == "month"  # type: ignore[union-attr]
    mgr.remove_task("", "weekly-sales")
    assert mgr.workspace.task("weekly-sales") is None


def test_a_bad_edit_raises_and_changes_nothing(mgr: AutomationManager) -> None:
    before = mgr.home.tasks_path.read_bytes()
    with pytest.raises(ConfigError, match="25:00"):
        mgr.add_task(
            "content_creation", {"type": "blog", "schedule": {"every": "day", "at": "25:00"}}
        )
    with pytest.raises(ConfigError, match="unknown content_creation type"):
        mgr.add_task("content_creation", {"type": "podcast"})
    with pytest.raises(ConfigError, match="no task at this index"):
        mgr.remove_task("content_creation", 99)
    assert mgr.home.tasks_path.read_bytes() == before


def test_save_config_validates_then_writes(mgr: AutomationManager) -> None:
    mgr.config["max_daily_content"] = 9
    mgr.save_config()
    assert json.loads(mgr.home.config_path.read_text())["max_daily_content"] == 9
    assert mgr.workspace.config.max_daily_content == 9
    before = mgr.home.config_path.read_bytes()
    mgr.config["max_daily_content"] = -1
    with pytest.raises(ConfigError, match="max_daily_content"):
        mgr.save_config()
    assert mgr.home.config_path.read_bytes() == before


def test_execute_task_now_runs_logs_and_shows_in_history(mgr: AutomationManager) -> None:
    record = mgr.execute_task_now("content_creation", {"type": "blog", "topic": "tea"})
    assert record["success"] is True and record["status"] == "success"
    assert Path(record["result"]["files"][0]).is_file()
    by_id = mgr.execute_content_creation_task({"type": "social", "topic": "tea"})
    assert by_id["type"] == "social"
    stored = mgr.execute_task_now("monetization", "weekly-sales")
    assert stored["task_id"] == "weekly-sales" and stored["success"]
    history = mgr.get_task_history(days=1)
    assert [r["id"] for r in history] == [stored["id"], by_id["id"], record["id"]]
    only_content = mgr.get_task_history(days=1, category="content_creation")
    assert {r["category"] for r in only_content} == {"content_creation"}


def test_log_task_result_appends_a_record_with_secrets_redacted(mgr: AutomationManager) -> None:
    mgr.log_task_result(
        "publishing",
        {"type": "social", "platform": "twitter", "api_key": "sk-very-secret"},
        {"success": False, "error": "rate limited"},
    )
    (failed,) = mgr.get_task_history(days=1)
    assert failed["status"] == "failed" and failed["error"] == "rate limited"
    assert failed["params"]["api_key"] == "***"
    assert mgr.get_task_history(days=1, success_only=True) == []
