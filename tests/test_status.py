"""``amgr status``: daemon, next runs (local and UTC), runs in progress, quota and budget."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from automation_manager.cli import cli
from automation_manager.engine.state import DaemonInfo, InflightRun, StateStore
from automation_manager.enums import Trigger
from automation_manager.home import Home


@pytest.fixture
def home(tmp_path: Path) -> Path:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "home")])
    assert result.exit_code == 0, result.output
    cfg = json.loads((tmp_path / "home" / "config.json").read_text())
    cfg["timezone"] = "Europe/Berlin"
    (tmp_path / "home" / "config.json").write_text(json.dumps(cfg))
    return tmp_path / "home"


def status(home: Path) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["--home", str(home), "status", "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.output)
    return data


def test_status_json_shape_when_no_daemon_runs(home: Path) -> None:
    data = status(home)
    assert set(data) >= {
        "home",
        "now",
        "timezone",
        "daemon",
        "tasks",
        "unscheduled",
        "in_progress",
        "quota",
        "llm",
    }
    assert data["daemon"] == {"running": False, "pid": None, "started_at": None, "mode": None}
    assert data["timezone"] == "Europe/Berlin"
    tasks = data["tasks"]
    assert isinstance(tasks, list) and tasks
    ids = [t["id"] for t in tasks]
    assert "monthly-ebook" not in ids  # disabled
    first = tasks[0]
    assert set(first["next_due"]) == {"utc", "local"}
    local = datetime.fromisoformat(first["next_due"]["local"])
    assert local == datetime.fromisoformat(first["next_due"]["utc"])
    assert local.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    fire_times = [t["fire_at"]["utc"] for t in tasks]
    assert fire_times == sorted(fire_times)
    assert data["quota"]["content"] == {"used": 0, "limit": 5}
    assert data["in_progress"] == []
    llm = data["llm"]
    assert llm["daily_budget_usd"] == 1.0
    assert llm["provider"] is None or "offline" in llm["provider"] or "openai" in llm["provider"]


def test_status_shows_runs_left_in_flight_as_stale(home: Path) -> None:
    state = StateStore(Home(home))
    state.write_daemon(DaemonInfo(pid=999_999, started_at=datetime.now(UTC)))
    state.add_inflight(
        InflightRun(
            record_id="r1",
            pid=999_999,
            task_id="weekly-blog",
            category="content_creation",
            type="blog",
            trigger=Trigger.SCHEDULED,
            started_at=datetime.now(UTC) - timedelta(seconds=90),
        )
    )
    data = status(home)
    assert data["daemon"]["running"] is False and data["daemon"]["stale_pid"] == 999_999
    (run,) = data["in_progress"]
    assert run["task_id"] == "weekly-blog" and run["stale"] is True and run["running_s"] >= 90
    text = CliRunner().invoke(cli, ["--home", str(home), "status"])
    assert text.exit_code == 0
    assert "not running" in text.output and "weekly-blog" in text.output


def test_status_does_not_import_openai(home: Path) -> None:
    code = (
        "import sys\n"
        "from automation_manager.cli import main\n"
        f"sys.argv = ['amgr', '--home', {str(home)!r}, 'status', '--json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert 'openai' not in sys.modules, 'status imported openai'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "OPENAI_API_KEY": "sk-x"},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["daemon"]["running"] is False


def test_status_on_a_bad_home_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "empty"), "status"])
    assert result.exit_code == 2
